"""ui/media_grace.py: a deferred download's file survives other sessions' script runs for a while."""

from __future__ import annotations

import time

from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from ui import media_grace


def made_download(manager: MediaFileManager) -> str:
    placeholder = manager.add_deferred(lambda: b"checkpoint bytes", "application/zip", "model.zip")
    url = manager.execute_deferred(placeholder)
    return url.rsplit("/", 1)[-1].split(".", 1)[0]  # /media/<file id>.<extension>


def test_a_deferred_download_survives_other_sessions_runs_during_its_grace_period(monkeypatch):
    media_grace.install()
    media_grace.install()  # idempotent
    manager = MediaFileManager(MemoryMediaFileStorage("/media"))
    file_id = made_download(manager)
    for _ in range(5):  # five script runs of other sessions end while the browser fetches the file
        manager.remove_orphaned_files()
    assert manager.read_file(file_id) is not None
    # After the grace period the cleanup takes it at its next two passes, as Streamlit would.
    later = time.monotonic() + media_grace.GRACE_SECONDS + 1
    monkeypatch.setattr(media_grace.time, "monotonic", lambda: later)
    manager.remove_orphaned_files()
    manager.remove_orphaned_files()
    assert manager.read_file(file_id) is None


def test_a_deferred_button_s_callable_survives_cleanups_after_a_rerun_drew_it_again(monkeypatch):
    media_grace.install()
    manager = MediaFileManager(MemoryMediaFileStorage("/media"))
    placeholder = manager.add_deferred(lambda: b"model", "application/zip", "model.zip")
    manager.clear_session_refs()  # the session's next run no longer references this placeholder
    for _ in range(5):  # ... and other sessions' runs end before the student's click arrives
        manager.remove_orphaned_files()
    assert manager.execute_deferred(placeholder).startswith("/media/")
    later = time.monotonic() + media_grace.DEFERRED_GRACE_SECONDS + 1
    monkeypatch.setattr(media_grace.time, "monotonic", lambda: later)
    stale = manager.add_deferred(lambda: b"model", "application/zip", "model.zip")
    manager.clear_session_refs()
    manager.remove_orphaned_files()  # one registered "now" (= later) is young: kept; none stays forever:
    assert stale in manager._deferred_callables
    monkeypatch.setattr(media_grace.time, "monotonic", lambda: later + media_grace.DEFERRED_GRACE_SECONDS + 1)
    manager.remove_orphaned_files()
    assert stale not in manager._deferred_callables and not manager._tinylm_deferred_made


def test_what_the_grace_period_relies_on_in_streamlit_is_still_there():
    from streamlit.runtime import media_file_manager

    metadata = media_file_manager.MediaFileMetadata(media_file_manager.MediaFileKind.DOWNLOADABLE)
    assert hasattr(metadata, "_is_marked_for_delete") and callable(metadata.mark_for_delete)
    assert callable(MediaFileManager.remove_orphaned_files) and callable(MediaFileManager.execute_deferred)
    assert callable(MediaFileManager._remove_orphaned_deferred_callables)
    assert hasattr(MediaFileManager(MemoryMediaFileStorage("/media")), "_deferred_callables")
