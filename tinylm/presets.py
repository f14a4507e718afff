"""Named model + training settings, shared by the CLI and the app.

"live" is the default: tuned so that on 2 CPU cores a character model visibly learns within 60 s
(English stories become word-like; see the README's performance section for measured numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    name: str
    model: dict[str, Any] = field(default_factory=dict)  # ModelConfig keyword arguments (without vocab_size)
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig keyword arguments


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        "tiny",
        model={"context_len": 32, "d_model": 64, "n_layers": 2, "n_heads": 4},
        train={"batch_size": 32, "learning_rate": 3e-3, "time_budget": 20.0, "max_steps": 100_000},
    ),
    "small": Preset(
        "small",
        model={"context_len": 64, "d_model": 96, "n_layers": 3, "n_heads": 4},
        train={"batch_size": 32, "learning_rate": 3e-3, "time_budget": 40.0, "max_steps": 100_000},
    ),
    "live": Preset(
        "live",
        model={"context_len": 64, "d_model": 128, "n_layers": 4, "n_heads": 4},
        train={"batch_size": 32, "learning_rate": 3e-3, "time_budget": 60.0, "max_steps": 100_000},
    ),
}
DEFAULT_PRESET = "live"
