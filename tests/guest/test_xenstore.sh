#!/bin/bash
# xenstore seen from inside a real guest, through its store ring: own
# nodes, permissions, a watch fired by the host, the quota, and a kxend
# restart (kill -9) that the running guest survives.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
state=$tmp/state
export XENSTORED_PATH=$tmp/xenstored.sock
export KXEN_RUN_DIR=$tmp/run KXEN_LOG_DIR=$tmp/log
start_kxend() {
	"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$state" \
		>>"$tmp/kxend.log" 2>&1 &
	KXEND_PID=$!
	for _ in $(seq 50); do [ -S "$XENSTORED_PATH" ] && xenstore-ls / >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
if ! start_kxend; then
	fail "xenstore: kxend starts" "$(tail -3 "$tmp/kxend.log" | tr '\n' '|')"
	exit 0
fi
xenstore-write /local/domain/0/kxen-test-secret s3cret
xenstore-write /local/domain/99/data/x other
xenstore-chmod /local/domain/99/data/x n99

out=$tmp/console
boot_guest_bg "$out" examples/demo.cfg name=xs-test "extra=console=hvc0 quiet kxen.test=xenstore"
if wait_for_line "$out" '^XS-WATCH-SET' 180; then
	id=$(sed -n 's/^XS-DOMID=\([0-9]*\).*/\1/p' "$out" | head -1)
	xenstore-write "/local/domain/$id/data/poke" ping
fi
wait_for_line "$out" '^XS-WAITING-FOR-SHUTDOWN' 240
id=$(sed -n 's/^XS-DOMID=\([0-9]*\).*/\1/p' "$out" | head -1)

if [ -n "$id" ] && grep -q '^XS-WRITE-OWN-OK' "$out" && grep -q "^XS-READ-OWN=hello from $id" "$out"; then
	pass "xenstore: the guest reads and writes its own data/ nodes"
else
	fail "xenstore: own nodes" "$(grep '^XS-' "$out" | head -4 | tr '\n' '|')"
fi
if grep -q '^XS-DOM0-DENIED' "$out" && grep -q '^XS-DOM0-WRITE-DENIED' "$out" && grep -q '^XS-OTHER-DENIED' "$out"; then
	pass "xenstore: the guest is refused dom0's private nodes and another domain's"
else
	fail "xenstore: permissions" "$(grep -E '^XS-(DOM0|OTHER)' "$out" | tr '\n' '|')"
fi
if grep -q "^XS-WATCH-EVENT /local/domain/$id/data/poke" "$out" && [ "$(grep -c '^XS-WATCH-EVENT' "$out")" -ge 2 ]; then
	pass "xenstore: a watch set by the guest fires (initial event, then the host's write)"
else
	fail "xenstore: guest watch" "$(grep '^XS-WATCH' "$out" | tr '\n' '|')"
fi
flood=$(sed -n 's/^XS-FLOOD-STOPPED n=\([0-9]*\).*/\1/p' "$out" | head -1)
# libxenstore's tools print no errno; the flood must stop far short of
# 5000 nodes (kxend's per-domain node quota) and the host must not notice.
if [ -n "$flood" ] && [ "$flood" -gt 100 ] && [ "$flood" -lt 5000 ] &&
	xenstore-write /local/domain/0/after-flood ok &&
	[ "$(xenstore-read /local/domain/0/after-flood)" = ok ]; then
	pass "xenstore: a flooding guest hits its quota ($(sed -n 's/^XS-FLOOD-STOPPED \(n=[0-9]*\).*/\1/p' "$out")); host clients keep working"
else
	fail "xenstore: quota" "$(grep '^XS-FLOOD' "$out" | tr '\n' '|')"
fi

# kill -9 and restart: the tree is intact and the guest still obeys.
kill -9 "$KXEND_PID"
wait "$KXEND_PID" 2>/dev/null
start_kxend
if [ "$(timeout 10 xenstore-read "/local/domain/$id/name" 2>/dev/null)" = xs-test ] &&
	[ "$(timeout 10 xenstore-read "/local/domain/$id/data/greeting" 2>/dev/null)" = "hello from $id" ]; then
	pass "xenstore: after kill -9 and a restart of kxend the tree is intact"
else
	fail "xenstore: restart keeps the tree" "$(xenstore-ls "/local/domain/$id" 2>&1 | head -5 | tr '\n' '|')"
fi
sleep 2 # the domain process re-introduces the guest within 0.5 s
if timeout 10 xenstore-read "/local/domain/$id/control/shutdown" >/dev/null 2>&1; then
	pass "xenstore: after the restart the domain process has introduced the guest again"
else
	fail "xenstore: re-introduction" "$(xenstore-ls "/local/domain/$id" 2>&1 | head -3 | tr '\n' '|')"
fi
# The guest's own xenbus shutdown watch (Linux's, set before the restart)
# must still fire: the host asks for a power-off through control/shutdown.
timeout 10 xenstore-write "/local/domain/$id/control/shutdown" poweroff
if wait_bg 60 && grep -q 'reboot: Power down' "$out" && grep -q 'reason code 0' "$out"; then
	pass "xenstore: after the restart the running guest powers off when the host writes control/shutdown"
else
	fail "xenstore: control/shutdown after restart" "$(tail -3 "$out" | tr '\n' '|')"
	"$BUILD/bin/kxl" destroy xs-test 2>/dev/null
	wait_bg 30
fi
if [ -z "$(timeout 10 xenstore-list /local/domain 2>/dev/null | grep -x "$id")" ]; then
	pass "xenstore: the domain's tree is removed when it is destroyed"
else
	fail "xenstore: tree removed" "$(xenstore-list /local/domain | tr '\n' ' ')"
fi
# Bounded: a wedged kxend must not hang the suite.
kill "$KXEND_PID" 2>/dev/null
for _ in $(seq 50); do kill -0 "$KXEND_PID" 2>/dev/null || break; sleep 0.1; done
kill -9 "$KXEND_PID" 2>/dev/null
wait "$KXEND_PID" 2>/dev/null
rm -rf "$tmp"
