"""An HTTP server on 127.0.0.1 that misbehaves on purpose: it trickles, goes silent, cuts
bodies short, redirects. Every loop is bounded and stops when the test ends or the client
hangs up, so no test can hang on it.

``GET /trickle``: Content-Length 100000, one byte every 20 ms (30 s at most); ``/drip``:
one byte every 100 ms (90 s at most); ``/silent``: headers, then
nothing; ``/short``: Content-Length 1000, 500 bytes, then the connection closes;
``/endless``: no Content-Length, 64 KiB chunks until the client stops; ``/redirect?to=URL``:
302 to URL; ``/file/NAME``: ``files[NAME]``. Asked as a proxy (``GET http://…``), it
answers "proxied" and the address.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import urllib.parse
from collections.abc import Iterator

MAX_LOOPS = 1500  # 30 s of trickling at most, whatever the client does


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    stop: threading.Event

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        parts = urllib.parse.urlsplit(self.path)
        route = parts.path.strip("/")
        if self.path.startswith("http://"):  # asked as a proxy: say so in the body
            route, self.files = "file/proxied", {"proxied": f"proxied {self.path}".encode()}
        try:
            if route == "trickle":
                self._headers(100_000)
                for _ in range(MAX_LOOPS):
                    if self.stop.wait(0.02):
                        break
                    self.wfile.write(b"x")
                    self.wfile.flush()
            elif route == "drip":  # one byte every 100 ms, for 90 s at most
                self._headers(100_000)
                for _ in range(900):
                    if self.stop.wait(0.1):
                        break
                    self.wfile.write(b"x")
                    self.wfile.flush()
            elif route == "silent":
                self._headers(1000)
                self.stop.wait(30)
            elif route == "short":
                self._headers(1000)
                self.wfile.write(b"y" * 500)
                self.close_connection = True
            elif route == "endless":
                self.send_response(200)
                self.end_headers()
                for _ in range(MAX_LOOPS):
                    if self.stop.is_set():
                        break
                    self.wfile.write(b"z" * 65536)
                self.close_connection = True
            elif route == "redirect":
                target = urllib.parse.parse_qs(parts.query)["to"][0]
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif route.startswith("file/") and route[5:] in self.files:
                body = self.files[route[5:]]
                self._headers(len(body))
                self.wfile.write(body)
            else:
                self.send_error(404)
        except (ConnectionError, OSError):  # the client hung up: what a test wants
            self.close_connection = True

    def _headers(self, length: int) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.flush()

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve_badly(files: dict[str, bytes] | None = None) -> Iterator[tuple[str, int]]:
    """Yields the base address (``http://127.0.0.1:PORT``) and the port."""

    class Handler(_Handler):
        pass

    Handler.files = dict(files or {})
    Handler.stop = threading.Event()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    try:
        yield f"http://127.0.0.1:{port}", port
    finally:
        Handler.stop.set()
        httpd.shutdown()
        httpd.server_close()
