"""A real HTTP server on 127.0.0.1 for the download tests (weights, a photo dragged from a browser).

``GET /<name>`` serves ``files[name]``; ``/drop/<name>`` stops after half the bytes (a dropped
connection); ``/slow/<name>`` sends 64 KiB every 20 ms (time to cancel).
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator

CHUNK = 64 * 1024


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        mode, _, name = self.path.lstrip("/").partition("/")
        if mode not in ("drop", "slow"):
            mode, name = "", self.path.lstrip("/")
        body = self.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if mode == "drop":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            elif mode == "slow":
                for start in range(0, len(body), CHUNK):
                    self.wfile.write(body[start : start + CHUNK])
                    self.wfile.flush()
                    time.sleep(0.02)
            else:
                self.wfile.write(body)
        except ConnectionError:  # the client hung up (a cancelled download)
            self.close_connection = True

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(files: dict[str, bytes]) -> Iterator[tuple[str, dict[str, bytes]]]:
    """Serve ``files``: yields the base address (``http://127.0.0.1:41234``) and the served
    dict, to which a test may add files while the server runs."""

    class Handler(_Handler):
        pass

    Handler.files = dict(files)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", Handler.files
    finally:
        httpd.shutdown()
        httpd.server_close()
