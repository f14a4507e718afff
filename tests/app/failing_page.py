"""A page that fails on purpose, for the tests of the app's error guard (ui/guard.py) only.

?fail=page raises inside an expander, ?fail=fragment inside a fragment, ?fail=callback in a button's
callback, ?fail=early before the guard is installed (Streamlit's own, redacted, box); ?lang= as the app.
"""

import streamlit as st

from ui import guard
from ui.i18n import current_language

SECRET = "secret detail from /srv/tinylm/ui/jobs.py"


def fail() -> None:
    raise RuntimeError(SECRET)


where = st.query_params.get("fail", "page")
if where == "early":
    fail()
guard.install()
current_language()
st.title("Failing on purpose")
st.sidebar.write("the sidebar")
if where == "page":
    with st.expander("inside an expander", expanded=True):
        st.write("before the failure")
        fail()
elif where == "fragment":

    @st.fragment
    def part() -> None:
        st.write("inside the fragment")
        fail()

    part()
elif where == "callback":
    st.button("fail", key="fail", on_click=fail)
st.write("the end of the page")
