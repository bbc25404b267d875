# The README's two commands: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO := demo-output

.PHONY: template-baseline demo test test-slow test-containers test-browser test-slurm wheel lint bench venv clean paper-tables paper-grid paper-grid-tables quickstarts test-doc-blocks

venv: $(STAMP)

$(STAMP): pyproject.toml tools/install-torch.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	tools/install-torch.sh $(PY)
	$(PY) -m pip install -q -e ".[baseline,leaderboard,dev,report]"
	touch $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash tools/demo.sh $(DEMO)

quickstarts: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash tools/quickstarts.sh quickstart-output

paper-tables: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash tools/paper-tables.sh paper-output

# The paper grid at settings that learn (hours: SEEDS="0 1 2", DEVICE=cuda on a GPU), every run
# kept under benchmarks/results/paper-grid; the tables again from those files, without training.
paper-grid: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash tools/paper-grid.sh paper-grid-work

paper-grid-tables: $(STAMP)
	$(PY) benchmarks/paper_grid.py tables --out paper-grid-output --reference baseline-g1 --keep

test: $(STAMP)
	$(PY) -m pytest -q

test-containers: $(STAMP)
	bash tools/test-containers.sh

# The submission template with the reference baseline inside (WEIGHTS=run/model.pt, TAG=...),
# built, run on generated frames and validated (a container engine: tools/container-engine.sh).
template-baseline: $(STAMP)
	WEIGHTS="$(WEIGHTS)" bash tools/template-baseline.sh

test-browser: $(STAMP)
	bash tools/test-browser.sh

test-slurm: $(STAMP)
	bash tools/test-slurm.sh

wheel: $(STAMP)
	$(PY) -m pip wheel -q --no-deps . -w build/wheels

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check evaluation baseline leaderboard tests benchmarks submission_template

# The documentation's bash blocks marked slow (a container engine; tools/doc_blocks.py says how).
test-doc-blocks: $(STAMP)
	ENGINE=$$(bash tools/container-engine.sh | tail -n 1); \
	if [ "$$ENGINE" = podman ] || [ "$$ENGINE" = docker ]; then \
	  ENGINE=$$ENGINE $(PY) tools/doc_blocks.py --run slow; \
	else echo "test-doc-blocks: SKIPPED (no container engine can be had here)"; fi

bench: $(STAMP)
	$(PY) benchmarks/bench_scoring.py
	$(PY) benchmarks/bench_data.py
	$(PY) benchmarks/bench_baseline.py
	$(PY) benchmarks/soft_argmax_temperature.py
	$(PY) benchmarks/bench_point_flood.py
	$(PY) benchmarks/bench_predict.py
	$(PY) benchmarks/bench_atomic_writes.py
	$(PY) benchmarks/bench_synth.py --presets --sigma-sweep
	$(PY) benchmarks/bench_codec.py
	$(PY) benchmarks/demo_seeds.py --repeat --time-demo
	[ -f $(DEMO)/run/model.pt ] || $(MAKE) demo
	$(PY) benchmarks/bench_input_scaling.py $(DEMO)/run
	$(PY) benchmarks/demo_verdicts.py $(DEMO)/leaderboard
	$(PY) benchmarks/bench_publish.py
	$(PY) benchmarks/paper_grid_cost.py

clean:
	rm -rf $(DEMO) paper-output quickstart-output .pytest_cache .ruff_cache
