# TinyLM Lab — the two commands of the README:
#   make run    set everything up and start the app (http://localhost:8501)
#   make test   set everything up and run the whole test suite (unit, AppTest, browser and PostgreSQL tests)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test setup browser postgres lint bench demo-models screenshots clean

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-optional.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

run: setup
	$(PY) -m streamlit run app.py --server.port $(PORT) --browser.gatherUsageStats false

browser:
	sh scripts/install_browser.sh

postgres:
	sh scripts/install_postgres.sh

test: setup browser postgres
	$(PY) -m ruff check .
	$(PY) -m pytest -n 2 --dist loadscope --no-loadscope-reorder

lint: setup
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

bench: setup
	$(PY) -m tinylm bench --json benchmarks/results.json

demo-models: setup
	sh scripts/train_demo_models.sh

screenshots: setup browser
	$(PY) scripts/readme_screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts
