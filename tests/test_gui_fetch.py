"""Web addresses and image data dropped on the window: slow servers never stop a local
search or Quit, and a dropped image is encoded once, off the GUI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QImage

from albumfinder.gui import drop_zone, main_window
from slow_server import serve_badly

from gui_support import drop_files, drop_mime, index_folder
from photo_factory import make_album, make_photo

WAIT_MS = 20_000  # the old code answered only when the slow servers gave up (30 s)


def _drop_url(window, url: str) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl(url)])
    assert drop_mime(window.drop_zone, mime)


def test_slow_web_drops_never_hold_up_a_local_search(qtbot, window, tmp_path, monkeypatch):
    album = tmp_path / "album"
    photos = make_album(album, 6)
    index_folder(qtbot, window, album)
    monkeypatch.delenv("ALBUMFINDER_OFFLINE")
    with serve_badly() as (address, port):
        monkeypatch.setattr("albumfinder.fetch.ALLOWED_PRIVATE", {("127.0.0.1", port)})
        _drop_url(window, f"{address}/trickle")  # one byte every 20 ms, for 30 s
        _drop_url(window, f"{address}/trickle?again")
        with qtbot.waitSignal(window.searchFinished, timeout=WAIT_MS) as answer:
            drop_files(window.drop_zone, photos[2])
        assert answer.args[0] and answer.args[0][0].path != str(photos[2])


def test_quit_stops_a_fetch_from_a_slow_server(qtbot, window, monkeypatch):
    monkeypatch.delenv("ALBUMFINDER_OFFLINE")
    with serve_badly() as (address, port):
        monkeypatch.setattr("albumfinder.fetch.ALLOWED_PRIVATE", {("127.0.0.1", port)})
        _drop_url(window, f"{address}/drip")  # a byte every 100 ms, for 90 s
        qtbot.waitUntil(lambda: window.engine.is_fetching, timeout=WAIT_MS)  # bytes coming
        window.close()  # Quit: the fetch is cancelled, nothing is left running
        assert window.engine.pools.wait(WAIT_MS)


def test_a_cut_off_web_photo_is_an_error_not_a_search(qtbot, window, monkeypatch):
    monkeypatch.delenv("ALBUMFINDER_OFFLINE")
    with serve_badly() as (address, port):
        monkeypatch.setattr("albumfinder.fetch.ALLOWED_PRIVATE", {("127.0.0.1", port)})
        _drop_url(window, f"{address}/short")
        qtbot.waitUntil(window.banner.isVisible, timeout=WAIT_MS)
    assert "Could not get the photo" in window.banner.message()
    assert "incomplete" in window.banner.message()


def test_dropped_image_data_is_encoded_once_off_the_gui_thread(
    qtbot, window, tmp_path, monkeypatch
):
    album = tmp_path / "album"
    photos = make_album(album, 6)
    index_folder(qtbot, window, album)
    real = drop_zone.encode_png
    calls: list[bool] = []  # True: on the GUI thread

    def spy(image):
        calls.append(threading.current_thread() is threading.main_thread())
        return real(image)

    monkeypatch.setattr(drop_zone, "encode_png", spy)
    monkeypatch.setattr(main_window, "encode_png", spy, raising=False)
    photo = make_photo(103, (640, 480))  # photo_003's twin
    mime = QMimeData()
    mime.setImageData(QImage(photo.tobytes(), 640, 480, 640 * 3, QImage.Format.Format_RGB888))
    with qtbot.waitSignal(window.searchFinished, timeout=60_000) as answer:
        assert drop_mime(window.drop_zone, mime)
    assert answer.args[0][0].path == str(photos[3])
    assert calls == [False]
