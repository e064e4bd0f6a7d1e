# initreg: every user-facing target depends on `setup`, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

JOBS ?= -1
DATA ?= football
# BLAS threads per sweep job: parallel jobs with threaded BLAS oversubscribe the cores
BLAS_THREADS ?= 1
HOST ?= 127.0.0.1
PORT ?= 5000
STORE ?= sqlite:///mlruns/mlflow.db

.PHONY: setup test test-all lint sweep ui doctor clean

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
	OPENBLAS_NUM_THREADS=$(BLAS_THREADS) OMP_NUM_THREADS=$(BLAS_THREADS) $(PY) pipelines/train.py -m experiment=default_sweep data=$(DATA) $(if $(filter fraud,$(DATA)),model=fraud) hydra.launcher.n_jobs=$(JOBS) resume=true

ui: setup  ## the MLflow UI over the project's store, on 127.0.0.1 unless HOST says otherwise
	@bash scripts/warn-host.sh $(HOST)
	$(VENV)/bin/mlflow ui --backend-store-uri "$(STORE)" --host $(HOST) --port $(PORT) --workers 1

doctor: setup  ## mark runs left RUNNING by a dead process as KILLED
	$(PY) pipelines/doctor.py

# --- reports and reproductions ---------------------------------------------------------------
SWEEP ?=
.PHONY: report reproduce

report: setup  ## reports/<sweep id>/report.html + .md of the latest sweep (or SWEEP=<parent run id>)
	$(PY) pipelines/report.py $(if $(SWEEP),--sweep $(SWEEP))

reproduce: setup  ## the course's six results, course convention + 5 seeds; exits 1 on drift
	$(PY) pipelines/reproduce.py

# --- beyond one machine: a shared tracking server, migration, cluster launchers ----------------
# The server's store: $MLFLOW_BACKEND_URI (postgresql://user:password@host:5432/db), else STORE.
BACKEND ?= $(if $(MLFLOW_BACKEND_URI),$(MLFLOW_BACKEND_URI),$(STORE))
ARTIFACTS ?= mlruns/artifacts
SERVER_OPTS ?=
FROM ?= $(STORE)
TO ?= http://127.0.0.1:$(PORT)
.PHONY: server migrate test-postgres setup-ray

server: setup  ## mlflow server on BACKEND (PostgreSQL or the embedded SQLite store), artifacts in ARTIFACTS
	@bash scripts/warn-host.sh $(HOST)
	@echo "backend store: $$(echo '$(BACKEND)' | sed -E 's#://([^:/@]+):[^@]*@#://\1:***@#')"
	@case "$(HOST)" in 0.0.0.0|::) name=$$(hostname -f) ;; *) name="$(HOST)" ;; esac; \
		echo "tracking URI:  export MLFLOW_TRACKING_URI=http://$$name:$(PORT)"
	@mkdir -p $(ARTIFACTS)
	@$(VENV)/bin/mlflow server --backend-store-uri '$(BACKEND)' --serve-artifacts \
		--artifacts-destination $(ARTIFACTS) --host $(HOST) --port $(PORT) --workers 1 $(SERVER_OPTS)

migrate: setup  ## copy every experiment and run of FROM (the local store) into TO (the team server)
	$(PY) pipelines/migrate.py --from '$(FROM)' --to '$(TO)'

test-postgres: setup  ## the PostgreSQL-backed server test and the migration test (INITREG_TEST_PG=postgresql://...)
	$(PY) -m pytest -m slow tests/pipelines/test_postgres_server.py tests/pipelines/test_migrate.py

setup-ray: setup  ## add the optional Ray launcher (hydra/launcher=ray) to .venv
	$(PY) -m pip install -q -e '.[dev,ray]'

clean:
	rm -rf outputs multirun .pytest_cache .ruff_cache

# --- studies (initreg.studies) ------------------------------------------------------------------
.PHONY: study-depth study-curve
# Small matrices: BLAS threads only contend with the parallel jobs.
study-depth study-curve: export OPENBLAS_NUM_THREADS = 1

study-depth: setup  ## init x depth on circles (24 runs), then reports/<sweep id>/depth_study.html
	$(PY) pipelines/study_depth.py --jobs $(JOBS)

study-curve: setup  ## learning curves on football (10 runs), then reports/<sweep id>/learning_curve.html
	$(PY) pipelines/study_curve.py --jobs $(JOBS)

# --- benchmarks (benchmarks/) --------------------------------------------------------------------
.PHONY: bench
BENCH_ARGS ?=

# [bench] pins torch==2.13.0, the CPU build; JAX joins in when installed (pip install -e '.[bench-jax]').
$(VENV)/.bench-installed: pyproject.toml $(STAMP)
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $@

# Not part of `make test`. OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are unset for this command alone,
# so NumPy runs its own kernel (RESULTS.md names the one threadpoolctl reports).
bench: setup $(VENV)/.bench-installed  ## side-by-side timings -> benchmarks/RESULTS.md (BENCH_ARGS=--quick)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/run.py $(BENCH_ARGS)
