"""Fetching a web address with limits, against real misbehaving servers on 127.0.0.1.

The servers are on loopback, which a dragged address may not reach: each test lets
through exactly its own first hop (``ALLOWED_PRIVATE``), nothing else, so the redirect
tests show that a hop to another local address is refused by the real check.
"""

from __future__ import annotations

import threading

import pytest

from albumfinder import fetch
from albumfinder.errors import FetchCancelled, FetchError
from albumfinder.fetch import fetch_bytes, is_public_address
from slow_server import serve_badly

JOIN_S = 20  # generous: the old code ran until the server gave up (30 s)


@pytest.fixture(autouse=True)
def online(monkeypatch):
    monkeypatch.delenv("ALBUMFINDER_OFFLINE", raising=False)


@pytest.fixture
def server(monkeypatch):
    with serve_badly({"photo.png": b"\x89PNG fake photo bytes"}) as (address, port):
        monkeypatch.setattr(fetch, "ALLOWED_PRIVATE", {("127.0.0.1", port)})
        yield address


def _run(fn) -> tuple[threading.Thread, list]:
    """``fn`` on a thread; the list gets its exception (or result)."""
    outcome: list = []

    def target():
        try:
            outcome.append(fn())
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def test_a_whole_body_is_returned(server):
    assert fetch_bytes(f"{server}/file/photo.png") == b"\x89PNG fake photo bytes"


def test_a_trickling_server_is_stopped_by_the_total_deadline(server):
    # one byte every 20 ms: each read gets data, so only a total deadline ends it
    with pytest.raises(FetchError) as caught:
        fetch_bytes(f"{server}/trickle", deadline_s=1.0)
    assert "took too long" in caught.value.reason


def test_a_silent_server_is_stopped_by_the_stall_timeout(server):
    with pytest.raises(FetchError) as caught:
        fetch_bytes(f"{server}/silent", stall_s=0.5, deadline_s=30)
    assert "timed out" in caught.value.reason


def test_cancel_stops_a_fetch_from_a_silent_server(server):
    stop = threading.Event()
    thread, outcome = _run(lambda: fetch_bytes(f"{server}/silent", should_stop=stop.is_set))
    thread.join(0.5)
    assert thread.is_alive()  # waiting on the server
    stop.set()
    thread.join(JOIN_S)
    assert not thread.is_alive()
    assert isinstance(outcome[0], FetchCancelled)


def test_a_body_cut_short_is_an_error(server):
    with pytest.raises(FetchError) as caught:
        fetch_bytes(f"{server}/short")
    assert "incomplete" in caught.value.reason
    assert "500 of 1000" in caught.value.detail


def test_a_body_over_the_cap_is_an_error_not_data(server):
    with pytest.raises(FetchError, match="more than 1000000 bytes") as caught:
        fetch_bytes(f"{server}/endless", max_bytes=1_000_000)
    assert "too large" in caught.value.reason


def test_only_web_addresses_are_fetched(server):
    with pytest.raises(FetchError, match="refused ftp"):
        fetch_bytes("ftp://127.0.0.1/photo.png")
    with pytest.raises(FetchError, match="refused file"):
        fetch_bytes(f"{server}/redirect?to=file:///etc/passwd")
    with pytest.raises(FetchError, match="refused ftp"):
        fetch_bytes(f"{server}/redirect?to=ftp://example.com/photo.png")


def test_redirects_to_local_addresses_are_refused(server):
    # a redirect to the allowed address itself works (redirects are followed) ...
    photo = fetch_bytes(f"{server}/redirect?to={server}/file/photo.png")
    assert photo.startswith(b"\x89PNG")
    # ... but not to another service on this machine, by name or by address
    with serve_badly({"secret": b"private"}) as (other, port):
        for target in (f"{other}/file/secret", f"http://localhost:{port}/file/secret"):
            with pytest.raises(FetchError, match="not a public address") as caught:
                fetch_bytes(f"{server}/redirect?to={target}")
            assert "local network" in caught.value.reason


def test_a_public_name_that_resolves_to_loopback_is_refused(server):
    port = int(server.rsplit(":", 1)[1])

    def rebinding(host, _port):  # a public-looking name whose DNS answers 127.0.0.1
        return ["127.0.0.2"] if host == "photos.example.com" else fetch.system_resolver(host, port)

    with pytest.raises(FetchError, match="not a public address"):
        fetch_bytes(f"http://photos.example.com:{port}/file/photo.png", resolver=rebinding)


def test_public_addresses():
    assert is_public_address("93.184.216.34") and is_public_address("2606:2800:220:1::1")
    for local in ("127.0.0.1", "10.1.2.3", "192.168.1.1", "169.254.1.1", "::1", "fe80::1",
                  "::ffff:127.0.0.1", "0.0.0.0", "224.0.0.1", "not an address"):  # fmt: skip
        assert not is_public_address(local), local


def test_offline_fetches_nothing(server, monkeypatch):
    monkeypatch.setenv("ALBUMFINDER_OFFLINE", "1")
    with pytest.raises(FetchError, match="offline"):
        fetch_bytes(f"{server}/file/photo.png")
