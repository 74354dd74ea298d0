# dumpguard: `make scan` and `make test` set up everything on a fresh clone.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SAMPLES := samples/out

.PHONY: install system-deps samples scan test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# gdb (gcore) makes the sample dumps; the yara CLI is the benchmark's baseline; puttygen and
# gpg make real PPK and OpenPGP keys for the tests; libsnappy lets volatility3 read AVML images.
system-deps:
	@missing=""; \
	command -v gcore >/dev/null || missing="$$missing gdb"; \
	command -v yara >/dev/null || missing="$$missing yara"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v puttygen >/dev/null || missing="$$missing putty-tools"; \
	command -v gpg >/dev/null || missing="$$missing gnupg"; \
	ldconfig -p | grep -q 'libsnappy.so.1 ' || missing="$$missing libsnappy1v5"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

samples: install system-deps
	$(PY) samples/make_samples.py --out $(SAMPLES)

# Scans the samples; they plant keys, so dumpguard must exit 1 (findings) here.
scan: samples
	@set +e; $(VENV)/bin/dumpguard scan $(SAMPLES)/dumps $(SAMPLES)/planted $(SAMPLES)/containers \
	  $(SAMPLES)/dumps-raw --known-keys $(SAMPLES)/known-keys --known-keys $(SAMPLES)/known-keys-raw; \
	status=$$?; echo "dumpguard exit code: $$status (1 = findings at or above --fail-on high)"; \
	test $$status -eq 1

test: install system-deps
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check scanner tests samples
	$(VENV)/bin/ruff format --check scanner tests samples
	$(VENV)/bin/mypy

bench: install system-deps
	$(PY) samples/bench.py

clean:
	rm -rf $(SAMPLES) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
