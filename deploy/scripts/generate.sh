#!/usr/bin/env bash
# Regenerates the Swift code for every .proto under Shared/Proto into Shared/Contracts/Generated:
# the messages (protoc-gen-swift) and the method table Methods.swift (generate-methods.py).
# Needs protoc (Debian: protobuf-compiler) and grpcio-tools (PyPI), and builds protoc-gen-swift
# from the swift-protobuf dependency; CI never runs this, it builds the committed output.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
command -v protoc >/dev/null || { apt-get update -qq && apt-get install -y -qq protobuf-compiler; }
python3 -c 'import grpc_tools' 2>/dev/null || python3 -m pip install -q grpcio-tools
plugin=${PROTOC_GEN_SWIFT:-}
if [ -z "$plugin" ]; then
  swift build -c release --product protoc-gen-swift --scratch-path .build-protoc >/dev/null
  plugin="$root/.build-protoc/release/protoc-gen-swift"
fi
out=Shared/Contracts/Generated
rm -rf "$out" && mkdir -p "$out"
cd Shared/Proto
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_out="$root/$out" --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
  $(find . -name '*.proto' | sed 's|^\./||' | sort)
cd "$root"
python3 deploy/scripts/generate-methods.py "$out/Methods.swift"
echo "generated $(ls "$root/$out" | wc -l) files in $out"
