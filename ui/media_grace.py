"""A file made by a deferred download button lives long enough to be downloaded.

Streamlit 1.67 makes a deferred download's file when the button is clicked and keeps it only while
no script run of *any* session ends twice: ``MediaFileManager.remove_orphaned_files`` (called at the
end of every script run, fragment reruns included) marks an unreferenced DOWNLOADABLE file at its
first pass and deletes it at the second. On a classroom server, where every student's live view
reruns once a second, the file was often gone before the browser fetched it: a 404 instead of the
checkpoint (benchmarks/classroom_load.py found it: 3 of 40 downloads failed with three other sessions
watching runs, none on a quiet server).

``install()`` gives every downloadable file a grace period from the moment it was made: until then,
the cleanup does not mark it (so it is deleted at the earliest two cleanups after the grace period).
It changes one method of Streamlit's ``MediaFileMetadata``; tests/test_media_grace.py pins what it
relies on and fails loudly if a Streamlit upgrade moves it.
"""

from __future__ import annotations

import time

from streamlit.runtime import media_file_manager

GRACE_SECONDS = 120.0


def install() -> None:
    """Idempotent: called by every page's set-up."""
    metadata = media_file_manager.MediaFileMetadata
    if getattr(metadata, "_tinylm_grace", False):
        return
    original_init = metadata.__init__

    def __init__(
        self, kind: media_file_manager.MediaFileKind = media_file_manager.MediaFileKind.MEDIA
    ) -> None:
        original_init(self, kind)
        self._tinylm_made = time.monotonic()

    def mark_for_delete(self) -> None:
        young = time.monotonic() - getattr(self, "_tinylm_made", 0.0) < GRACE_SECONDS
        if self.kind == media_file_manager.MediaFileKind.DOWNLOADABLE and young:
            return  # not yet: the browser may still be fetching it
        self._is_marked_for_delete = True

    metadata.__init__ = __init__
    metadata.mark_for_delete = mark_for_delete
    metadata._tinylm_grace = True
