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

.PHONY: demo test bench study zoo data clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: setup.py | $(PY)
	$(PY) -m pip install -q -e ".[dev,litert,serving]"
	touch $@

# Fashion-MNIST's files from Debian's dataset-fashion-mnist (apt-get, as root), or how to get them.
data:
	@bash tools/install_data.sh

# The main job: transfer the zoo's dcgan_fashion_base (Fashion-MNIST's 8 base classes) to 25 images of the
# novel classes 3,9 (TrGAN + Freeze-D + DiffAugment), train the same generator from scratch with DiffAugment
# for the same budget, evaluate both on the test split, export SavedModel + TFLite. Under 5 minutes on
# 2 CPU cores after the install; see tools/demo.py and the README.
demo: $(VENV)/.installed data
	$(PY) tools/demo.py --out demo_out

# Two pytest workers (pytest-xdist), one test file each at a time, so a file's module fixtures are built once:
# most tests wait on one core (tracing, a fresh process importing TensorFlow), so two finish in about 0.6x the
# time of one on a 2-core machine.
test: $(VENV)/.installed data
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=15

# The benchmark suite (under 10 minutes on 2 cores): figures in docs/bench/, tables in docs/BENCHMARKS.md.
bench: $(VENV)/.installed
	$(PY) tools/bench_suite.py --out docs/bench

# The few-shot study on real data, hyperparameters tuned on held-out train images first (about eight hours on
# 2 cores, four of them the diffusion cells; finished runs and trials are cached in docs/.study_runs, so an
# interrupted study resumes).
study: $(VENV)/.installed data
	$(PY) tools/transfer_study.py --tune --out docs

zoo: $(VENV)/.installed data
	$(PY) tools/train_zoo.py --all

clean:
	rm -rf demo_out .pytest_cache build *.egg-info
