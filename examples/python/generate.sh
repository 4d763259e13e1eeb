#!/usr/bin/env bash
# Generates the Python stubs for proto/qlink/v1/*.proto into examples/python/gen/
# (gitignored). Needs grpcio-tools: `pip install -r examples/python/requirements.txt`.
# Usage: bash examples/python/generate.sh [python]   (default: python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${1:-python3}"
out="$here/gen"

rm -rf "$out"
mkdir -p "$out"
# -I proto: the modules come out as qlink/v1/*_pb2.py and import each other as
# qlink.v1.common_pb2 (namespace packages; put $out on sys.path).
# grpc_tools bundles google/protobuf/timestamp.proto.
(cd "$root" && "$python" -m grpc_tools.protoc -I proto \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  proto/qlink/v1/*.proto)
