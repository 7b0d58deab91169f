"""Reading a web address with limits: a photo dragged from a browser, a model's weights.

Every fetch has a total deadline and a stall timeout (no byte for ``stall_s``), honours
``should_stop`` within a second (a watchdog shuts the socket down, so even a read that
waits on a silent server returns), speaks http(s) only, and treats a body that is cut off
(fewer bytes than Content-Length, or more than ``max_bytes``) as an error, never as data.

A dragged web address may not lead to this machine or the local network: the address
every hop resolves to is checked (and connected to as checked), redirects included.
:data:`ALLOWED_PRIVATE` lists (address, port) pairs that are let through all the same:
empty in the app; a test widens it for its own server only.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import ipaddress
import os
import select
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from albumfinder.errors import FetchCancelled, FetchError
from albumfinder.paths import downloads_off

USER_AGENT = "AlbumFinder"
READ_CHUNK = 64 * 1024
MAX_REDIRECTS = 5
POLL_S = 0.2  # how often the watchdog looks at should_stop and the deadline
#: (address, port) pairs a fetch may reach although they are not public (tests only).
ALLOWED_PRIVATE: set[tuple[str, int]] = set()

Resolver = Callable[[str, int], list[str]]


NO_CONNECTION = "No internet connection: could not reach the download server"
TOO_SLOW = "The server stopped sending: the download timed out"


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the OS boundary a test may replace)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public_address(address: str) -> bool:
    """True for an address on the internet; False for loopback, private, link-local,
    multicast, reserved, and IPv6 spellings of those (``::ffff:127.0.0.1``)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass
class _Limits:
    deadline: float | None  # time.monotonic() by which the whole fetch must be done
    stall_s: float
    should_stop: Callable[[], bool] | None


class _Watchdog:
    """Shuts the current socket down when the fetch is cancelled or out of time, so a
    blocking connect or read returns at once; ``why`` then says which."""

    def __init__(self, limits: _Limits) -> None:
        self.limits = limits
        self.why: str | None = None
        self.sock: socket.socket | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="fetch-watchdog", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(POLL_S):
            why = self.check()
            if why is not None:
                self.why = why
                sock = self.sock
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                return

    def check(self) -> str | None:
        stop = self.limits.should_stop
        if stop is not None and stop():
            return "cancelled"
        if self.limits.deadline is not None and time.monotonic() > self.limits.deadline:
            return "deadline"
        return None

    def raise_if_stopped(self) -> None:
        why = self.why or self.check()
        if why == "cancelled":
            raise FetchCancelled("The download was cancelled", "cancelled")
        if why == "deadline":
            raise FetchError(
                "The server took too long: the download was stopped",
                "the total time limit for the download ran out",
            )

    def close(self) -> None:
        self._done.set()


def _check_url(url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(
            "Only web addresses (http or https) can be fetched",
            f"refused {parts.scheme or 'an address without a scheme'}: {url}",
        )
    return parts


def _pick_address(host: str, port: int, resolver: Resolver, public_only: bool) -> str:
    try:
        addresses = resolver(host, port)
    except OSError as exc:
        raise FetchError(NO_CONNECTION, f"could not resolve {host}: {exc}") from exc
    if not addresses:
        raise FetchError(NO_CONNECTION, f"{host} resolves to no address")
    if not public_only:
        return addresses[0]
    for address in addresses:
        if is_public_address(address) or (address, port) in ALLOWED_PRIVATE:
            return address
    raise FetchError(
        "That address leads to this computer or the local network, which is not fetched",
        f"refused {host}:{port} ({', '.join(addresses)}): not a public address",
    )


def _connection(
    scheme: str, host: str, port: int, address: str, watchdog: _Watchdog, stall_s: float
) -> http.client.HTTPConnection:
    """A connection to ``host`` made to ``address`` exactly (no second lookup that could
    answer differently); TLS still checks the certificate against the host name."""
    cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    conn = cls(host, port, timeout=stall_s)

    def create_connection(
        _address: object, timeout: float | None = None, source_address: object = None
    ) -> socket.socket:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        watchdog.sock = sock
        try:
            _connect(sock, (address, port), stall_s if timeout is None else timeout, watchdog)
        except BaseException:
            sock.close()
            raise
        sock.settimeout(timeout)
        return sock

    conn._create_connection = create_connection  # type: ignore[attr-defined]
    return conn


def _connect(
    sock: socket.socket, address: tuple[Any, ...], timeout: float, watchdog: _Watchdog
) -> None:
    """Connect without blocking for longer than a poll, so Cancel works while connecting."""
    sock.setblocking(False)
    err = sock.connect_ex(address)
    give_up = time.monotonic() + timeout
    while err in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY):
        watchdog.raise_if_stopped()
        _, writable, _ = select.select([], [sock], [], POLL_S)
        if writable:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            break
        if time.monotonic() > give_up:
            raise TimeoutError(f"no answer from {address[0]} within {timeout:.0f} s")
    if err:
        raise ConnectionError(err, os.strerror(err))


def _describe(exc: BaseException, host: str, got_any: bool) -> FetchError:
    if isinstance(exc, FetchError):
        return exc
    if isinstance(exc, TimeoutError | socket.timeout):
        return FetchError(TOO_SLOW, f"{host}: no data for too long ({exc})")
    if got_any or isinstance(exc, http.client.HTTPException):
        return FetchError(
            "The download broke off: the connection was lost", f"{host}: {exc or type(exc)}"
        )
    return FetchError(NO_CONNECTION, f"could not reach {host}: {exc}")


@dataclass
class Response:
    """An open response: iterate :meth:`chunks` for the body (checked for completeness)."""

    url: str
    total: int  # Content-Length, 0 when the server did not say
    _conn: http.client.HTTPConnection
    _response: http.client.HTTPResponse
    _watchdog: _Watchdog
    _max_bytes: int | None

    def chunks(self) -> Iterator[bytes]:
        host = urllib.parse.urlsplit(self.url).netloc
        done = 0
        while True:
            self._watchdog.raise_if_stopped()
            try:
                chunk = self._response.read1(READ_CHUNK)
            except BaseException as exc:
                self._watchdog.raise_if_stopped()
                raise _describe(exc, host, done > 0) from exc
            if not chunk:
                break
            done += len(chunk)
            if self._max_bytes is not None and done > self._max_bytes:
                raise FetchError(
                    f"The file is too large (over {self._max_bytes / 1e6:,.0f} MB)",
                    f"{self.url}: more than {self._max_bytes} bytes",
                )
            yield chunk
        self._watchdog.raise_if_stopped()  # a shut-down socket reads as the end
        if self.total and done != self.total:
            raise FetchError(
                "The download broke off: the file is incomplete",
                f"{host}: broke off after {done} of {self.total} bytes",
            )

    def close(self) -> None:
        self._watchdog.close()
        with contextlib.suppress(Exception):
            self._conn.close()


@contextlib.contextmanager
def open_url(
    url: str,
    *,
    deadline_s: float | None = 60.0,
    stall_s: float = 15.0,
    max_bytes: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    public_only: bool = True,
    resolver: Resolver = system_resolver,
    user_agent: str = USER_AGENT,
) -> Iterator[Response]:
    """GET ``url`` (following up to 5 redirects, each hop checked) and yield the response.

    ``public_only`` refuses every hop that resolves to a loopback or private address
    (except :data:`ALLOWED_PRIVATE`); the weights download turns it off, since a mirror in
    the company network is a use it has.
    """
    limits = _Limits(
        None if deadline_s is None else time.monotonic() + deadline_s, stall_s, should_stop
    )
    watchdog = _Watchdog(limits)
    response = None
    try:
        response = _follow(url, limits, watchdog, max_bytes, public_only, resolver, user_agent)
        yield response
    finally:
        if response is not None:
            response.close()
        watchdog.close()


def _proxy_for(parts: urllib.parse.SplitResult) -> urllib.parse.SplitResult | None:
    """The proxy the environment names for ``parts`` (``https_proxy``, ``no_proxy``…)."""
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    proxy_parts = urllib.parse.urlsplit(proxy)
    return proxy_parts if proxy_parts.hostname else None


def _follow(
    url: str,
    limits: _Limits,
    watchdog: _Watchdog,
    max_bytes: int | None,
    public_only: bool,
    resolver: Resolver,
    user_agent: str,
) -> Response:
    for _hop in range(MAX_REDIRECTS + 1):
        parts = _check_url(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        watchdog.raise_if_stopped()
        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        proxy = None if public_only else _proxy_for(parts)
        if proxy is None:
            address = _pick_address(parts.hostname or "", port, resolver, public_only)
            conn = _connection(
                parts.scheme, parts.hostname or "", port, address, watchdog, limits.stall_s
            )
        else:  # the weights download honours http_proxy / https_proxy, as urllib does
            proxy_host, proxy_port = proxy.hostname or "", proxy.port or 80
            address = _pick_address(proxy_host, proxy_port, resolver, False)
            scheme = "https" if parts.scheme == "https" else "http"
            conn = _connection(scheme, proxy_host, proxy_port, address, watchdog, limits.stall_s)
            if parts.scheme == "https":
                conn.set_tunnel(parts.hostname or "", port)
            else:
                target = url  # a plain-HTTP proxy takes the whole address
        try:
            conn.request(
                "GET",
                target,
                headers={"User-Agent": user_agent, "Connection": "close", "Accept": "*/*"},
            )
            response = conn.getresponse()
        except BaseException as exc:
            conn.close()
            watchdog.raise_if_stopped()
            raise _describe(exc, parts.netloc, False) from exc
        if response.status in (301, 302, 303, 307, 308):
            location = response.getheader("Location") or ""
            conn.close()
            if not location:
                raise FetchError("The server sent a broken redirect", f"{url}: no Location")
            url = urllib.parse.urljoin(url, location)
            continue
        if response.status != 200:
            conn.close()
            raise FetchError(
                f"The server answered {response.status} ({response.reason or 'error'})",
                f"{parts.netloc} answered {response.status} for {url}",
                status=response.status,
            )
        try:
            total = int(response.getheader("Content-Length") or 0)
        except ValueError:
            total = 0
        if max_bytes is not None and total > max_bytes:
            conn.close()
            raise FetchError(
                f"The file is too large ({total / 1e6:,.0f} MB)",
                f"{url}: Content-Length {total} over the limit of {max_bytes}",
            )
        return Response(url, total, conn, response, watchdog, max_bytes)
    raise FetchError("The server redirected too often", f"more than {MAX_REDIRECTS} redirects")


def fetch_bytes(
    url: str,
    *,
    max_bytes: int = 64 * 1024 * 1024,
    deadline_s: float = 60.0,
    stall_s: float = 15.0,
    should_stop: Callable[[], bool] | None = None,
    resolver: Resolver = system_resolver,
) -> bytes:
    """The whole body at ``url`` (a photo dragged from a web page by its address): public
    addresses only, complete or an error, within ``deadline_s``. Offline, nothing is fetched."""
    if downloads_off():
        raise FetchError(
            "Downloads are off (offline), so the photo at that address can't be fetched"
        )
    with open_url(
        url,
        deadline_s=deadline_s,
        stall_s=stall_s,
        max_bytes=max_bytes,
        should_stop=should_stop,
        resolver=resolver,
    ) as response:
        return b"".join(response.chunks())
