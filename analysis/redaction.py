"""What of a job's error a user may read: never a server path.

Error details come from exceptions (``FileNotFoundError: '/srv/app/media/...'``, a
traceback's file names): staff read them whole in the admin; the API and the job's event
stream show them with every filesystem path replaced.
"""

import re

# A Unix path of two or more segments, or a Windows drive path; URLs keep their paths (the
# scheme and host are what a user needs to recognise the source).
_UNIX_PATH = re.compile(r"(?<![\w:/.])(?:/[\w.@+-]+){2,}/?")
_WINDOWS_PATH = re.compile(r"\b[A-Za-z]:\\[^\s'\"]+")


def public_detail(detail: str) -> str:
    return _WINDOWS_PATH.sub("[path]", _UNIX_PATH.sub("[path]", detail or ""))
