#!/usr/bin/env bash
# Regenerates the Swift code for every .proto under Shared/Proto into Shared/Contracts/Generated.
# Needs protoc (Debian: protobuf-compiler) and builds protoc-gen-swift from the swift-protobuf
# dependency; CI never runs this, it builds the committed output.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
command -v protoc >/dev/null || { apt-get update -qq && apt-get install -y -qq protobuf-compiler; }
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
echo "generated $(ls "$root/$out" | wc -l) files in $out"
