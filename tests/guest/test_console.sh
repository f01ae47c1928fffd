#!/bin/bash
# A detached domain: its console goes to the log file and to a pty that
# takes input; kxl list shows it; kxl destroy ends it and removes it.
. "$(dirname "$0")/lib.sh"

export KXEN_RUN_DIR=$(mktemp -d) KXEN_LOG_DIR=$(mktemp -d)
log=$KXEN_LOG_DIR/console-console-test.log
if "$BUILD/bin/kxl" create -q examples/demo.cfg name=console-test \
	"extra=console=hvc0 quiet kxen.test=console"; then
	pass "console: kxl create detaches and returns"
else
	fail "console: kxl create detaches" "exit $?"
fi
if wait_for_line "$log" '^KXEN-SHELL-READY' 120; then
	pass "console: guest output reaches the console log file"
else
	fail "console: console log" "$(tail -3 "$log" 2>&1 | tr '\n' '|')"
fi
if "$BUILD/bin/kxl" list | grep -qE '^console-test +[0-9]+ +256 +2 '; then
	pass "console: kxl list shows the domain with 256 MiB and 2 vCPUs"
else
	fail "console: kxl list" "$("$BUILD/bin/kxl" list | tr '\n' '|')"
fi
pty=$(sed -n 's/^Console for domain console-test (domid [0-9]*) is on \(.*\)$/\1/p' \
	"$KXEN_LOG_DIR/domain-console-test.log" | head -1)
if [ -c "$pty" ]; then
	# Typed into the pty, the command runs in the guest's shell; the
	# answer (computed in the guest) comes back on the console.  The
	# shell flushes what arrives before its first prompt, so wait for the
	# prompt ("/ # ") first.
	wait_for_line "$log" '/ # ' 60
	printf 'echo KXEN-INPUT-$((6*7))\n' >"$pty"
	if wait_for_line "$log" '^KXEN-INPUT-42' 60; then
		pass "console: input typed on the pty reaches the guest's shell"
	else
		fail "console: pty input" "$(tail -3 "$log" | tr '\n' '|')"
	fi
else
	fail "console: pty" "no console pty announced: $(cat "$KXEN_LOG_DIR/domain-console-test.log" | tr '\n' '|')"
fi
pid=$(awk '{print $3}' "$KXEN_RUN_DIR/domains/"* 2>/dev/null | head -1)
"$BUILD/bin/kxl" destroy console-test
sleep 1
if ! "$BUILD/bin/kxl" list | grep -q console-test && ! kill -0 "$pid" 2>/dev/null; then
	pass "console: kxl destroy ends the domain process and unlists it"
else
	fail "console: kxl destroy" "pid $pid still there or listed"
fi
rm -rf "$KXEN_RUN_DIR" "$KXEN_LOG_DIR"
