#!/usr/bin/env bash
# Takes a screenshot of the GUI example under Xvfb, once a streamed reply from
# the bundled local server is shown, and writes it to docs/gui.png (or $1).
#
# Needs Debian's xvfb, xauth and imagemagick (see the GUI step of .ci/run for
# the full list of packages).
#
#   examples/gui/screenshot.sh [OUT.png]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(realpath -m "${1:-$here/../../docs/gui.png}")"
mkdir -p "$(dirname "$out")"

for tool in xvfb-run import; do
    command -v "$tool" >/dev/null || {
        echo "$tool is missing: apt-get install xvfb xauth imagemagick" >&2
        exit 1
    }
done

(cd "$here" && cargo build --quiet)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Runs inside the virtual display: the app in scripted mode, kept open for a
# while after the reply is complete; the shot is taken once the app has
# printed the reply (which it does after a frame showing all of it was drawn).
cat > "$work/shoot.sh" <<'EOF'
set -euo pipefail
bin="$1" out="$2" work="$3"
BEDROCK_GUI_SCRIPT="Create a list of 3 pop songs." BEDROCK_GUI_HOLD_MS=6000 \
    "$bin" --local > "$work/stdout" 2> "$work/stderr" &
app=$!
for _ in $(seq 1 300); do
    grep -q '^Done (' "$work/stdout" 2>/dev/null && break
    kill -0 "$app" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '^Done (' "$work/stdout"; then
    echo "the reply never arrived" >&2
    cat "$work/stderr" >&2
    kill "$app" 2>/dev/null || true
    exit 1
fi
sleep 0.5 # let the frame that shows the whole reply reach the screen
import -window root "png:$out"
wait "$app"
EOF

# The screen is the window's size, so the root window is the app's window.
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_PROFILE -u AWS_BEARER_TOKEN_BEDROCK \
    timeout 120 xvfb-run -a -s "-screen 0 720x480x24" \
    bash "$work/shoot.sh" "${CARGO_TARGET_DIR:-$here/target}/debug/bedrock-converse-gui" "$out" "$work"
cat "$work/stdout"
echo "wrote $out ($(stat -c %s "$out") bytes)"
