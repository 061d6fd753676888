# The project's two commands. Both set up whatever is missing first:
# Debian packages (scripts/apt-packages), a virtualenv at .venv with the
# package installed editable, then do their job.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test setup apt

run: setup
	$(BIN)/dockyard -f examples/quickstart/compose.yaml config

test: setup
	$(BIN)/python -m pytest -q

setup: apt $(VENV)/.installed

apt:
	@scripts/ensure-apt scripts/apt-packages

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "dockyard needs Python >= 3.11 ($(PYTHON) is older)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@
