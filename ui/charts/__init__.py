"""Per-page plotly figure builders: data and already-translated strings in, a figure out (no t())."""
