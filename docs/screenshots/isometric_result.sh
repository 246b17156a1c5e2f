#!/bin/sh
# Screenshot of an isometric result (issue 15) in a real X window (Xvfb + openbox).
#   docs/screenshots/isometric_result.sh 1366x768
# Makes its own demo data folder (a temporary one, removed at the end).
# Needs: apt-get install xvfb openbox imagemagick.
set -eu
SIZE=${1:-1366x768}; OUT=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$OUT/../.." && pwd)
W=${SIZE%x*}; D=:$((70 + W % 7))
WORK=$(mktemp -d)
Xvfb $D -screen 0 ${SIZE}x24 -nolisten tcp & XVFB=$!
sleep 1; DISPLAY=$D openbox & WM=$!; sleep 1
APP=
trap 'kill $APP $WM $XVFB 2>/dev/null; rm -rf "$WORK"' EXIT
export DISPLAY=$D
shoot() {  # $1: image name, $2: extra argument for the demo (rfd: the RFD tab)
  rm -rf "$WORK/data" "$WORK/ready"
  NORDIC_STATION_HOME="$WORK/data" "$ROOT/.venv/bin/python" "$OUT/isometric_result.py" \
    "$WORK/data" "$WORK/ready" ${2:-} & APP=$!
  i=0; while [ ! -f "$WORK/ready" ] && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
  import -window root "$OUT/$1-$W.png"
  kill $APP; wait $APP 2>/dev/null || true; APP=
}
shoot isometric-result
shoot isometric-rfd rfd
