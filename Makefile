# Nordic Station: `make run` starts the app, `make test` runs the whole suite headless.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test fuzz lint lint-baseline bench clean firmware firmware-deps firmware-host

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

test: $(STAMP) firmware-host
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# The fuzz targets (tests marked `fuzz`) with many more examples than `make test` runs.
fuzz: $(STAMP)
	QT_QPA_PLATFORM=offscreen HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -q -m fuzz

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(PY) .ci/mypy_baseline.py

# Lower the recorded mypy baseline after fixing type errors (it never goes up).
lint-baseline: $(STAMP)
	$(PY) .ci/mypy_baseline.py --update

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) build *.egg-info firmware/build

# Reference rig firmware (firmware/, docs/rig.md).  The host target needs only gcc;
# the AVR target and its simulation need avr-gcc, avr-libc, simavr (firmware-deps).
FIRMWARE_APT := gcc libc6-dev make gcc-avr avr-libc binutils-avr simavr libsimavr-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

firmware-host:
	@$(MAKE) --no-print-directory -s -C firmware host fuzz

firmware: firmware-host
	@if command -v avr-gcc >/dev/null && [ -e /usr/include/simavr/sim_avr.h ]; then \
	  $(MAKE) --no-print-directory -C firmware avr sim; \
	else echo "firmware: avr-gcc or simavr missing, AVR target not built (make firmware-deps)"; fi

firmware-deps:
	@missing=$$(for p in $(FIRMWARE_APT); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	    $$missing >/dev/null; \
	fi
