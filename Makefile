# The project's two commands. Both set up whatever is missing first:
# Debian packages (scripts/apt-packages), a virtualenv at .venv with the
# package installed editable, then do their job.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test setup apt

QUICKSTART := examples/quickstart/compose.yaml

run: setup
	@$(BIN)/python scripts/quickstart-image
	$(BIN)/dockyard -f $(QUICKSTART) up --wait
	@echo
	@echo "The quick start runs: curl http://127.0.0.1:8080/ (each visit is counted by the store service)."
	@echo "See it with: $(BIN)/dockyard -f $(QUICKSTART) ps; logs: ... logs; remove it: ... down -v"

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
