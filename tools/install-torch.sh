#!/usr/bin/env bash
# Install the CPU build of torch into the given Python, never the multi-GB CUDA build by accident.
# Order: already installed -> local wheel folder (PIP_FIND_LINKS or /opt/wheels) -> TORCH_INDEX if
# set (e.g. a CUDA index on a GPU machine) -> PyTorch's CPU index.
set -euo pipefail
PY=${1:?usage: install-torch.sh PYTHON}
VERSION=${TORCH_VERSION:-2.13.0}
if "$PY" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$VERSION' else 1)" 2>/dev/null; then
  echo "torch $VERSION already installed"; exit 0
fi
for dir in ${PIP_FIND_LINKS:-} /opt/wheels; do
  if ls "$dir"/torch-"$VERSION"*.whl >/dev/null 2>&1; then
    echo "installing torch $VERSION from $dir"
    exec "$PY" -m pip install -q --find-links "$dir" "torch==$VERSION"
  fi
done
if [ -n "${TORCH_INDEX:-}" ]; then
  echo "installing torch $VERSION from $TORCH_INDEX"
  exec "$PY" -m pip install -q --index-url "$TORCH_INDEX" "torch==$VERSION"
fi
echo "installing torch $VERSION (CPU build) from https://download.pytorch.org/whl/cpu"
exec "$PY" -m pip install -q --index-url https://download.pytorch.org/whl/cpu "torch==$VERSION"
