# initreg: every user-facing target depends on `setup`, so a fresh clone needs nothing else.
#
# A value a user gives (SWEEP=, HOST=, ...) reaches the shell only through $(call q,...): one
# single-quoted word, so `SWEEP='x; touch f'` is a sweep id, not a command. Values given on the
# command line or in the environment are also taken literally, so a `$(shell ...)` inside one is
# text, not something make runs (TAKEN_LITERALLY).
q = '$(subst ','\'',$(1))'
# each whitespace-separated word quoted on its own: options such as SERVER_OPTS, BENCH_ARGS
qw = $(foreach w,$(1),$(call q,$(w)))
# a program of the venv, quoted (VENV also names make targets, so VENV itself stays unquoted)
bin = $(call q,$(VENV)/bin/$(1))

# The variables a user may set. make expands `$(...)` in a value given on the command line or in
# the environment (they are recursive variables); each is redefined here as its literal text.
TAKEN_LITERALLY := PYTHON VENV JOBS DATA BLAS_THREADS HOST PORT STORE SWEEP BACKEND ARTIFACTS \
	SERVER_OPTS FROM TO BENCH_ARGS MLFLOW_BACKEND_URI SEEDS TEST_WORKERS TEST_TMPDIR
$(foreach v,$(TAKEN_LITERALLY),$(if $(filter command line environment,$(origin $(v))),\
	$(eval override $(v) := $$(value $(v)))))

PYTHON ?= python3
VENV := .venv
PY := $(call bin,python)
STAMP := $(VENV)/.installed

JOBS ?= -1
DATA ?= football
# BLAS threads per sweep job: parallel jobs with threaded BLAS oversubscribe the cores
BLAS_THREADS ?= 1
HOST ?= 127.0.0.1
PORT ?= 5000
STORE ?= sqlite:///mlruns/mlflow.db
# seeds per configuration in `make sweep`: SEEDS=5 runs each with seed=0,1,2,3,4 (the data splits
# stay fixed); 1 adds no seed override
SEEDS ?= 1

.PHONY: setup test test-all lint sweep ui doctor clean

setup: $(STAMP)

# Re-installs only when pyproject.toml changed (the stamp is older than it).
$(STAMP): pyproject.toml
	test -x $(PY) || $(call q,$(PYTHON)) -m venv $(call q,$(VENV))
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(call q,$(STAMP))

# pytest-xdist: one test process per core (TEST_WORKERS=0 runs them in this process); a file's
# tests stay together, so its module fixtures (a sweep, a store) are made once
TEST_WORKERS ?= auto
# the tests' temporary files (stores, artifacts, sweep folders) on tmpfs where there is one:
# SQLite's syncs to disk take a fifth of some files' time; what the tests check is the same
# (a /dev/shm under 2 GiB free, as Docker's 64 MiB default, is not used)
TEST_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$$(df -Pk /dev/shm | awk 'NR==2 {print $$4}')" -gt 2097152 ] 2>/dev/null && echo /dev/shm || echo "$${TMPDIR:-/tmp}")

# PYTHONDONTWRITEBYTECODE is emptied for the tests: where it is set, every worker would compile
# and assert-rewrite every test module anew (~2.5 s each); the caches go to __pycache__ folders
test: setup  ## fast suite (no tests marked slow), on every core
	PYTHONDONTWRITEBYTECODE= TMPDIR=$(call q,$(TEST_TMPDIR)) $(PY) -m pytest -m "not slow" \
		-n $(call q,$(TEST_WORKERS)) --dist loadfile --no-loadscope-reorder

test-all: setup  ## everything, slow sweeps and services included
	$(PY) -m pytest

lint: setup  ## ruff, and zizmor on the GitHub workflows (offline: no GitHub API calls)
	$(call bin,ruff) check src pipelines tests
	$(call bin,zizmor) --offline .github/workflows

sweep: setup  ## init x lambd x keep_prob (27 runs) x SEEDS seeds on DATA, JOBS parallel workers (-1 = all cores)
	@n=$(call q,$(SEEDS)); case "$$n" in ''|*[!0-9]*|0*) echo "error: SEEDS='$$n' is not allowed; allowed: a whole number >= 1 (the seeds 0 to SEEDS-1)" >&2; exit 2;; esac
	n=$(call q,$(SEEDS)); OPENBLAS_NUM_THREADS=$(call q,$(BLAS_THREADS)) OMP_NUM_THREADS=$(call q,$(BLAS_THREADS)) $(PY) pipelines/train.py -m experiment=default_sweep data=$(call q,$(DATA)) $(if $(filter fraud,$(DATA)),model=fraud) hydra.launcher.n_jobs=$(call q,$(JOBS)) resume=true $$([ "$$n" -gt 1 ] && echo "seed=$$(seq -s, 0 $$((n - 1)))")

ui: setup  ## the MLflow UI over the project's store, on 127.0.0.1 unless HOST says otherwise
	@bash scripts/warn-host.sh $(call q,$(HOST))
	$(call bin,mlflow) ui --backend-store-uri $(call q,$(STORE)) --host $(call q,$(HOST)) --port $(call q,$(PORT)) --workers 1

doctor: setup  ## mark runs left RUNNING by a dead process as KILLED
	$(PY) pipelines/doctor.py

# --- reports and reproductions ---------------------------------------------------------------
SWEEP ?=
.PHONY: report reproduce

report: setup  ## reports/<sweep id>/report.html + .md of the latest sweep (or SWEEP=<parent run id>)
	$(PY) pipelines/report.py $(if $(SWEEP),--sweep $(call q,$(SWEEP)))

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
	@bash scripts/warn-host.sh $(call q,$(HOST))
	@echo "backend store: $$(echo $(call q,$(BACKEND)) | sed -E 's#://([^:/@]+):[^@]*@#://\1:***@#')"
	@host=$(call q,$(HOST)); port=$(call q,$(PORT)); \
		case "$$host" in 0.0.0.0|::) name=$$(hostname -f) ;; *) name="$$host" ;; esac; \
		echo "tracking URI:  export MLFLOW_TRACKING_URI=http://$$name:$$port"
	@mkdir -p $(call q,$(ARTIFACTS))
	@$(call bin,mlflow) server --backend-store-uri $(call q,$(BACKEND)) --serve-artifacts \
		--artifacts-destination $(call q,$(ARTIFACTS)) --host $(call q,$(HOST)) --port $(call q,$(PORT)) --workers 1 $(call qw,$(SERVER_OPTS))

migrate: setup  ## copy every experiment and run of FROM (the local store) into TO (the team server)
	$(PY) pipelines/migrate.py --from $(call q,$(FROM)) --to $(call q,$(TO))

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
	$(PY) pipelines/study_depth.py --jobs $(call q,$(JOBS))

study-curve: setup  ## learning curves on football (10 runs), then reports/<sweep id>/learning_curve.html
	$(PY) pipelines/study_curve.py --jobs $(call q,$(JOBS))

# --- benchmarks (benchmarks/) --------------------------------------------------------------------
.PHONY: bench
BENCH_ARGS ?=

# [bench] pins torch==2.13.0, the CPU build; JAX joins in when installed (pip install -e '.[bench-jax]').
$(VENV)/.bench-installed: pyproject.toml $(STAMP)
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $(call q,$@)

# Not part of `make test`. OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are unset for this command alone,
# so NumPy runs its own kernel (RESULTS.md names the one threadpoolctl reports).
bench: setup $(VENV)/.bench-installed  ## side-by-side timings -> benchmarks/RESULTS.md (BENCH_ARGS=--quick)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/run.py $(call qw,$(BENCH_ARGS))
