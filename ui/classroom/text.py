"""Class codes, secret keys and the names people type: made, cleaned and compared here.

* A class code is what a teacher reads out or writes on the board, so it avoids the characters that
  look alike (0/O, 1/I): 6 characters from 32 give ~10⁹ codes, plenty for the few hundred classes
  alive at once, and the database refuses a duplicate anyway.
* The teacher key and the member tokens are random (``secrets``); the database keeps only their
  SHA-256, so a copy of it (a backup, a dump) does not let anyone act as a teacher or a student.
  The keys carry 192 / 128 random bits, so a fast unsalted hash is enough: there is nothing to guess.
* A display name ends up on the teacher's projector: it is NFKC-normalised (full-width letters become
  plain ones), loses control, format (bidi overrides, zero-width) and private-use characters, has its
  runs of spaces collapsed, and is cut to a maximum length.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, no 1/I
CODE_LENGTH = 6
TEACHER_KEY_BYTES = 24  # secrets.token_urlsafe(24): 32 characters
MEMBER_TOKEN_BYTES = 16
MAX_SECRET_CHARS = 128  # longer input is not one of our keys: refused before hashing

# Cc control, Cf format (bidi overrides, zero-width joiners...), Co private use, Cs lone surrogates,
# Cn unassigned, Zl/Zp line/paragraph separators.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}
_SPACES = re.compile(r"\s+")
_SECRET = re.compile(r"[A-Za-z0-9_-]+")


def new_class_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str | None:
    """A typed code in its stored form (upper case, no spaces or dashes), or None if it cannot be one."""
    if not isinstance(code, str) or len(code) > 4 * CODE_LENGTH:
        return None
    cleaned = re.sub(r"[\s\-]", "", code).upper()
    if len(cleaned) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in cleaned):
        return None
    return cleaned


def new_teacher_key() -> str:
    return secrets.token_urlsafe(TEACHER_KEY_BYTES)


def new_member_token() -> str:
    return secrets.token_urlsafe(MEMBER_TOKEN_BYTES)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def looks_like_secret(secret: object) -> bool:
    """True for a string that could be one of our keys (URL-safe base64, bounded length)."""
    return (
        isinstance(secret, str)
        and 0 < len(secret) <= MAX_SECRET_CHARS
        and _SECRET.fullmatch(secret) is not None
    )


def clean_text(text: str, limit: int | None = None) -> str:
    """Text safe to show anywhere: normalised, invisible characters dropped, one line, at most ``limit``."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text)
    # Tabs and newlines are control characters: turned into spaces first, so words stay apart.
    text = "".join(" " if char.isspace() else char for char in text)
    text = "".join(char for char in text if unicodedata.category(char) not in _DROPPED_CATEGORIES)
    text = _SPACES.sub(" ", text).strip()
    return text if limit is None else text[:limit].rstrip()


def name_key(display_name: str) -> str:
    """What makes two display names 'the same' in a class: case-folded."""
    return display_name.casefold()


def numbered_name(name: str, number: int, limit: int) -> str:
    """``name (number)``, with the name shortened so the whole still fits in ``limit`` characters."""
    suffix = f" ({number})"
    return name[: max(1, limit - len(suffix))].rstrip() + suffix
