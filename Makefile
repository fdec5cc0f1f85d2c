# Two entry points: `make demo` and `make test`. Each creates .venv when missing
# and installs the package with the extras it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# oneDNN kernels: TensorFlow leaves them off on CPUs without AVX512-VNNI/AMX,
# where they were measured 1.33-1.38x faster for a DCGAN step. A value the
# user set wins.
export TF_ENABLE_ONEDNN_OPTS ?= 1
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: setup.py | $(PY)
	$(PY) -m pip install -q -e ".[dev,litert,serving]"
	touch $@

# DCGAN on scikit-learn's digits: about 2 minutes of training on 2 CPU cores.
demo: $(VENV)/.installed
	$(VENV)/bin/ktg train --model dcgan --dataset digits --epochs 15 --out demo_out --verbose 0
	$(VENV)/bin/ktg sample --model demo_out --n 64 --seed 1 --out demo_out/grid.png

test: $(VENV)/.installed
	$(PY) -m pytest -q -p no:cacheprovider --durations=15

bench: $(VENV)/.installed
	$(PY) tools/bench_train_step.py

clean:
	rm -rf demo_out .pytest_cache build *.egg-info
