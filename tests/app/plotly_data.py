"""Read numbers back out of a plotly chart that AppTest captured."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np


def decode(value: Any) -> Any:
    """Plotly 7 stores arrays as {"dtype", "bdata" (base64), "shape"}; return a numpy array (or the value)."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            dims = [int(d) for d in str(shape).split(",")] if isinstance(shape, str) else list(shape)
            array = array.reshape(dims)
        return array
    if isinstance(value, list):
        return (
            np.asarray(value, dtype=object)
            if any(isinstance(v, (str, type(None))) for v in value)
            else np.asarray(value)
        )
    return value


def figures(at) -> list[dict]:
    """Every plotly figure on the page, as plotly JSON dicts."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def trace_array(figure: dict, trace: int, field: str) -> Any:
    return decode(figure["data"][trace][field])
