# distillwatch: every set-up step lives here, so a fresh clone needs only `make demo` / `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the mypyc build of models/ (infra/build_compiled.py), redone when a source changes; DW_PURE=1 skips it
COMPILED := build/mypyc/.built
# KAFKA_PORT (default 19092, infra/kafka/kafka.sh) passes through from the environment

.PHONY: demo test test-fast lint bench kafka-up kafka-down data clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	@echo "make: installing distillwatch and its packages into $(VENV) (once; log in $(VENV)/install.log)"
	@$(PYTHON) -m venv $(VENV)
	@# pip and setuptools talk on stderr even when all is well (a build-backend banner): keep it
	@# in the log and show it only when the install fails
	@{ $(BIN)/pip install --quiet --upgrade pip && $(BIN)/pip install --quiet -e '.[dev]'; } \
	  >$(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $@

$(COMPILED): $(STAMP) $(wildcard models/*.py) infra/build_compiled.py
	@$(BIN)/python infra/build_compiled.py
	@if [ "$$DW_PURE" != 1 ]; then mkdir -p $(@D) && touch $@; fi

demo: $(COMPILED)
	@bash infra/demo.sh

test: $(COMPILED)
	@bash infra/test.sh

# every test that needs no broker (not marked `kafka`): the quick loop while editing
test-fast: $(COMPILED)
	$(BIN)/python -m pytest -q -m "not kafka"

lint: $(STAMP)
	$(BIN)/ruff check streams models tests bench

bench: $(COMPILED)
	@bash infra/bench.sh

kafka-up:
	@infra/kafka/kafka.sh up

kafka-down:
	@infra/kafka/kafka.sh down

data: $(STAMP)
	@bash infra/make-data.sh

clean:
	-infra/kafka/kafka.sh down
	rm -rf .run $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache models/*.so
