"""Offline, the default-model decision is fast: a failed reach of the download server is
remembered for a while (issue 9, should-fix), so runs do not wait for the network each time."""

from __future__ import annotations

import http.server
import threading

import pytest

from albumfinder.embedding import loading as choice_module
from albumfinder.embedding.loading import default_model_name
from albumfinder.models.weights import MIRROR_ENV


class _CountingServer(http.server.ThreadingHTTPServer):
    """Answers every HEAD with ``status`` and counts the requests (127.0.0.1 only)."""

    def __init__(self, status: int) -> None:
        server = self
        server.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:  # noqa: N802
                server.requests += 1
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def mirror(monkeypatch):
    monkeypatch.delenv("ALBUMFINDER_OFFLINE", raising=False)
    servers = []

    def start(status: int) -> _CountingServer:
        server = _CountingServer(status)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        monkeypatch.setenv(MIRROR_ENV, f"http://127.0.0.1:{server.server_port}")
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_failed_reach_is_remembered_and_then_retried(mirror, monkeypatch):
    down = mirror(503)
    name, reason = default_model_name()
    assert name == "builtin" and "could not be reached" in reason
    assert down.requests == 1
    for _ in range(3):  # the next runs decide at once, without asking the server
        assert default_model_name()[0] == "builtin"
    assert down.requests == 1

    # after the memory has passed, the server is asked again, and a success is believed
    up = mirror(200)
    now = choice_module.time.time()
    monkeypatch.setattr(
        choice_module.time, "time", lambda: now + choice_module.UNREACHABLE_MEMORY_S + 1
    )
    assert default_model_name() == ("dinov2-small", None)
    assert up.requests == 1


def test_a_remembered_failure_is_per_server(mirror):
    mirror(503)
    assert default_model_name()[0] == "builtin"
    other = mirror(200)  # another mirror: its own check
    assert default_model_name() == ("dinov2-small", None)
    assert other.requests == 1
