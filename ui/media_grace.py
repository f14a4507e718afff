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
The same race hits the click itself: a deferred button's callable is dropped at any session's cleanup
once no session's current run references it, so a click on a button that a rerun (a live view's timer)
has just drawn again found "Deferred file ... not found" (the 30-student lesson: 1 of 90 downloads).
``install()`` keeps each deferred callable for DEFERRED_GRACE_SECONDS after it was registered, too.

It changes one method of Streamlit's ``MediaFileMetadata`` and wraps two of ``MediaFileManager``;
tests/test_media_grace.py pins what it relies on and fails loudly if a Streamlit upgrade moves it.
"""

from __future__ import annotations

import time

from streamlit.runtime import media_file_manager

GRACE_SECONDS = 120.0
DEFERRED_GRACE_SECONDS = 60.0  # a click may come this long after its button was drawn


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
    _install_deferred_grace(media_file_manager.MediaFileManager)


def _install_deferred_grace(manager_class: type) -> None:
    """A deferred callable stays registered for DEFERRED_GRACE_SECONDS, referenced or not."""
    original_add = manager_class.add_deferred
    original_remove = manager_class._remove_orphaned_deferred_callables

    def add_deferred(self, *args, **kwargs) -> str:
        file_id = original_add(self, *args, **kwargs)
        with self._lock:
            self.__dict__.setdefault("_tinylm_deferred_made", {})[file_id] = time.monotonic()
        return file_id

    def remove_orphaned_deferred_callables(self) -> None:  # the caller holds self._lock
        made = self.__dict__.setdefault("_tinylm_deferred_made", {})
        now = time.monotonic()
        young = {
            file_id: entry
            for file_id, entry in self._deferred_callables.items()
            if now - made.get(file_id, float("-inf")) < DEFERRED_GRACE_SECONDS
        }
        for file_id in young:  # hidden from Streamlit's scan, then put back
            del self._deferred_callables[file_id]
        try:
            original_remove(self)
        finally:
            self._deferred_callables.update(young)
        for file_id in [f for f in made if f not in self._deferred_callables]:
            del made[file_id]  # bounded: only the registered ones are remembered

    manager_class.add_deferred = add_deferred
    manager_class._remove_orphaned_deferred_callables = remove_orphaned_deferred_callables
