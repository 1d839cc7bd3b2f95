# kpilab: the two set-up commands are `make demo` and `make test`.
# Each creates .venv/ (Python 3.11+) on first use and installs what it needs.
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kpilab-installed
DEMO   := data/demo
AGENTS ?= 60
MONTHS ?= 12
SEED   ?= 42
PYTEST_ARGS ?= -n 2 --dist loadgroup
PORT   ?= 8888
# JupyterLab refuses to start as root unless told; containers often run as root
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
# no display (a server, a container): print the URL instead of trying to open a browser
LAB_BROWSER := $(if $(DISPLAY)$(WAYLAND_DISPLAY),,--no-browser)

## Create .venv and install kpilab (editable) with its dev extra
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kpilab needs Python 3.11+")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Install into .venv (done by demo/test when needed)

.PHONY: kernel
kernel: $(STAMP) ## Register the `kpilab` Jupyter kernel inside .venv (not globally)
	@$(BIN)/python -m ipykernel install --sys-prefix --name kpilab --display-name "Python (kpilab)" >/dev/null
	@echo "kernel 'kpilab' registered in $(VENV)"

.PHONY: demo-data
demo-data: $(STAMP) ## Simulate the demo data with its training programme (reused when present and current)
	@$(BIN)/kpilab simulate --out $(DEMO) --agents $(AGENTS) --months $(MONTHS) --seed $(SEED) --training --reuse

.PHONY: demo
demo: kernel demo-data ## Run the review pipeline end to end on the demo data; prints the report path
	@$(BIN)/kpilab run review -p data_dir $(DEMO) --name demo

.PHONY: test
test: kernel ## Run the whole test suite (notebook executions included)
	$(BIN)/python -m pytest $(PYTEST_ARGS) tests

.PHONY: lab
lab: kernel ## Open JupyterLab on the notebooks with the kpilab kernel (PORT=8888; works as root)
	$(BIN)/jupyter lab --port $(PORT) $(LAB_ROOT) $(LAB_BROWSER) notebooks

.PHONY: lint
lint: $(STAMP) ## ruff check on kpilab, tests and bench (the rules in pyproject.toml; no auto-format)
	$(BIN)/ruff check kpilab tests bench

.PHONY: bench
bench: $(STAMP) ## Run the benchmarks in bench/ (by hand; slow)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

.PHONY: clean
clean: ## Remove .venv and caches (keeps outputs/ and data/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

.PHONY: help
help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/' | expand -t 14
