"""Shared fixtures: small models and texts made here, never read from outside the repository."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tinylm import CharTokenizer  # noqa: E402

# Tests run on 2-core CI machines next to other processes: one torch thread is the fastest and
# steadiest choice for the tiny models here.
torch.set_num_threads(int(os.environ.get("TINYLM_TEST_THREADS", "1")))

SMALL_TEXT = (
    "Lily had a red ball. She gave the ball to Tom. Tom was happy.\n"
    "小明有一只小猫。小猫很可爱。小明每天和小猫一起玩。\n"
) * 40


@pytest.fixture
def small_text() -> str:
    return SMALL_TEXT


@pytest.fixture
def char_tokenizer() -> CharTokenizer:
    return CharTokenizer.from_text(SMALL_TEXT)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for pytest-xdist (``make test`` runs two workers, one per core of CI's machine): a file's
    tests stay on one worker, so its module fixtures (a Ray cluster, a PostgreSQL server, a trained
    model) are made once, and every browser test shares one worker, one app server and one Chromium.
    The browser tests, the longest group, come first so the other worker takes the rest meanwhile."""

    def group(item: pytest.Item) -> str:
        path = Path(str(item.fspath)).resolve().relative_to(ROOT)
        return "e2e" if path.parts[:2] == ("tests", "e2e") else path.as_posix()

    for item in items:
        item.add_marker(pytest.mark.xdist_group(group(item)))
    items.sort(key=lambda item: group(item) != "e2e")  # stable: the order within each group is kept
