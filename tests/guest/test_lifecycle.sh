#!/bin/bash
# The toolstack's life-cycle commands on two real guests at once (a private
# kxend): list (states, memory, CPU time, -l, -v), pause and unpause (CPU
# time stops and resumes), rename with domid/domname, uptime, vcpu-list,
# sysrq and console attach/detach through a pty, shutdown -w of one while
# the other runs on, reboot -w, a crashed domain kept (---sc-), destroy of
# a paused one, a create that fails leaving nothing behind, and create -c.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
export XENSTORED_PATH=$tmp/xenstored.sock
export KXEN_RUN_DIR=$tmp/run KXEN_LOG_DIR=$tmp/log
kxl=$BUILD/bin/kxl
"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$tmp/state" >"$tmp/kxend.log" 2>&1 &
KXEND_PID=$!
for _ in $(seq 50); do xenstore-ls / >/dev/null 2>&1 && break; sleep 0.1; done
finish() {
	"$kxl" destroy lc-one >/dev/null 2>&1
	"$kxl" destroy lc-renamed >/dev/null 2>&1
	"$kxl" destroy lc-two >/dev/null 2>&1
	"$kxl" destroy lc-crash >/dev/null 2>&1
	kill "$KXEND_PID" 2>/dev/null
	wait "$KXEND_PID" 2>/dev/null
	# KXEN_LC_KEEP=DIR keeps the logs there, for debugging.
	[ -n "$KXEN_LC_KEEP" ] && rm -rf "$KXEN_LC_KEEP" && cp -r "$tmp" "$KXEN_LC_KEEP" 2>/dev/null
	rm -rf "$tmp"
}
trap finish EXIT

# row NAME: the domain's line of kxl list.
row() { "$kxl" list 2>/dev/null | awk -v n="$1" '$1 == n'; }
# cputime NAME: its Time(s) column.
cputime() { row "$1" | awk '{ print $6 }'; }
# state NAME: its State column.
state() { row "$1" | awk '{ print $5 }'; }
# grew A B MIN: B - A >= MIN (seconds, with one decimal).
grew() { awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { exit !(b != "" && a != "" && b - a >= m) }'; }

one_log=$KXEN_LOG_DIR/console-lc-one.log
two_log=$KXEN_LOG_DIR/console-lc-two.log
"$kxl" create -q examples/demo.cfg name=lc-one memory=256 vcpus=2 \
	"extra=console=hvc0 quiet kxen.test=lifecycle" &&
	"$kxl" create -q examples/demo.cfg name=lc-two memory=200 vcpus=1 \
		"extra=console=hvc0 quiet kxen.test=idle"
rc=$?
if wait_for_line "$one_log" '^LC-READY' 240 && wait_for_line "$two_log" '^IDLE-READY' 240; then
	pass "lifecycle: two guests created in the background boot (create rc=$rc)"
else
	fail "lifecycle: two guests boot" "rc=$rc one: $(tail -2 "$one_log" 2>&1 | tr '\n' '|') two: $(tail -2 "$two_log" 2>&1 | tr '\n' '|')"
	exit 0
fi
id1=$("$kxl" domid lc-one)
id2=$("$kxl" domid lc-two)
pid1=$(awk '{ print $3 }' "$KXEN_RUN_DIR/domains/$id1")
pid2=$(awk '{ print $3 }' "$KXEN_RUN_DIR/domains/$id2")

# --- list ---
list=$("$kxl" list)
if [ -n "$id1" ] && [ -n "$id2" ] && [ "$id1" != "$id2" ] &&
	echo "$list" | grep -qE "^lc-one +$id1 +256 +2 +[rb-]{2}---- +[0-9]+\.[0-9]$" &&
	echo "$list" | grep -qE "^lc-two +$id2 +200 +1 +[rb-]{2}---- +[0-9]+\.[0-9]$" &&
	echo "$list" | head -1 | grep -q $'^Name  *ID   Mem VCPUs\tState\tTime(s)$'; then
	pass "lifecycle: list shows both guests, distinct domids ($id1, $id2), names, memory and vCPUs"
else
	fail "lifecycle: list of two guests" "$(echo "$list" | tr '\n' '|')"
fi
# One listing per guest: a vCPU flips between running and blocked, so two
# listings may each show only one of the letters.
s1=$(state lc-one)
s2=$(state lc-two)
if [[ ${s1:0:2} == *[rb]* && ${s1:2} == ---- && ${s2:0:2} == *[rb]* && ${s2:2} == ---- ]]; then
	pass "lifecycle: running guests are in state r or b ($s1, $s2)"
else
	fail "lifecycle: running states" "$s1 $s2"
fi
if "$kxl" list -l | python3 -c '
import json, sys
d = {x["config"]["c_info"]["name"]: x for x in json.load(sys.stdin)}
assert d["lc-one"]["domid"] == '"$id1"' and d["lc-two"]["domid"] == '"$id2"'
assert d["lc-two"]["config"]["b_info"]["target_memkb"] == 200 * 1024
assert "kxen.test=idle" in d["lc-two"]["config"]["b_info"]["cmdline"]
assert d["lc-one"]["config"]["on_reboot"] == "restart"
' 2>"$tmp/json.err"; then
	pass "lifecycle: list -l prints both domains' configuration as JSON"
else
	fail "lifecycle: list -l" "$(tail -2 "$tmp/json.err" | tr '\n' '|') $("$kxl" list -l | head -c 300 | tr '\n' ' ')"
fi
uuid=$(xenstore-read "/local/domain/$id1/vm" 2>/dev/null)
uuid=${uuid#/vm/}
if [ -n "$uuid" ] && "$kxl" list -v lc-one | grep -qE "^lc-one .* $uuid +- +-$"; then
	pass "lifecycle: list -v adds the UUID ($uuid)"
else
	fail "lifecycle: list -v" "uuid '$uuid': $("$kxl" list -v lc-one | tr '\n' '|')"
fi
vl=$("$kxl" vcpu-list lc-one lc-two)
if [ "$(echo "$vl" | grep -cE "^lc-one +$id1 +[01] +[0-9]+ +[rb-]{2}- +[0-9]+\.[0-9]  ")" = 2 ] &&
	[ "$(echo "$vl" | grep -cE "^lc-two +$id2 +0 +[0-9]+ ")" = 1 ]; then
	pass "lifecycle: vcpu-list shows each vCPU with its CPU, state and time"
else
	fail "lifecycle: vcpu-list" "$(echo "$vl" | tr '\n' '|')"
fi

# --- CPU time, pause, unpause ---
t1=$(cputime lc-one); sleep 2; t2=$(cputime lc-one)
if grew "$t1" "$t2" 0.3; then
	pass "lifecycle: Time(s) grows while the guest runs ($t1 -> $t2)"
else
	fail "lifecycle: Time(s) grows" "$t1 -> $t2"
fi
"$kxl" pause lc-one
prc=$?
st=$(state lc-one)
t3=$(cputime lc-one); sleep 2; t4=$(cputime lc-one)
if [ "$prc" = 0 ] && [ "$st" = "--p---" ]; then
	pass "lifecycle: pause: state --p---"
else
	fail "lifecycle: pause state" "rc=$prc state '$st'"
fi
if [ -n "$t3" ] && [ "$t3" = "$t4" ]; then
	pass "lifecycle: pause: Time(s) stops ($t3 -> $t4 over 2 s)"
else
	fail "lifecycle: paused Time(s)" "$t3 -> $t4"
fi
if ! "$kxl" unpause lc-two 2>"$tmp/err" && grep -q 'not paused' "$tmp/err"; then
	pass "lifecycle: unpause of a running domain is refused"
else
	fail "lifecycle: unpause of a running domain" "$(cat "$tmp/err")"
fi
"$kxl" unpause lc-one
urc=$?
t5=$(cputime lc-one); sleep 2; t6=$(cputime lc-one)
if [ "$urc" = 0 ] && [[ $(state lc-one) != *p* ]] && grew "$t5" "$t6" 0.3; then
	pass "lifecycle: unpause: running again, Time(s) grows ($t5 -> $t6)"
else
	fail "lifecycle: unpause" "rc=$urc state $(state lc-one) $t5 -> $t6"
fi
xenstore-write "/local/domain/$id1/data/burn" off
wait_for_line "$one_log" '^LC-IDLE' 60 || fail "lifecycle: guest stops its busy loop" "$(tail -2 "$one_log" | tr '\n' '|')"

# --- rename, domid, domname ---
"$kxl" rename lc-one lc-renamed
rrc=$?
if [ "$rrc" = 0 ] && [ "$("$kxl" domid lc-renamed)" = "$id1" ] &&
	[ "$("$kxl" domname "$id1")" = lc-renamed ] && ! "$kxl" domid lc-one >/dev/null 2>&1 &&
	[ "$(xenstore-read "/local/domain/$id1/name")" = lc-renamed ] &&
	[ "$(xenstore-read "/vm/$uuid/name")" = lc-renamed ] && [ -n "$(row lc-renamed)" ]; then
	pass "lifecycle: rename; domid and domname round trip; xenstore name and /vm name follow"
else
	fail "lifecycle: rename" "rc=$rrc domid=$("$kxl" domid lc-renamed 2>&1) domname=$("$kxl" domname "$id1" 2>&1) xs=$(xenstore-read "/local/domain/$id1/name" 2>&1)"
fi
if ! "$kxl" rename lc-renamed lc-two 2>/dev/null && [ "$("$kxl" domname "$id1")" = lc-renamed ]; then
	pass "lifecycle: rename to another domain's name is refused"
else
	fail "lifecycle: duplicate rename" "$("$kxl" domname "$id1")"
fi

# --- uptime ---
up=$("$kxl" uptime)
ups=$("$kxl" uptime -s lc-two)
if echo "$up" | grep -qE "^lc-renamed +$id1 +[ 0-9]?[0-9]:[0-5][0-9]:[0-5][0-9]$" &&
	echo "$up" | grep -qE "^Domain-0 +0 " &&
	echo "$ups" | grep -qE "^ [0-9]{2}:[0-9]{2}:[0-9]{2} up +[0-9]+:[0-9]{2}, lc-two \($id2\)$"; then
	pass "lifecycle: uptime and uptime -s in xl's formats"
else
	fail "lifecycle: uptime" "$(echo "$up" "$ups" | tr '\n' '|')"
fi

# --- console attach and detach, sysrq ---
# kxl console runs on a pty of its own (the terminal it would have); the
# guest's tty echoes what is typed; a sysrq sent meanwhile prints its help
# on the console; Ctrl-] detaches and the terminal is restored.
python3 - "$kxl" lc-two >"$tmp/console.out" 2>&1 <<'EOF'
import os, pty, select, subprocess, sys, termios, time
kxl, dom = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(kxl, [kxl, "console", dom])
out = b""
def read_until(marker, limit):
    global out
    end = time.time() + limit
    while marker not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return marker in out
time.sleep(1)
raw = not (termios.tcgetattr(fd)[3] & termios.ECHO)
os.write(fd, b"kxen-console-probe\r")
echo = read_until(b"kxen-console-probe", 30)
subprocess.run([kxl, "sysrq", dom, "h"])
sysrq = read_until(b"sysrq: HELP", 30)
os.write(fd, b"\x1d")
end, status = time.time() + 10, None
while time.time() < end:
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        status = st
        break
    time.sleep(0.1)
# A new pty starts canonical with echo; kxl console must leave it so.
lflag = termios.tcgetattr(fd)[3]
restored = bool(lflag & termios.ECHO and lflag & termios.ICANON)
print("CONSOLE raw=%d echo=%d sysrq=%d exited=%s restored=%d" % (
    raw, echo, sysrq, None if status is None else os.waitstatus_to_exitcode(status), restored))
if status is None:
    os.kill(pid, 9)
sys.stdout.flush()
EOF
res=$(grep '^CONSOLE ' "$tmp/console.out")
if [[ $res == *"echo=1"* && $res == *"raw=1"* ]]; then
	pass "lifecycle: console attaches in raw mode; what is typed reaches the guest's tty and comes back"
else
	fail "lifecycle: console attach" "$res $(tail -c 300 "$tmp/console.out" | tr '\n' ' ')"
fi
if [[ $res == *"sysrq=1"* ]] && grep -q 'sysrq: HELP' "$two_log"; then
	pass "lifecycle: sysrq h reaches the guest kernel (its help on the console)"
else
	fail "lifecycle: sysrq" "$res"
fi
if [[ $res == *"exited=0 restored=1"* ]]; then
	pass "lifecycle: Ctrl-] detaches the console (exit 0) and restores the terminal"
else
	fail "lifecycle: console detach" "$res"
fi

# --- shutdown -w of one, the other keeps running ---
out=$("$kxl" shutdown -w lc-renamed 2>&1)
src=$?
if [ "$src" = 0 ] && echo "$out" | grep -q "^Shutting down domain $id1$" &&
	echo "$out" | grep -q "^Waiting for 1 domains$" &&
	echo "$out" | grep -q "^Domain $id1 has been shut down, reason code 0$" &&
	grep -q 'reboot: Power down' "$one_log"; then
	pass "lifecycle: shutdown -w powers the guest off and says so as xl does"
else
	fail "lifecycle: shutdown -w" "rc=$src $(echo "$out" | tr '\n' '|')"
fi
if [ -z "$(row lc-renamed)" ] && ! kill -0 "$pid1" 2>/dev/null &&
	! xenstore-read "/local/domain/$id1/name" >/dev/null 2>&1 &&
	[ ! -e "$KXEN_RUN_DIR/domain-$id1.sock" ]; then
	pass "lifecycle: after shutdown -w the domain is gone (list, process, xenstore, control socket)"
else
	fail "lifecycle: gone after shutdown" "$(row lc-renamed) pid $pid1 $(ls "$KXEN_RUN_DIR")"
fi
if [[ $(state lc-two) =~ ^(r-|-b|rb)----$ ]] && kill -0 "$pid2" 2>/dev/null &&
	[ "$(xenstore-read "/local/domain/$id2/name")" = lc-two ]; then
	pass "lifecycle: the other guest keeps running ($(state lc-two))"
else
	fail "lifecycle: other guest" "$(row lc-two)"
fi

# --- reboot -w (meanwhile a third guest crashes and is kept) ---
"$kxl" create -q examples/demo.cfg name=lc-crash memory=128 vcpus=1 on_crash=preserve \
	"extra=console=hvc0 quiet kxen.test=crash"
out=$("$kxl" reboot -w lc-two 2>&1)
brc=$?
if [ "$brc" = 0 ] && echo "$out" | grep -q "^Rebooting domain $id2$" &&
	echo "$out" | grep -q "^Domain $id2 has been shut down, reason code 1$" &&
	wait_for_count "$two_log" '^IDLE-READY' 2 180 &&
	[ "$(grep -c '^KXEN-GUEST-INIT-OK' "$two_log")" = 2 ] &&
	[ "$("$kxl" domid lc-two)" = "$id2" ] && kill -0 "$pid2" 2>/dev/null; then
	pass "lifecycle: reboot -w: the guest boots again under the same name and domid"
else
	fail "lifecycle: reboot -w" "rc=$brc $(echo "$out" | tr '\n' '|') boots=$(grep -c '^KXEN-GUEST-INIT-OK' "$two_log")"
fi

# --- a crashed domain kept: state s with the reason c, its CPU time kept ---
if wait_for_line "$KXEN_LOG_DIR/domain-lc-crash.log" 'Action for shutdown reason code 3 is preserve' 180 &&
	[ "$(state lc-crash)" = "---sc-" ] && grew 0 "$(cputime lc-crash)" 0.1 &&
	"$kxl" list -v lc-crash | grep -qE '^lc-crash .* +3 +-$'; then
	pass "lifecycle: a crashed domain kept by on_crash=preserve is listed ---sc- with its CPU time and reason 3"
else
	fail "lifecycle: crashed and kept" "$("$kxl" list -v lc-crash 2>&1 | tr '\n' '|') $(tail -2 "$KXEN_LOG_DIR/domain-lc-crash.log" | tr '\n' '|')"
fi

# --- destroy, of a paused domain and of a crashed one ---
"$kxl" pause lc-two
pst=$(state lc-two)
"$kxl" destroy lc-two
"$kxl" destroy lc-crash
sleep 0.5
if [ "$pst" = "--p---" ] && [ -z "$(row lc-two)" ] && [ -z "$(row lc-crash)" ] &&
	! kill -0 "$pid2" 2>/dev/null &&
	[ -z "$(xenstore-list /local/domain 2>/dev/null | grep -vx 0)" ] &&
	[ -z "$(ls "$KXEN_RUN_DIR/domains")" ] && [ ! -e "$KXEN_RUN_DIR/domain-$id2.sock" ]; then
	pass "lifecycle: destroy of a paused and of a crashed domain removes them everywhere"
else
	fail "lifecycle: destroy" "paused state '$pst' $(row lc-two) $(row lc-crash) $(xenstore-list /local/domain 2>&1 | tr '\n' ' ') $(ls "$KXEN_RUN_DIR" "$KXEN_RUN_DIR/domains")"
fi

# --- a create that fails, then create -c ---
"$kxl" create -q examples/demo.cfg name=lc-bad "disk=['/nonexistent.img,raw,xvda,rw']" 2>"$tmp/err"
crc=$?
if [ "$crc" != 0 ] && [ -z "$(ls "$KXEN_RUN_DIR/domains")" ] &&
	! pgrep -f 'kxen-domain --name lc-bad' >/dev/null &&
	[ -z "$(xenstore-list /local/domain 2>/dev/null | grep -vx 0)" ] && [ -z "$(row lc-bad)" ]; then
	pass "lifecycle: a failed create (missing disk image) leaves no entry, process or xenstore node"
else
	fail "lifecycle: failed create" "rc=$crc $(cat "$tmp/err") $(ls "$KXEN_RUN_DIR/domains")"
fi
timeout -k 5 180 "$kxl" create -c examples/demo.cfg name=lc-c memory=128 vcpus=1 \
	"extra=console=hvc0 quiet" </dev/null >"$tmp/c.out" 2>&1
crc=$?
if [ "$crc" = 0 ] && grep -q '^KXEN-GUEST-INIT-OK' "$tmp/c.out" && grep -q 'reason code 0' "$tmp/c.out" &&
	[ -z "$(ls "$KXEN_RUN_DIR/domains")" ]; then
	pass "lifecycle: create -c runs the guest on this terminal to its power-off"
else
	fail "lifecycle: create -c" "rc=$crc $(tail -3 "$tmp/c.out" | tr '\n' '|')"
fi
exit 0
