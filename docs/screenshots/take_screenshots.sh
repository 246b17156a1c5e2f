#!/bin/sh
# Screenshots of the real app in a real X window (Xvfb + openbox), driven with xdotool.
#   docs/screenshots/take_screenshots.sh 1366x768 DATA_DIR   (or 1920x1080)
# DATA_DIR is a copy of a demo data folder (see README); the app runs on it, never on yours.
# Needs: apt-get install xvfb openbox xdotool imagemagick.  Coordinates below are those of
# the window as the app opens it (fitted to the screen, navigation list on the left).
set -eu
SIZE=$1; DATA=$2; OUT=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$OUT/../.." && pwd)
W=${SIZE%x*}; H=${SIZE#*x}; D=:$((90 + W % 7))
Xvfb $D -screen 0 ${SIZE}x24 -nolisten tcp & XVFB=$!
sleep 1; DISPLAY=$D openbox & WM=$!; sleep 1
DISPLAY=$D NORDIC_STATION_HOME=$DATA "$ROOT/.venv/bin/nordic-station" gui & APP=$!
trap 'kill $APP $WM $XVFB 2>/dev/null' EXIT
export DISPLAY=$D
WIN=$(xdotool search --sync --name '^Nordic Station$' | tail -1); sleep 3
[ "$W" -gt 1366 ] && xdotool windowsize "$WIN" $((W - 10)) $((H - 50)) windowmove "$WIN" 0 0 && sleep 1
click() { xdotool mousemove --window "$WIN" "$1" "$2" click 1; sleep "${3:-1}"; }
shot() { import -window root "$OUT/$1-$W.png"; }
xdotool key ctrl+1; sleep 1
click 400 293; shot athletes-long-name              # the 80-character name (6th row)
click 300 133; shot athletes                        # Ada, with her last results
xdotool key ctrl+2; sleep 1
VIRTUAL_Y=452                                        # "Use the virtual rig"
click $((W / 2)) $VIRTUAL_Y 3
xdotool key t; sleep 1.5; xdotool key space; sleep 16; shot live-test
sleep 14; xdotool key space; sleep 3; shot results
xdotool key ctrl+5; sleep 2; shot history
xdotool key ctrl+6; sleep 2; shot team
xdotool key ctrl+7; sleep 2; shot calibration
