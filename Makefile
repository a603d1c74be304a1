# mmseg-infopro — setup, demo and tests.  `make help` lists the targets.
PYTHON   ?= python3
VENV     := .venv
PY       := $(VENV)/bin/python
PIP      := $(PY) -m pip --disable-pip-version-check
STAMP    := $(VENV)/.installed
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CXX_BASE ?= g++
CXX20    := $(abspath $(VENV))/bin/cxx20
DEMO_CFG := configs/demo/deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-128x256.py
DEMO_DATA := data/synthetic_cityscapes

.PHONY: help install demo test test-fast gpu-check clean

help:
	@echo "make install  create $(VENV) with torch, mmcv (built from source), mmengine, mmseg and this package"
	@echo "make demo     install if needed, generate $(DEMO_DATA), train the demo config, evaluate, write an overlay"
	@echo "make test     install if needed, run the test suite (about 4-5 min on 2 cores; prints the 15 slowest tests)"
	@echo "make test-fast  the inner loop: the tests that start no process and train at most one step (about 1 min)"
	@echo "make gpu-check  on a CUDA machine: benchmarks, train/test/inference/DDP and the CUDA tests (< 8 min), JSON in work_dirs/gpu_check"

install: $(STAMP)

# Re-runs only when the requirements change; every step is skipped when
# already satisfied, so a second run takes seconds.
$(STAMP): setup.py requirements/runtime.txt requirements/tests.txt Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "make install: could not create $(VENV) with $(PYTHON)."; \
	  echo "  Install python3-venv (Debian/Ubuntu: apt-get install python3-venv) or pass PYTHON=/path/to/python3.8+"; exit 1; }
	@# setuptools < 81: mmengine and mmcv's build still import pkg_resources.
	$(PIP) install -q 'setuptools>=77,<81' wheel || { \
	  echo "make install: installing setuptools failed; check network access to PyPI."; exit 1; }
	@# Keep an installed torch >= 2.1 with a torchvision that imports beside it
	@# (timm needs one; e.g. a CUDA build of your own); else the pinned pair. PyPI's
	@# torchvision wheels are linked against CUDA torch, so the pair is the CUDA
	@# build of torch 2.14.1 (it runs on CPU too); torchvision 0.28 fails to load
	@# beside the CPU build of torch 2.13.
	@$(PY) -c "import torch, torchvision, sys; v = tuple(int(p) for p in torch.__version__.split('+')[0].split('.')[:2]); sys.exit(v < (2, 1))" 2>/dev/null \
	  || $(PIP) install -q torch==2.14.1 torchvision==0.29.1 || { \
	  echo "make install: installing torch==2.14.1 torchvision==0.29.1 failed. Install a torch >= 2.1 with its torchvision into $(VENV) yourself (https://pytorch.org) and re-run make install."; exit 1; }
	$(PIP) install -q -r requirements/runtime.txt -r requirements/tests.txt || { \
	  echo "make install: installing requirements/*.txt failed; see pip's message above."; exit 1; }
	@# mmcv 2.1.0 has no wheel for this torch on PyPI: build it with its ops
	@# (about 11 minutes on 2 cores; pip caches the wheel for later runs).
	@# Its setup.py asks for C++17, torch >= 2.14's headers need C++20: the
	@# compiler wrapper $(CXX20) puts -std=c++20 last, where it wins.
	@$(PY) -c "import mmcv, mmcv.ops, sys; sys.exit(mmcv.__version__ != '2.1.0')" 2>/dev/null || { \
	  echo "Building mmcv 2.1.0 with ops (about 11 min on 2 cores, once) ..."; \
	  printf '#!/bin/sh\nexec %s "$$@" -std=c++20\n' "$(CXX_BASE)" > $(CXX20) && chmod +x $(CXX20) && \
	  CC=$(CXX20) CXX=$(CXX20) MMCV_WITH_OPS=1 MAX_JOBS=$(JOBS) $(PIP) install -q --no-build-isolation mmcv==2.1.0 && \
	  $(PY) -c "import mmcv.ops" 2>/dev/null || { \
	  echo "mmcv's ops do not load (a cached wheel built for another torch?): building anew ..."; \
	  CC=$(CXX20) CXX=$(CXX20) MMCV_WITH_OPS=1 MAX_JOBS=$(JOBS) $(PIP) install -q --no-build-isolation --no-cache-dir --force-reinstall --no-deps mmcv==2.1.0; } || { \
	  echo "make install: building mmcv 2.1.0 failed. It needs gcc/g++, the Python headers and ~3 GB of memory;"; \
	  echo "  see docs/faq.md. Retry with fewer jobs: make install JOBS=1"; exit 1; }; }
	$(PIP) install -q --no-deps --no-build-isolation -e . || { \
	  echo "make install: installing mmseg-infopro in editable mode failed."; exit 1; }
	@$(PY) -c "import mmseg_infopro, mmseg.apis" || { \
	  echo "make install: the stack does not import; see the error above and docs/faq.md."; exit 1; }
	@touch $(STAMP)
	@echo "make install: done ($(VENV))."

$(DEMO_DATA): | $(STAMP)
	$(PY) tools/dataset_converters/synthetic_cityscapes.py $(DEMO_DATA) \
	  --num-train 48 --num-val 12 --size 256 512 --seed 0

DEMO_IMG := $(DEMO_DATA)/leftImg8bit/val/frankfurt/frankfurt_000000_000019_leftImg8bit.png

demo: $(STAMP) $(DEMO_DATA)
	$(PY) tools/train.py $(DEMO_CFG) --work-dir work_dirs/demo
	$(PY) demo/image_demo.py $(DEMO_IMG) $(DEMO_CFG) "$$(cat work_dirs/demo/last_checkpoint)" \
	  --out-file work_dirs/demo/overlay.png

# TEST_WORKERS pytest processes (pytest-xdist), each with one thread (tests/
# conftest.py): the suite's many imports and subprocesses overlap on 2 cores.
# --durations=15: a slow new test is seen the day it lands.
TEST_WORKERS ?= 2
PYTEST   := $(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal

test: $(STAMP)
	$(PYTEST) --durations=15 tests

test-fast: $(STAMP)
	$(PYTEST) --fast tests

gpu-check: $(STAMP)
	$(PY) tools/analysis/gpu_check.py --out work_dirs/gpu_check

clean:
	rm -rf work_dirs build *.egg-info
