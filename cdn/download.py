"""Fetch a source image's bytes safely.

Image URLs come from scraped data, so they are untrusted input: only http(s) is fetched,
and hosts that resolve to private, loopback, link-local, reserved or multicast addresses
are refused (every resolved address is checked, again after every redirect, and redirects
are followed by hand so that each hop is checked). ``file://`` is accepted only inside
``CDN_LOCAL_SOURCE_ROOTS`` so the bundled sample dataset's images can be stored offline.
Bodies are capped at ``CDN_MAX_BYTES`` (by Content-Length up front and while streaming).

A whole download (every redirect hop, headers and body) ends within
``CDN_DOWNLOAD_DEADLINE`` seconds: the read timeout bounds each socket read only, so a source
that drips a byte at a time (in its headers or its body) would otherwise hold a worker for
hours. A watchdog shuts down the download's sockets at the deadline, which ends any read
that is blocked, and the download fails as a transient ``timeout``.

Known limit: requests resolves the host again when it connects, so a DNS answer that
changes between the check and the connection (DNS rebinding) is not caught here; the
network layer (egress rules of the cdn workers) is the backstop for that.
"""

import contextlib
import ipaddress
import os
import socket
import threading
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from cdn.errors import PermanentImageError, TransientImageError

MAX_REDIRECTS = 3
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_CHUNK_SIZE = 64 * 1024
_USER_AGENT = "creator-analytics-cdn/1.0"


@dataclass(frozen=True)
class Downloaded:
    content: bytes
    content_type: str  # empty for local files
    final_url: str


@dataclass
class _Watch:
    """The sockets of one download, shut down by a timer when its deadline passes."""

    seconds: float
    sockets: list = field(default_factory=list)
    expired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sock) -> None:
        with self.lock:
            self.sockets.append(sock)
            if self.expired:
                self._shut(sock)

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                self._shut(sock)

    @staticmethod
    def _shut(sock) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


_watching = threading.local()


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        watch = getattr(_watching, "watch", None)
        if watch is not None:
            watch.add(self.sock)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        watch = getattr(_watching, "watch", None)
        if watch is not None:
            watch.add(self.sock)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def download_image(url: str) -> Downloaded:
    """Return the bytes of the image at ``url`` or raise Permanent/TransientImageError."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return _read_local_file(url)
    watch = _Watch(settings.CDN_DOWNLOAD_DEADLINE)
    timer = threading.Timer(watch.seconds, watch.expire)
    timer.daemon = True
    session = requests.Session()  # a fresh one: every connection of this download is watched
    adapter = _WatchedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    _watching.watch = watch
    timer.start()
    try:
        return _download(session, url)
    except (PermanentImageError, TransientImageError, requests.RequestException, OSError) as exc:
        if watch.expired:
            raise TransientImageError(f"Download took longer than {watch.seconds:g} s.", code="timeout") from exc
        raise
    finally:
        timer.cancel()
        _watching.watch = None
        session.close()


def _download(session: requests.Session, url: str) -> Downloaded:
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        _check_http_url(current)
        response = _get(session, current)
        try:
            if response.status_code in _REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise PermanentImageError("Redirect without a Location header.", code="bad_redirect")
                current = urljoin(current, location)
                continue
            return Downloaded(content=_read_body(response), content_type=_content_type(response), final_url=current)
        finally:
            response.close()
    raise PermanentImageError(f"More than {MAX_REDIRECTS} redirects.", code="too_many_redirects")


def _get(session: requests.Session, url: str) -> requests.Response:
    timeout = (settings.CDN_CONNECT_TIMEOUT, settings.CDN_READ_TIMEOUT)
    try:
        response = session.get(
            url,
            stream=True,
            timeout=timeout,
            allow_redirects=False,
            headers={"User-Agent": _USER_AGENT, "Accept": "image/*"},
        )
    except requests.Timeout as exc:
        raise TransientImageError(f"Timed out: {exc}", code="timeout") from exc
    except requests.ConnectionError as exc:
        raise TransientImageError(f"Connection failed: {exc}", code="connection_error") from exc
    except requests.RequestException as exc:
        # Invalid URL, bad headers...: the same request would fail the same way again.
        raise PermanentImageError(f"Request failed: {exc}", code="bad_request") from exc
    if response.status_code in _REDIRECT_STATUSES:
        return response
    if response.status_code >= 500 or response.status_code in (408, 429):
        response.close()
        raise TransientImageError(f"HTTP {response.status_code} from the source.", code="http_error")
    if response.status_code != 200:
        response.close()
        raise PermanentImageError(f"HTTP {response.status_code} from the source.", code="http_error")
    return response


def _content_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _read_body(response: requests.Response) -> bytes:
    content_type = _content_type(response)
    if not content_type.startswith("image/"):
        raise PermanentImageError(
            f"Content-Type {content_type or '(none)'!r} is not an image.", code="bad_content_type"
        )
    max_bytes = settings.CDN_MAX_BYTES
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PermanentImageError(f"Content-Length {declared} exceeds {max_bytes} bytes.", code="too_large")
    # The read timeout bounds each read; download_image's watchdog bounds the whole download.
    chunks: list[bytes] = []
    received = 0
    try:
        for chunk in response.iter_content(_CHUNK_SIZE):
            received += len(chunk)
            if received > max_bytes:
                raise PermanentImageError(f"Body exceeds {max_bytes} bytes.", code="too_large")
            chunks.append(chunk)
    except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
        raise TransientImageError(f"Download interrupted: {exc}", code="timeout") from exc
    except requests.RequestException as exc:
        raise PermanentImageError(f"Body could not be read: {exc}", code="bad_body") from exc
    if not received:
        raise PermanentImageError("Empty body.", code="not_an_image")
    return b"".join(chunks)


def _check_http_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise PermanentImageError(f"Scheme {parts.scheme!r} is not allowed.", code="refused_scheme")
    try:
        host = parts.hostname
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:  # a malformed port
        raise PermanentImageError(f"Malformed URL: {exc}", code="bad_url") from exc
    if not host:
        raise PermanentImageError("URL has no host.", code="bad_url")
    if settings.CDN_ALLOW_PRIVATE_SOURCES:
        return
    for address in resolve_addresses(host, port):
        if not is_public_address(address):
            raise PermanentImageError(f"Host {host!r} resolves to a non-public address.", code="refused_address")


def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN:  # the resolver may answer later
            raise TransientImageError(f"Cannot resolve {host!r}: {exc}", code="dns_error") from exc
        raise PermanentImageError(f"Cannot resolve {host!r}: {exc}", code="dns_error") from exc
    except UnicodeError as exc:
        raise PermanentImageError(f"Invalid host name {host!r}.", code="bad_url") from exc
    return [info[4][0] for info in infos]


def is_public_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address the network may route to: mapped (::ffff:a.b.c.d),
        # 6to4 (2002:AABB:CCDD::/48), Teredo (2001::/32: server and client) and NAT64
        # (64:ff9b::/96). Every embedded address must be public too.
        embedded: list[ipaddress.IPv4Address] = []
        if ip.ipv4_mapped is not None:
            embedded.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if embedded:
            return all(_is_public_ip(v4) for v4 in embedded) and ip not in _NAT64
    return _is_public_ip(ip)


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _is_public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def _read_local_file(url: str) -> Downloaded:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise PermanentImageError("file:// URLs must not name a host.", code="refused_scheme")
    real = os.path.realpath(unquote(parts.path))
    roots = [os.path.realpath(str(root)) for root in settings.CDN_LOCAL_SOURCE_ROOTS if str(root)]
    if not any(_is_within(real, root) for root in roots):
        raise PermanentImageError("Local file is outside the allowed source roots.", code="refused_path")
    try:
        size = os.path.getsize(real)
        if size > settings.CDN_MAX_BYTES:
            raise PermanentImageError(f"File exceeds {settings.CDN_MAX_BYTES} bytes.", code="too_large")
        with open(real, "rb") as handle:
            content = handle.read(settings.CDN_MAX_BYTES + 1)
    except OSError as exc:
        raise PermanentImageError(f"Cannot read local file: {exc.strerror}", code="missing_file") from exc
    if len(content) > settings.CDN_MAX_BYTES:
        raise PermanentImageError(f"File exceeds {settings.CDN_MAX_BYTES} bytes.", code="too_large")
    return Downloaded(content=content, content_type="", final_url=url)


def _is_within(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives
        return False
