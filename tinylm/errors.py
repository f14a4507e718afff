"""Errors a user can cause (bad text, bad settings, bad checkpoint).

Every such error is a :class:`TinyLMError` with a stable ``code`` and the ``params`` that fill its
message. The CLI prints the English ``message``; the app looks the code up in its 中文 / English string
tables (``error.<code>``) and formats it with ``params``, so a student reads it in their own language.
Programming mistakes (wrong types, broken invariants) stay ordinary exceptions.
"""

from __future__ import annotations

import reprlib
from typing import Any


class TinyLMError(Exception):
    """A user-facing error with a stable code, English message and message parameters."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return self.message


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 30
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxset = 3
_SHORT.maxlevel = 2


def short_repr(value: Any) -> str:
    """A value from an uploaded or loaded file inside an error message: its repr, cut short (cheap for
    any size), e.g. ``short_repr("x" * 10**6)`` is ``"'xxxxxxxxxxxx...xxxxxxxxxxxxx'"``."""
    return _SHORT.repr(value)
