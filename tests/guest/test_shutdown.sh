#!/bin/bash
# Shutdown reasons reach the toolstack and on_reboot/on_crash are honoured.
. "$(dirname "$0")/lib.sh"

out=$(mktemp)
# on_reboot = restart: the guest must come up a second time; then we
# destroy it from outside.
boot_guest_bg "$out" examples/demo.cfg name=reboot-test on_reboot=restart \
	"extra=console=hvc0 quiet kxen.test=reboot"
if wait_for_count "$out" '^KXEN-GUEST-INIT-OK' 2 180; then
	pass "shutdown: on_reboot = restart boots the guest a second time"
else
	fail "shutdown: on_reboot = restart" "$(grep -c KXEN-GUEST-INIT-OK "$out") boots seen"
fi
if grep -q 'has shut down, reason code 1 0x1' "$out" &&
	grep -q 'Action for shutdown reason code 1 is restart' "$out"; then
	pass "shutdown: echo b > /proc/sysrq-trigger is seen as reboot"
else
	fail "shutdown: sysrq b seen as reboot" "$(grep 'reason code' "$out" | head -2 | tr '\n' '|')"
fi
"$BUILD/bin/kxl" destroy reboot-test
wait_bg
if ! "$BUILD/bin/kxl" domid reboot-test >/dev/null 2>&1; then
	pass "shutdown: kxl destroy ends the restarted guest"
else
	fail "shutdown: kxl destroy" "domain still listed"
fi

boot_guest "$out" 180 examples/demo.cfg name=crash-test on_crash=destroy \
	"extra=console=hvc0 quiet kxen.test=crash"
rc=$?
if grep -q 'has shut down, reason code 3 0x3' "$out" &&
	grep -q 'Action for shutdown reason code 3 is destroy' "$out" && [ "$rc" = 0 ]; then
	pass "shutdown: echo c is seen as a crash and on_crash = destroy ends it"
else
	fail "shutdown: sysrq c seen as crash" "rc=$rc $(grep 'reason code' "$out" | head -1)"
fi
# on_crash = preserve: the crashed domain stays (listed) until destroyed.
boot_guest_bg "$out" examples/demo.cfg name=preserve-test on_crash=preserve \
	"extra=console=hvc0 quiet kxen.test=crash"
if wait_for_line "$out" 'Action for shutdown reason code 3 is preserve' 180 &&
	sleep 1 && "$BUILD/bin/kxl" domid preserve-test >/dev/null 2>&1; then
	pass "shutdown: on_crash = preserve keeps the crashed domain until it is destroyed"
else
	fail "shutdown: on_crash = preserve" "$(grep 'reason code' "$out" | tr '\n' '|')"
fi
"$BUILD/bin/kxl" destroy preserve-test
wait_bg
rm -f "$out"
