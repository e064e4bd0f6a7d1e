# initreg: every user-facing target depends on `setup`, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

JOBS ?= -1
DATA ?= football
HOST ?= 127.0.0.1
PORT ?= 5000
STORE ?= sqlite:///mlruns/mlflow.db

.PHONY: setup test test-all lint sweep ui clean

setup: $(STAMP)

# Re-installs only when pyproject.toml changed (the stamp is older than it).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: setup  ## fast suite (no tests marked slow)
	$(PY) -m pytest -m "not slow"

test-all: setup  ## everything, slow sweeps and services included
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check src pipelines tests

sweep: setup  ## init x lambd x keep_prob (27 runs) on DATA, JOBS parallel workers (-1 = all cores)
	$(PY) pipelines/train.py -m experiment=default_sweep data=$(DATA) hydra.launcher.n_jobs=$(JOBS) resume=true

ui: setup  ## the MLflow UI over the project's store, on 127.0.0.1 unless HOST says otherwise
	@case "$(HOST)" in 127.*|localhost|::1) ;; *) echo "warning: serving on $(HOST): the MLflow server has no authentication" >&2 ;; esac
	$(VENV)/bin/mlflow ui --backend-store-uri "$(STORE)" --host $(HOST) --port $(PORT) --workers 1

clean:
	rm -rf outputs multirun .pytest_cache .ruff_cache
