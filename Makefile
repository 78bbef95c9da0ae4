# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_VERSION ?= 2.13.0

.PHONY: venv demo bandit test lint type check bench learning long report clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# The CPU build of torch goes in first: a bare `torch` requirement would pull a multi-GB CUDA build.
	# With a GPU (nvidia-smi present) the default build, which carries CUDA, is what we want.
	if command -v nvidia-smi >/dev/null 2>&1; then $(PIP) install -q "torch>=2.4"; \
	else $(PIP) install -q torch==$(TORCH_VERSION) || \
	     $(PIP) install -q torch --index-url https://download.pytorch.org/whl/cpu; fi
	$(PIP) install -q -e ".[tests,extra]"
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) examples/demo.py

bandit: venv
	$(PY) examples/bandit.py --out bandit_results

test: venv
	$(PY) -m pytest -n 2 --dist worksteal -q tests

lint: venv
	$(PY) -m ruff check sb3_lql tests examples benchmarks
	$(PY) -m ruff format --check sb3_lql tests examples benchmarks

type: venv
	$(PY) -m mypy sb3_lql benchmarks examples

check: lint type test

bench: venv
	$(PY) benchmarks/throughput.py
	$(PY) benchmarks/sampler_quality.py

# The learning benchmark (hours on a 2-core CPU; resumable) and its report, BENCHMARKS.md
learning: venv
	$(PY) benchmarks/learning.py

# Long runs at the paper's protocol, truncated (hours per run; each resumes from its last checkpoint)
long: venv
	$(PIP) install -q -r benchmarks/long_runs_versions.txt
	$(PY) benchmarks/long_runs.py

report: venv
	$(PY) benchmarks/report.py

clean:
	rm -rf $(VENV) build *.egg-info
