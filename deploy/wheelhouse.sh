#!/bin/sh
# Download every wheel the images install into build/wheels, with the host's pip and its
# package index (pip.conf, certificates): the image builds then install from there alone
# (`pip install --no-index`), needing no network and no index credentials inside a build.
#
#   deploy/wheelhouse.sh [PIP]        # default: python3.11 -m pip
set -eu

PIP=${1:-python3.11 -m pip}
OUT=build/wheels
mkdir -p "$OUT"
REQS=$(mktemp)
trap 'rm -f "$REQS"' EXIT

# The project's runtime dependencies (the edge image), then what fog, cloud and the export
# stage add: torch (the CPU wheel), onnx and onnxscript; setuptools builds the project.
python3 -c '
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(project["dependencies"]))
print("\n".join(d for d in project["optional-dependencies"]["torch"] if "matplotlib" not in d))
print("setuptools>=68\nwheel")' > "$REQS"
$PIP download --quiet --only-binary=:all: --dest "$OUT" -r "$REQS"
ls "$OUT" | wc -l | xargs printf '%s wheels in %s, ' "$OUT"
du -sh "$OUT" | cut -f1
