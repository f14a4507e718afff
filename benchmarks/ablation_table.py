"""The README's ablation table (issue 17) from the JSON files ``python -m tinylm bench`` wrote.

    python benchmarks/ablation_table.py benchmarks/ablation_60.json benchmarks/ablation_240.json

One row per setup (in the order of the first file), one column pair per budget: the median held-out
loss over the seeds with its range, and the steps each run did. Nothing is computed here that the
JSON files do not hold; a setup missing from a budget shows "—".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def load(paths: list[str]) -> dict[str, dict[str, dict]]:
    """{budget: {setup: row}} merged over the files (a later file's row replaces an earlier one)."""
    merged: dict[str, dict[str, dict]] = {}
    for path in paths:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        report = document.get("time_to_loss", document)
        for budget, entry in report["budgets"].items():
            merged.setdefault(budget, {}).update(entry)
    return merged


def table(merged: dict[str, dict[str, dict]], baseline: str = "baseline") -> str:
    budgets = sorted(merged, key=float)
    setups: list[str] = []
    for budget in budgets:
        setups += [spec for spec in merged[budget] if spec not in setups]
    header = "| setup |" + "".join(f" {b} s: loss, median (range) | Δ | steps |" for b in budgets)
    lines = [header, "|---|" + "---|---|---|" * len(budgets)]
    for spec in setups:
        cells = [f"`{spec}`"]
        for budget in budgets:
            row = merged[budget].get(spec)
            if row is None:
                cells += ["—", "", ""]
                continue
            reference = merged[budget].get(baseline)
            delta = f"{row['median'] - reference['median']:+.3f}" if reference and spec != baseline else ""
            steps = sorted({run["steps"] for run in row["runs"]})
            cells += [
                f"**{row['median']:.3f}** ({row['low']:.3f}-{row['high']:.3f}, n={len(row['runs'])})",
                delta,
                "/".join(str(s) for s in steps),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(load(sys.argv[1:])))
