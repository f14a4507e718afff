"""TinyLM Lab — home page: what this is, the learning path, and the model in use."""

import streamlit as st

from ui.i18n import t
from ui.layout import PAGES, page_setup
from ui.state import active_model, model_summary

page = page_setup("home")

st.title(t("app.title"))
st.markdown(f"**{t('app.tagline')}**")
st.markdown(t("home.intro"))
st.info(t("home.gpt_note"))

st.subheader(t("home.path_title"))
for name, path in PAGES[1:]:
    left, right = st.columns([2, 5], vertical_alignment="center")
    left.page_link(path, label=t(f"nav.{name}"))
    right.markdown(t(f"home.path.{name}"))

st.subheader(t("home.model_title"))
model = active_model()
if model is None:
    st.warning(t("model.none"))
else:
    st.markdown(model_summary(model))
st.caption(t("home.model_hint"))

page.sync_url()
