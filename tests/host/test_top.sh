#!/bin/bash
# kxl top and kxl dump-core against a fake domain: a registry entry for "web" (domid 3) whose
# control socket is tests/host/fake_domctl.py, answering "info" and "stats" with fixed
# counters and "dump-core" by writing into the descriptor kxl sends.  Checks xentop's batch
# table (header, the fake's counters summed per row, -i and -d), the interactive screen under
# a pseudo-terminal (q quits), refusals, and dump-core's file handling.  The real thing, with
# a guest, is tests/guest/test_top.sh.
. "$(dirname "$0")/lib.sh"
trap _xs_cleanup EXIT

KXL=$BUILD/bin/kxl
export KXEN_RUN_DIR=$XS_TMP/run
mkdir -p "$KXEN_RUN_DIR/domains"
# A domain "web" (id 3, 256 MiB, 2 vCPUs) kept alive by this shell's pid.
echo "3 web $$ 256 2 0 -" >"$KXEN_RUN_DIR/domains/3"
python3 tests/host/fake_domctl.py "$KXEN_RUN_DIR/domain-3.sock" 2>"$XS_TMP/fake.log" &
FAKE=$!
trap 'kill $FAKE 2>/dev/null; _xs_cleanup' EXIT
for _ in $(seq 50); do [ -S "$KXEN_RUN_DIR/domain-3.sock" ] && break; sleep 0.1; done

header="      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS NETS NETTX(k) NETRX(k) VBDS   VBD_OO   VBD_RD   VBD_WR  VBD_RSECT  VBD_WSECT SSID"
timeout 20 "$KXL" top -b -i 2 -d 0.3 >"$XS_TMP/top.out" 2>&1
rc=$?
if [ "$rc" = 0 ] && [ "$(grep -cxF "$header" "$XS_TMP/top.out")" = 2 ] &&
	[ "$(grep -c '^  Domain-0 -----r ' "$XS_TMP/top.out")" = 2 ]; then
	pass "top: -b -i 2 prints xentop's header and Domain-0 twice, then exits"
else
	fail "top: -b -i 2" "rc=$rc $(head -3 "$XS_TMP/top.out")"
fi
# web: MEM 261120 of MAXMEM 262144, 2 vCPUs, 1 vif (200 KiB sent, 400 KiB received), 2 vbds
# (OO 3, RD 101, WR 51, RSECT 808, WSECT 408), CPU 7 s from the exited vCPU threads.
row=$(grep '^ *web ' "$XS_TMP/top.out" | tail -1)
if awk '{ exit !($3 == 7 && $5 == 261120 && $7 == 262144 && $9 == 2 && $10 == 1 &&
	$11 == 200 && $12 == 400 && $13 == 2 && $14 == 3 && $15 == 101 && $16 == 51 &&
	$17 == 808 && $18 == 408 && $19 == 0 && NF == 19) }' <<<"$row"; then
	pass "top: the domain's row carries its stats reply, summed over its devices"
else
	fail "top: the domain's row" "$row"
fi

expect "top: a bad delay is refused" "kxl top: bad delay 'x'" "$KXL" top -b -d x
expect "top: a bad iteration count is refused" "kxl top: bad iteration count '0'" \
	"$KXL" top -b -i 0
if out=$("$KXL" top -i 1 </dev/null 2>&1); [ $? != 0 ] && [[ $out == *"needs a terminal"*"-b"* ]]; then
	pass "top: without a terminal, interactive mode says to use -b"
else
	fail "top: without a terminal" "$out"
fi

# The interactive screen in a pseudo-terminal: drawn, and q ends it long before -i would.
t0=$SECONDS
(sleep 2; printf q) | TERM=xterm timeout 30 script -qfec "stty cols 200 rows 30; $KXL top -d 1 -i 20" /dev/null \
	>"$XS_TMP/tty.out" 2>&1
rc=$?
if [ "$rc" = 0 ] && [ $((SECONDS - t0)) -lt 15 ] && grep -q 'domains: ' "$XS_TMP/tty.out" &&
	grep -q 'VBD_RSECT' "$XS_TMP/tty.out" && grep -q 'web' "$XS_TMP/tty.out"; then
	pass "top: the ncurses screen shows the summary and the table; q quits ($((SECONDS - t0)) s)"
else
	fail "top: interactive" "rc=$rc after $((SECONDS - t0)) s: $(tr -cd '[:print:]' <"$XS_TMP/tty.out" | head -c 300)"
fi

# ---- dump-core: kxl creates the file (0600) and passes it; the domain process writes ----
core=$XS_TMP/web.core
if "$KXL" dump-core web "$core" >"$XS_TMP/dc.out" 2>&1 && [ "$(cat "$core")" = FAKE-CORE ] &&
	[ "$(stat -c %a "$core")" = 600 ]; then
	pass "dump-core: the descriptor of the new file (mode 0600) reaches the domain process"
else
	fail "dump-core: descriptor passing" "$(cat "$XS_TMP/dc.out") file=$(cat "$core" 2>&1)"
fi
if ! "$KXL" dump-core nosuch "$XS_TMP/x.core" >"$XS_TMP/dc2.out" 2>&1 &&
	grep -q "domain 'nosuch' does not exist" "$XS_TMP/dc2.out" && [ ! -e "$XS_TMP/x.core" ]; then
	pass "dump-core: an unknown domain is refused, no file created"
else
	fail "dump-core: unknown domain" "$(cat "$XS_TMP/dc2.out")"
fi
if ! "$KXL" dump-core web "$XS_TMP/no/such/dir/x.core" >"$XS_TMP/dc3.out" 2>&1 &&
	grep -q "cannot create" "$XS_TMP/dc3.out"; then
	pass "dump-core: a file that cannot be created is refused"
else
	fail "dump-core: bad path" "$(cat "$XS_TMP/dc3.out")"
fi
kill "$FAKE" 2>/dev/null
wait "$FAKE" 2>/dev/null
rm -f "$KXEN_RUN_DIR/domain-3.sock"
if ! "$KXL" dump-core web "$XS_TMP/y.core" >"$XS_TMP/dc4.out" 2>&1 &&
	grep -q "cannot dump the core of domain 3" "$XS_TMP/dc4.out" && [ ! -e "$XS_TMP/y.core" ]; then
	pass "dump-core: a domain without a control channel fails, the file is removed"
else
	fail "dump-core: no control channel" "$(cat "$XS_TMP/dc4.out")"
fi
row=$(timeout 10 "$KXL" top -b -i 1 | grep '^ *web ')
if awk '{ exit !($5 == 262144 && $9 == 2 && $10 == 0 && $13 == 0) }' <<<"$row"; then
	pass "top: a domain that does not answer still has its row (registry memory and vCPUs)"
else
	fail "top: unanswered domain" "$row"
fi
