#!/usr/bin/env bash
# The public API listing (public-api.txt): checked against this build, or
# rewritten with --bless. Needs a nightly toolchain (rustdoc's JSON output is
# unstable). It shares the target directory with the docs.rs build, whose
# nightly dependencies it reuses.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo +nightly rustdoc -q -p bedrock-converse --lib --all-features \
    -- -Z unstable-options --output-format json
json="$target/doc/bedrock_converse.json"
if [ "${1:-}" = "--bless" ]; then
    python3 .ci/public_api.py "$json" > public-api.txt
    echo "public-api.txt: $(wc -l < public-api.txt) lines"
else
    python3 .ci/public_api.py --check public-api.txt "$json"
fi
