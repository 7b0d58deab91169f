"""The weights download against slow servers on 127.0.0.1, and what killed downloads left."""

from __future__ import annotations

import os
import threading
import time

import pytest

from albumfinder import paths
from albumfinder.library import Library
from albumfinder.models import get_spec
from albumfinder.models.weights import DownloadCancelled, WeightsError, download_weights
from slow_server import serve_badly

SMALL = get_spec("dinov2-small")
JOIN_S = 20  # generous: the old code ran until the server gave up (30 s)


@pytest.mark.parametrize("route", ["trickle", "silent"])
def test_cancel_stops_a_download_from_a_slow_server(route):
    stop = threading.Event()
    outcome: list[BaseException] = []

    def download():
        try:
            download_weights(SMALL, url=f"{address}/{route}", should_stop=stop.is_set)
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    with serve_badly() as (address, _port):
        thread = threading.Thread(target=download, daemon=True)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # still receiving (or waiting for) bytes
        stop.set()
        thread.join(JOIN_S)
        assert not thread.is_alive()
    assert isinstance(outcome[0], DownloadCancelled)
    assert outcome[0].reason == "The download was cancelled."
    assert [p.name for p in paths.weights_dir().iterdir()] == []


def test_download_failures_carry_words_for_people():
    with (
        serve_badly() as (address, port),
        pytest.raises(WeightsError, match="broke off after 500 of 1000") as short,
    ):
        download_weights(SMALL, url=f"{address}/short")
    assert short.value.reason == "The download broke off: the file is incomplete"
    with pytest.raises(WeightsError, match=f"could not reach 127.0.0.1:{port}") as gone:
        download_weights(SMALL, url=f"http://127.0.0.1:{port}/{SMALL.weights_filename}")
    assert gone.value.reason == "No internet connection: could not reach the download server"


def test_a_killed_downloads_part_file_is_cleaned_at_the_next_start():
    folder = paths.weights_dir()
    dead = folder / f".{SMALL.weights_filename}.k1ll3d.part"  # a download killed an hour ago
    dead.write_bytes(b"half a checkpoint")
    hour_ago = time.time() - 3600
    os.utime(dead, (hour_ago, hour_ago))
    live = folder / ".dinov2_vitb14_pretrain.pth.l1ve.part"  # another process downloads now
    live.write_bytes(b"still coming")
    mine = folder / SMALL.weights_filename  # never touched
    mine.write_bytes(b"weights")
    os.utime(mine, (hour_ago, hour_ago))
    Library().close()  # what the app and the CLI open at start
    assert sorted(p.name for p in folder.iterdir()) == sorted([live.name, mine.name])


def test_the_download_goes_through_the_proxy_the_environment_names(monkeypatch):
    from albumfinder import fetch

    with serve_badly() as (proxy, _port):
        monkeypatch.setenv("http_proxy", proxy)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        with fetch.open_url("http://weights.example.com/w.pth", public_only=False) as response:
            body = b"".join(response.chunks())
    assert body == b"proxied http://weights.example.com/w.pth"
