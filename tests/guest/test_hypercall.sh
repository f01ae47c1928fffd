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
# Hostile hypercalls: each is refused with the errno Xen gives.
bad=
while IFS='|' read -r what want; do
	got=$(grep -a -A1 "^HOSTILE $what" "$out" | sed -n 's/^hypercall [0-9]* returned \(-*[0-9]*\).*/\1/p')
	[ "$got" = "$want" ] || bad="$bad $what: got '$got' want $want;"
done <<'TABLE'
unmapped pointer|-14
send on free port|-22
send beyond ports|-22
bind_virq bad vcpu|-22
close port 0|-22
vcpu_info bad vcpu|-2
vcpu_info off page|-22
param beyond table|-22
set console pfn|-1
shutdown reason|-22
shared_info outside RAM|-22
TABLE
if [ -z "$bad" ]; then
	pass "hypercall: 11 hostile hypercalls (bad pointers, ports, vCPUs, params, reasons) are refused"
else
	fail "hypercall: hostile hypercalls refused" "$bad"
fi
rm -f "$out"
