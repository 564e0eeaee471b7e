# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= config/monitor.toml

.PHONY: install run poll demo test lint typecheck chromium bench clean

# The matcher's hot modules are compiled from their own source by the package build (setup.py), with the
# static types of the .pxd files beside some of them: an edit of either builds them again.
COMPILED := $(foreach name,clauses engine fold langid_walk reference scan snippets stems,monitor/match/$(name).py) \
	$(wildcard monitor/match/*.pxd)

$(STAMP): pyproject.toml requirements.lock setup.py $(COMPILED)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/monitor --config $(CONFIG) run

poll: $(STAMP)
	$(BIN)/monitor --config $(CONFIG) poll

demo: $(STAMP)
	$(BIN)/python demo/run.py

lint: $(STAMP)
	$(BIN)/ruff check monitor tests bench migrations demo
	$(BIN)/ruff format --check monitor tests bench migrations demo

typecheck: $(STAMP)
	$(BIN)/mypy monitor

# The screenshot test of the HTML email renders it in headless Chromium.
chromium:
	(command -v chromium && command -v chromedriver) >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver)

test: lint typecheck chromium $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
