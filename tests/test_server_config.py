"""The server settings in .streamlit/config.toml that the app's speed in a class depends on."""

from __future__ import annotations

import tomllib
from streamlit import config

from tests.conftest import ROOT


def settings() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_the_file_watcher_and_the_post_run_collection_stay_off():
    """Both were most of a class server's work (README, Classroom mode; the comments in the file)."""
    chosen = settings()
    assert chosen["server"]["fileWatcherType"] == "none"
    assert chosen["runner"]["postScriptGC"] is False


def test_every_setting_in_the_file_is_one_streamlit_knows():
    """A renamed option would be ignored with only a log line: the setting would silently be lost."""
    known = set(config._config_options_template)
    for section, values in settings().items():
        for name in values:
            assert f"{section}.{name}" in known, f"{section}.{name}"
