#!/bin/bash
# kxend's durability: kill -9 and a restart with the same --state-dir keep the tree and the
# permissions (journal fsync'd per change, compacted into a snapshot); a torn journal tail is
# dropped, a corrupt snapshot refused; one kxend per state directory and per socket; the
# daemon mode.  Prints the restart times measured.
. "$(dirname "$0")/lib.sh"

client=$BUILD/host-tests/xs_client
if ! kxend_start; then
	fail "kxend: starts" "$(tail -3 "$XS_LOG")"
	exit 0
fi
xenstore-write /local/domain/3/name guest /local/domain/3/data/v 42 /keep/a "x y"
xenstore-chmod -r /local/domain/3 n3 r0
xenstore-chmod /keep/a n0 r3 w4
xenstore-rm /keep/gone 2>/dev/null
xenstore-write /keep/gone 1
xenstore-rm /keep/gone
before=$(xenstore-ls -p / | sed 's/ *[. ]*(/ (/')

kxend_stop KILL
t0=$(now_ms)
if kxend_start; then
	t1=$(now_ms)
	pass "restart: kxend starts again after kill -9"
	echo "# restart of a small tree: answering $((t1 - t0)) ms after the kill"
else
	fail "restart: kxend starts again after kill -9" "$(tail -3 "$XS_LOG")"
	exit 0
fi
after=$(xenstore-ls -p / | sed 's/ *[. ]*(/ (/')
if [ "$before" = "$after" ]; then
	pass "restart: the tree and the permissions are intact"
else
	fail "restart: the tree and the permissions are intact" \
		"$(diff <(echo "$before") <(echo "$after") | head -5)"
fi
expect "restart: a removed node stays removed" "1" \
	bash -c 'xenstore-exists /keep/gone; echo $?'

# A bigger tree: 20000 nodes, then kill -9 and time the restart.
if "$client" fill /big 20000; then
	pass "restart: 20000 nodes written in transactions"
else
	fail "restart: 20000 nodes written in transactions" "xs_client fill failed"
fi
for i in $(seq 50); do xenstore-write "/big/d7/n$((700 + i))" "changed $i"; done
expect "restart: node count before the kill" "20000" bash -c 'xenstore-ls -f /big | grep -c "/n[0-9]* ="'
kxend_stop KILL
ls -l "$XS_STATE" | sed 's/^/# /'
t0=$(now_ms)
kxend_start
t1=$(now_ms)
echo "# restart with $(($(xenstore-ls -f / | wc -l))) nodes: answering $((t1 - t0)) ms after the kill;" \
	"$(grep -o 'loaded in [0-9.]* ms' "$XS_LOG" | tail -1)"
expect "restart: 20000 nodes back" "20000" bash -c 'xenstore-ls -f /big | grep -c "/n[0-9]* ="'
expect "restart: the last writes before the kill are there" "changed 50" xenstore-read /big/d7/n750

# A torn last batch (a crash in the middle of a write) is dropped, the rest loads.
xenstore-write /torn/ok 1
kxend_stop KILL
printf '\001\000\000\000\377\000\000\000partial' >>"$XS_STATE/journal"
if kxend_start && [ "$(xenstore-read /torn/ok)" = 1 ]; then
	pass "restart: a torn journal tail is dropped, the rest loads"
else
	fail "restart: a torn journal tail is dropped, the rest loads" "$(tail -3 "$XS_LOG")"
fi
if grep -q 'dropping 15 bytes of an incomplete last batch' "$XS_LOG"; then
	pass "restart: the dropped tail is logged"
else
	fail "restart: the dropped tail is logged" "$(tail -2 "$XS_LOG")"
fi

# One kxend per state directory, one per socket; a stale socket is replaced.
if "$BUILD/bin/kxend" -F --socket "$XS_TMP/other.sock" --state-dir "$XS_STATE" \
	>"$XS_TMP/second.log" 2>&1; then
	fail "kxend: a second kxend on the same state directory is refused" "it ran"
elif grep -q 'in use by another kxend' "$XS_TMP/second.log"; then
	pass "kxend: a second kxend on the same state directory is refused"
else
	fail "kxend: a second kxend on the same state directory is refused" "$(cat "$XS_TMP/second.log")"
fi
if "$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$XS_TMP/state2" \
	>"$XS_TMP/third.log" 2>&1; then
	fail "kxend: a second kxend on a live socket is refused" "it ran"
elif grep -q 'another xenstore daemon is listening' "$XS_TMP/third.log"; then
	pass "kxend: a second kxend on a live socket is refused"
else
	fail "kxend: a second kxend on a live socket is refused" "$(cat "$XS_TMP/third.log")"
fi

# Compaction: the journal is folded into the snapshot as it grows.
for i in $(seq 3); do "$client" fill "/churn$i" 10000 && xenstore-rm "/churn$i"; done
kxend_stop
jsize=$(stat -c %s "$XS_STATE/journal")
ssize=$(stat -c %s "$XS_STATE/snapshot")
echo "# after churn: journal $jsize bytes, snapshot $ssize bytes;" \
	"$(grep -o '[0-9]* journal syncs, [0-9]* compactions' "$XS_LOG" | tail -1)"
if [ "$jsize" -lt $((4 * 1024 * 1024)) ] && grep -q '[1-9][0-9]* compactions' "$XS_LOG"; then
	pass "persistence: the journal is compacted into the snapshot"
else
	fail "persistence: the journal is compacted into the snapshot" "journal $jsize bytes"
fi

# A corrupt snapshot is refused (never a silently emptied store).
cp "$XS_STATE/snapshot" "$XS_TMP/snapshot.good"
printf 'XX' | dd of="$XS_STATE/snapshot" bs=1 seek=100 conv=notrunc 2>/dev/null
if kxend_start; then
	fail "persistence: a corrupt snapshot is refused" "kxend started"
	kxend_stop
elif grep -q 'snapshot: corrupt at byte' "$XS_LOG"; then
	pass "persistence: a corrupt snapshot is refused"
else
	fail "persistence: a corrupt snapshot is refused" "$(tail -2 "$XS_LOG")"
fi
KXEND_PID=
cp "$XS_TMP/snapshot.good" "$XS_STATE/snapshot"

# The daemon: without -F it forks, returns when it serves, logs to syslog.
if "$BUILD/bin/kxend" --socket "$XENSTORED_PATH" --state-dir "$XS_STATE" \
	--pid-file "$XS_TMP/kxend.pid" && [ "$(xenstore-read /local/domain/3/data/v)" = 42 ]; then
	pass "kxend: daemon mode serves as soon as the command returns"
else
	fail "kxend: daemon mode serves as soon as the command returns" "no answer"
fi
KXEND_PID=$(cat "$XS_TMP/kxend.pid" 2>/dev/null)
kxend_stop
for _ in $(seq 50); do [ -e "$XENSTORED_PATH" ] || break; sleep 0.1; done
if [ ! -e "$XENSTORED_PATH" ] && [ ! -e "$XS_TMP/kxend.pid" ]; then
	pass "kxend: SIGTERM stops the daemon, removing its socket and pid file"
else
	fail "kxend: SIGTERM stops the daemon, removing its socket and pid file" "still there"
fi
