"""App helpers for TinyLM Lab's Streamlit pages: strings, session state, layout, figures, runs.

The pages stay thin: widgets, one call into tinylm (through the cached helpers here), and charts.
"""
