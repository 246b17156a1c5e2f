# Nordic Station: `make run` starts the app, `make test` runs the whole suite headless.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	@echo "First run: creating the virtual environment in $(VENV) (2-3 minutes; pip shows each package)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --progress-bar on --upgrade pip
	$(PY) -m pip install --progress-bar on -e '.[test]'
	touch $(STAMP)

# Qt's X11 plugin needs system libraries a minimal Debian lacks: install them (apt-get, with
# sudo when not root) or stop with the one command to run.
run: $(STAMP)
	@$(PY) -m station.app.shell.qt_libs --install
	$(VENV)/bin/nordic-station gui

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) build *.egg-info
