"""Request ids for log lines: a context variable set by the middleware.

Every log record gets a ``request_id`` attribute ("-" outside a request) when it is created,
so that any handler or formatter can print it (the console formatters in settings do), and
tests or error trackers see it on the record itself. The filter does the same for handlers
configured before this module was imported.
"""

import contextvars
import logging

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_base_factory = logging.getLogRecordFactory()


def _record_factory(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    record.request_id = request_id_var.get()
    return record


def install_record_factory() -> None:
    """Make every new log record carry the current request id (idempotent)."""
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


# Imported by the LOGGING config (the filter above) at start-up: install then.
install_record_factory()
