#!/bin/bash
# First light: the demo guest boots to its init, prints its marker on hvc0
# and powers off; kxl reports shutdown reason poweroff (0).
. "$(dirname "$0")/lib.sh"

out=$(mktemp)
boot_guest "$out" 180 examples/demo.cfg
rc=$?
if grep -q '^KXEN-GUEST-INIT-OK' "$out"; then
	pass "boot: demo guest reaches init and prints its marker on hvc0"
else
	fail "boot: demo guest reaches init" "no marker; last lines: $(tail -5 "$out" | tr '\n' '|')"
fi
if grep -q 'has shut down, reason code 0 0x0' "$out" && [ "$rc" = 0 ]; then
	pass "boot: guest powers off, exit reason poweroff"
else
	fail "boot: guest powers off" "rc=$rc, $(grep 'reason code' "$out" | head -1)"
fi
if grep -q "^Linux version 6.1" "$out" || grep -q "^6\.1\." "$out"; then
	pass "boot: the guest ran Debian's 6.1 kernel"
else
	fail "boot: the guest ran Debian's 6.1 kernel" "no kernel version on the console"
fi
rm -f "$out"
