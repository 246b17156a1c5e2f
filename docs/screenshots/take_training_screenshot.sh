#!/bin/sh
# The training screen at 1366x768 in a real X window (Xvfb + openbox), driven with xdotool:
#   docs/screenshots/take_training_screenshot.sh DATA_DIR
# DATA_DIR: a throw-away data folder with one athlete (first in the list) and, for the
# "last max" line, a Nordic test of theirs.  The shot is taken while both legs are in the zone.
# Needs: apt-get install xvfb openbox xdotool imagemagick.
set -eu
DATA=$1; OUT=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$OUT/../.." && pwd); D=:96
Xvfb $D -screen 0 1366x768x24 -nolisten tcp & XVFB=$!
sleep 1; DISPLAY=$D openbox & WM=$!; sleep 1
DISPLAY=$D NORDIC_STATION_HOME=$DATA "$ROOT/.venv/bin/nordic-station" gui & APP=$!
trap 'kill $APP $WM $XVFB 2>/dev/null' EXIT
export DISPLAY=$D
xdotool search --sync --name '^Nordic Station$' >/dev/null; sleep 4
at() { xdotool mousemove "$1" "$2" click --repeat "${4:-1}" 1; sleep "${3:-1}"; }
badge() { import -window root png:- | convert - -crop 1x1+"$1"+"$2" -format '%[hex:u.p{0,0}]' info:; }
xdotool key ctrl+1; sleep 1.5; at 300 174 1.5            # the first athlete
xdotool key ctrl+2; sleep 1.5; at 773 493 5              # "Use the virtual rig": Test screen
at 1278 67 2                                             # "Training mode"
at 357 105 0.3 3; xdotool key ctrl+a type 200; xdotool key Tab
at 475 105 0.3 3; xdotool key ctrl+a type 300; xdotool key Tab
at 741 105 2                                             # Set zone
xdotool key t; sleep 1; xdotool key space; sleep 4       # tare, start
for _ in $(seq 1 80); do                                 # both legs' badges green: IN ZONE
  [ "$(badge 1273 229)" = 1B7F3B ] && [ "$(badge 1273 378)" = 1B7F3B ] && break; sleep 0.25
done
sleep 0.3; import -window root "$OUT/training-1366.png"
sleep 1; xdotool key space; sleep 4                       # stop: the session is saved
