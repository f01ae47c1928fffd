#!/bin/bash
# The toolstack's remaining xl parts on real guests (a private kxend):
# create -p (starts paused, lists as p, unpause runs it).
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
export XENSTORED_PATH=$tmp/xenstored.sock
export KXEN_RUN_DIR=$tmp/run KXEN_LOG_DIR=$tmp/log
kxl=$BUILD/bin/kxl
"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$tmp/state" >"$tmp/kxend.log" 2>&1 &
KXEND_PID=$!
for _ in $(seq 50); do xenstore-ls / >/dev/null 2>&1 && break; sleep 0.1; done
finish() {
	for n in ts-paused ts-auto; do "$kxl" destroy "$n" >/dev/null 2>&1; done
	kill "$KXEND_PID" 2>/dev/null
	wait "$KXEND_PID" 2>/dev/null
	[ -n "${KXEN_TS_KEEP:-}" ] && rm -rf "$KXEN_TS_KEEP" && cp -r "$tmp" "$KXEN_TS_KEEP" 2>/dev/null
	rm -rf "$tmp"
}
trap finish EXIT

row() { "$kxl" list 2>/dev/null | awk -v n="$1" '$1 == n'; }
state() { row "$1" | awk '{ print $5 }'; }

# --- create -p ---
plog=$KXEN_LOG_DIR/console-ts-paused.log
"$kxl" create -q -p examples/demo.cfg name=ts-paused memory=200 vcpus=1 \
	"extra=console=hvc0 quiet kxen.test=idle"
rc=$?
sleep 3
st=$(state ts-paused)
t0=$(row ts-paused | awk '{ print $6 }')
if [ "$rc" = 0 ] && [[ $st == --p--- ]] && ! grep -q '^IDLE-READY' "$plog" 2>/dev/null; then
	pass "toolstack: create -p lists the domain as paused ($st, Time(s) $t0) and it does not boot"
else
	fail "toolstack: create -p starts paused" "rc=$rc state=$st time=$t0 $(tail -2 "$plog" 2>&1 | tr '\n' '|')"
fi
if "$kxl" unpause ts-paused && wait_for_line "$plog" '^IDLE-READY' 240 &&
	[[ $(state ts-paused) == [rb-][rb-]---- ]]; then
	pass "toolstack: unpause of a create -p domain runs it to its init ($(state ts-paused))"
else
	fail "toolstack: unpause after create -p" "state=$(state ts-paused) $(tail -2 "$plog" 2>&1 | tr '\n' '|')"
fi
"$kxl" destroy ts-paused >/dev/null 2>&1
