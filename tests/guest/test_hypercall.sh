#!/bin/bash
# Unimplemented hypercalls answer -ENOSYS (-38) and the guest keeps running.
. "$(dirname "$0")/lib.sh"

out=$(mktemp)
boot_guest "$out" 180 examples/demo.cfg "extra=console=hvc0 quiet kxen.test=hcall"
if grep -q '^hypercall 31 returned -38' "$out" && grep -q '^hypercall 60 returned -38' "$out" &&
	grep -q '^hypercall 17 returned -38' "$out"; then
	pass "hypercall: unimplemented hypercalls and sub-ops return -ENOSYS"
else
	fail "hypercall: unimplemented return -ENOSYS" "$(grep '^hypercall' "$out" | tr '\n' '|')"
fi
if grep -q '^hypercall 17 returned 262161' "$out"; then
	pass "hypercall: xen_version reports 4.17"
else
	fail "hypercall: xen_version" "$(grep '^hypercall 17' "$out" | tr '\n' '|')"
fi
if grep -q '^AFTER-HCALL-OK' "$out" && grep -q 'reason code 0 0x0' "$out"; then
	pass "hypercall: the guest keeps running and powers off normally"
else
	fail "hypercall: guest keeps running" "$(tail -3 "$out" | tr '\n' '|')"
fi
if grep -q 'unimplemented: hypercall (31' "$out" && [ "$(grep -c 'unimplemented: hypercall (31' "$out")" = 1 ]; then
	pass "hypercall: the unimplemented hypercall is logged once"
else
	fail "hypercall: logged once" "$(grep -c 'unimplemented: hypercall (31' "$out") log lines"
fi
rm -f "$out"
