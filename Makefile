# splitvlm — two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck protos bench clean cluster-check

ONNX := splitvlm/checkpoints/onnx/manifest.json
CKPT := splitvlm/checkpoints

install: $(STAMP) $(ONNX)

# torch first, pinned: the CPU wheel this machine serves. Then the project with every extra.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[torch,hf,dev]'
	touch $(STAMP)

# The edge's ONNX graphs (fp32 + INT8 prefixes, tiny LM) are built from the shipped weights.
$(ONNX): $(STAMP) $(CKPT)/visual.safetensors $(CKPT)/lm-edge.safetensors
	$(BIN)/splitvlm export

demo: install
	$(BIN)/splitvlm demo

lint: install
	$(BIN)/ruff check splitvlm edge fog cloud tests

typecheck: install
	$(BIN)/mypy splitvlm edge fog cloud

test: lint typecheck
	$(BIN)/pytest -q

protos: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -Iprotos --python_out=. --grpc_python_out=. --pyi_out=. \
		$$(find protos -name '*.proto')

bench: install
	$(BIN)/splitvlm bench wire
	$(BIN)/splitvlm bench split
	$(BIN)/splitvlm bench cache
	$(BIN)/splitvlm bench batch
	$(BIN)/splitvlm bench cascade

# Not part of `make test`: root, a Docker daemon, docker-compose and debootstrap (see
# docs/operations.md, Containers). Builds the images, runs compose.yaml and checks it.
cluster-check: install
	$(BIN)/python deploy/cluster_check.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
