#!/bin/bash
# scripts/kxendomains on real guests (a private kxend, a private auto directory): start creates
# the configs linked in KXEN_AUTO_DIR (two idle guests, and a config with an error that is
# reported without keeping the others from starting), status reports them, a second start
# starts no duplicate, restart brings them up again, stop shuts them all down (power-off in
# their consoles, no domain process, no /local/domain/<id> left).  systemd does not run in the
# test host: tests/host/test_systemd_units.sh checks the units.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
export XENSTORED_PATH=$tmp/xenstored.sock
export KXEN_RUN_DIR=$tmp/run KXEN_LOG_DIR=$tmp/log
export KXEN_AUTO_DIR=$tmp/auto KXL=$BUILD/bin/kxl KXEN_DOMAINS_STOP_MAXWAIT=120
kxl=$BUILD/bin/kxl
kd=scripts/kxendomains
mkdir -p "$KXEN_RUN_DIR" "$KXEN_LOG_DIR" "$KXEN_AUTO_DIR" "$tmp/cfg"
"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$tmp/state" >"$tmp/kxend.log" 2>&1 &
KXEND_PID=$!
for _ in $(seq 50); do xenstore-ls / >/dev/null 2>&1 && break; sleep 0.1; done
finish() {
	local n
	for n in as-one as-two as-bad; do timeout 20 "$kxl" destroy "$n" >/dev/null 2>&1; done
	kill "$KXEND_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$KXEND_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$KXEND_PID" 2>/dev/null
	wait "$KXEND_PID" 2>/dev/null
	# KXEN_AS_KEEP=DIR keeps the logs there, for debugging.
	[ -n "${KXEN_AS_KEEP:-}" ] && rm -rf "$KXEN_AS_KEEP" && cp -r "$tmp" "$KXEN_AS_KEEP" 2>/dev/null
	rm -rf "$tmp"
}
trap finish EXIT

# The guests: examples/demo.cfg with the image's absolute path (kxendomains runs from
# anywhere), small, running tests/guest/in-guest/idle.sh; linked into the auto directory as
# an administrator does.  as-bad has a syntax error and sorts first.
for n in as-one as-two; do
	sed -e "s|^name = .*|name = \"$n\"|" -e "s|\"build/images/|\"$BUILD/images/|" \
		-e 's|^extra = .*|extra = "console=hvc0 quiet kxen.test=idle"|' \
		-e 's|^memory = .*|memory = 128|' -e 's|^vcpus = .*|vcpus = 1|' \
		examples/demo.cfg >"$tmp/cfg/$n.cfg"
	ln -s "$tmp/cfg/$n.cfg" "$KXEN_AUTO_DIR/$n.cfg"
done
{ sed 's|^name = .*|name = "as-bad"|' "$tmp/cfg/as-one.cfg"; echo 'memory = = 64'; } >"$tmp/cfg/as-bad.cfg"
ln -s "$tmp/cfg/as-bad.cfg" "$KXEN_AUTO_DIR/as-bad.cfg"

# kd ARGS...: kxendomains ARGS, its output in $tmp/kd.out, through a pipe (as systemd's journal
# or logger reads it: a domain process that kept the pipe open would hold it), at most 300 s.
kd() {
	timeout -k 5 300 bash -o pipefail -c '"$@" 2>&1 | cat' _ "$kd" "$@" >"$tmp/kd.out"
}
row() { "$kxl" list 2>/dev/null | awk -v n="$1" '$1 == n'; }
nrows() { "$kxl" list 2>/dev/null | awk -v n="$1" '$1 == n' | wc -l; }
ready() { grep -c '^IDLE-READY' "$KXEN_LOG_DIR/console-$1.log" 2>/dev/null; }
kdout() { tr '\n' '|' <"$tmp/kd.out"; }

# --- start: both guests up, the bad config reported ---
t0=$SECONDS
kd start
rc=$?
dt=$((SECONDS - t0))
if [ "$rc" = 1 ] && [ "$dt" -lt 120 ] && grep -q "as-bad.cfg did not start" "$tmp/kd.out" &&
	grep -q "as-bad.cfg:[0-9]*:" "$tmp/kd.out"; then
	pass "autostart: start reports the config with an error (file, line; exit 1) and returns ($dt s)"
else
	fail "autostart: start reports the bad config" "rc=$rc after $dt s: $(kdout)"
fi
if [ -n "$(row as-one)" ] && [ -n "$(row as-two)" ] && [ -z "$(row as-bad)" ] &&
	wait_for_line "$KXEN_LOG_DIR/console-as-one.log" '^IDLE-READY' 240 &&
	wait_for_line "$KXEN_LOG_DIR/console-as-two.log" '^IDLE-READY' 240; then
	pass "autostart: start creates both linked configs after the bad one; kxl list shows them, their consoles say IDLE-READY"
else
	fail "autostart: start creates the guests" "$("$kxl" list 2>&1 | tr '\n' '|') $(kdout) \
$(tail -2 "$KXEN_LOG_DIR"/console-as-*.log 2>&1 | tr '\n' '|')"
fi
id1=$("$kxl" domid as-one 2>/dev/null)
id2=$("$kxl" domid as-two 2>/dev/null)
pid1=$(awk '{ print $3 }' "$KXEN_RUN_DIR/domains/$id1" 2>/dev/null)
pid2=$(awk '{ print $3 }' "$KXEN_RUN_DIR/domains/$id2" 2>/dev/null)

# --- status ---
kd status
rc=$?
if [ "$rc" = 3 ] && grep -qx 'as-one: running' "$tmp/kd.out" && grep -qx 'as-two: running' "$tmp/kd.out" &&
	grep -qx 'as-bad: not running' "$tmp/kd.out"; then
	pass "autostart: status reports as-one and as-two running, as-bad not (exit 3)"
else
	fail "autostart: status" "rc=$rc $(kdout)"
fi

# --- a second start: no duplicate ---
kd start
rc=$?
sleep 2
if grep -q 'as-one .* is already running' "$tmp/kd.out" &&
	grep -q 'as-two .* is already running' "$tmp/kd.out" &&
	[ "$(nrows as-one)" = 1 ] && [ "$(nrows as-two)" = 1 ] &&
	[ "$("$kxl" list | wc -l)" = 4 ] && [ "$(ls "$KXEN_RUN_DIR/domains" | wc -l)" = 2 ] &&
	[ "$("$kxl" domid as-one)" = "$id1" ] && [ "$("$kxl" domid as-two)" = "$id2" ] &&
	[ "$(ready as-one)" = 1 ] && [ "$(ready as-two)" = 1 ]; then
	pass "autostart: a second start says both are running and starts no duplicate (ids $id1 $id2 kept)"
else
	fail "autostart: second start" "rc=$rc $(kdout) list: $("$kxl" list | tr '\n' '|')"
fi

# gone ID PID LOG: the domain ID is shut down: powered off in LOG, not listed, PID ended, no
# /local/domain/ID in xenstore, no control socket.
gone() {
	grep -q 'reboot: Power down' "$3" && ! "$kxl" list 2>/dev/null | awk '{ print $2 }' | grep -qx "$1" &&
		! kill -0 "$2" 2>/dev/null && ! xenstore-exists "/local/domain/$1" 2>/dev/null &&
		[ ! -e "$KXEN_RUN_DIR/domain-$1.sock" ]
}
# shut_down_ok: kd.out says both ids were shut down with reason 0 (poweroff), as xl says it.
shut_down_ok() {
	grep -q "^Domain $1 has been shut down, reason code 0$" "$tmp/kd.out" &&
		grep -q "^Domain $2 has been shut down, reason code 0$" "$tmp/kd.out"
}

# --- restart: both shut down and created again ---
# (kxl create starts each domain's console log afresh; kxen reuses free domain ids, so the
# new domains are told apart by their processes.)
kd restart
rc=$?
n1=$("$kxl" domid as-one 2>/dev/null)
n2=$("$kxl" domid as-two 2>/dev/null)
p1=$(awk '{ print $3 }' "$KXEN_RUN_DIR/domains/$n1" 2>/dev/null)
p2=$(awk '{ print $3 }' "$KXEN_RUN_DIR/domains/$n2" 2>/dev/null)
if [ "$rc" = 1 ] && shut_down_ok "$id1" "$id2" && grep -q 'starting as-one' "$tmp/kd.out" &&
	[ -n "$p1" ] && [ -n "$p2" ] && ! kill -0 "$pid1" 2>/dev/null && ! kill -0 "$pid2" 2>/dev/null &&
	[ "$p1" != "$pid1" ] && [ "$p2" != "$pid2" ] &&
	wait_for_line "$KXEN_LOG_DIR/console-as-one.log" '^IDLE-READY' 240 &&
	wait_for_line "$KXEN_LOG_DIR/console-as-two.log" '^IDLE-READY' 240; then
	pass "autostart: restart shuts both down (reason 0) and starts them again (new processes $p1 $p2, IDLE-READY)"
else
	fail "autostart: restart" "rc=$rc ids $n1 $n2 pids $pid1 $pid2 -> $p1 $p2 $(kdout)"
fi
pid1=$p1 pid2=$p2

# --- stop (asked to save: not implemented, shuts down instead) ---
KXEN_DOMAINS_SAVE=$tmp/save kd stop
rc=$?
if [ "$rc" = 0 ] && shut_down_ok "$n1" "$n2" && grep -q 'saving domains is not implemented' "$tmp/kd.out" &&
	grep -q 'reboot: Power down' "$KXEN_LOG_DIR/console-as-one.log" &&
	grep -q 'reboot: Power down' "$KXEN_LOG_DIR/console-as-two.log"; then
	pass "autostart: stop shuts both guests down cleanly (their power-off on the console; KXEN_DOMAINS_SAVE: not implemented, said so)"
else
	fail "autostart: stop" "rc=$rc $(kdout)"
fi
if gone "$n1" "$pid1" "$KXEN_LOG_DIR/console-as-one.log" &&
	gone "$n2" "$pid2" "$KXEN_LOG_DIR/console-as-two.log" &&
	[ "$("$kxl" list | wc -l)" = 2 ] && [ -z "$(ls "$KXEN_RUN_DIR/domains")" ] &&
	[ "$(xenstore-list /local/domain 2>/dev/null | grep -v '^0$')" = "" ]; then
	pass "autostart: after stop no domain is left (list: Domain-0 alone, no domain process, no /local/domain/<id>)"
else
	fail "autostart: nothing left after stop" "list: $("$kxl" list | tr '\n' '|') pids $pid1 $pid2 \
xenstore: $(xenstore-list /local/domain 2>&1 | tr '\n' ' ')"
fi
kd status
rc=$?
if [ "$rc" = 3 ] && grep -qx 'as-one: not running' "$tmp/kd.out" &&
	grep -qx 'as-two: not running' "$tmp/kd.out"; then
	pass "autostart: status after stop reports them not running (exit 3)"
else
	fail "autostart: status after stop" "rc=$rc $(kdout)"
fi
exit 0
