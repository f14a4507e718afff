"""What the classroom store hands out (dataclasses), its limits, and the errors a user can cause."""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

from tinylm.errors import TinyLMError
from ui.classroom.text import clean_text

log = logging.getLogger(__name__)

EXPIRY_ENV = "TINYLM_CLASSROOM_HOURS"
DEFAULT_EXPIRY_HOURS = 12.0  # a school day, and the evening's homework
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # ui.jobs' ids are 22 of these
MAX_TYPED_CHARS = 2000  # longer "names" are refused before any cleaning work

ERROR_CODES = (
    "class_not_found",
    "class_full",
    "too_many_classes",
    "bad_class_name",
    "bad_class_expiry",
    "bad_display_name",
    "member_not_found",
    "bad_preset",
    "preset_too_large",
    "teacher_only",
)


@dataclass(frozen=True)
class Limits:
    class_name_chars: int = 80
    display_name_chars: int = 40
    preset_label_chars: int = 80
    members_per_class: int = 200
    runs_per_member: int = 50
    live_classes: int = 500
    preset_bytes: int = 8 * 1024
    min_expiry_seconds: float = 60.0
    max_expiry_seconds: float = 30 * 24 * 3600.0


@dataclass(frozen=True)
class Class:
    """A live class. ``teacher`` is True only for the Class that ``ClassroomStore.teacher_class``
    returned for the right key: the store's teacher-only methods refuse any other."""

    id: int
    code: str
    name: str
    created_at: float
    expires_at: float
    teacher: bool = False


@dataclass(frozen=True)
class Member:
    """A student of a class. ``token`` (only set by ``ClassroomStore.join`` and
    ``ClassroomStore.member``) is the secret that brings the student back as the same member."""

    id: int
    class_id: int
    display_name: str
    joined_at: float
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ClassRun:
    member_id: int
    member_name: str
    run_id: str
    added_at: float


@dataclass(frozen=True)
class Preset:
    """The settings every student's Train page starts from, as the teacher pushed them."""

    label: str
    settings: dict[str, Any]
    set_at: float


def default_expiry_seconds() -> float:
    raw = os.environ.get(EXPIRY_ENV, "").strip()
    try:
        hours = float(raw) if raw else DEFAULT_EXPIRY_HOURS
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours) or hours <= 0:
        log.warning("%s=%r is not a number of hours; using %s", EXPIRY_ENV, raw, DEFAULT_EXPIRY_HOURS)
        hours = DEFAULT_EXPIRY_HOURS
    return hours * 3600.0


def class_not_found(code: object) -> TinyLMError:
    shown = clean_text(code if isinstance(code, str) else "", 16)
    return TinyLMError(
        "class_not_found", f"There is no class with the code {shown!r} (or it has ended).", class_code=shown
    )


def bad_display_name(limits: Limits) -> TinyLMError:
    return TinyLMError(
        "bad_display_name",
        f"Please type a name of 1 to {limits.display_name_chars} characters.",
        limit=limits.display_name_chars,
    )
