#!/bin/bash
# Event channels end to end from inside a guest: alloc_unbound,
# bind_interdomain (a loopback channel), send both ways, unmask, close.
. "$(dirname "$0")/lib.sh"

out=$(mktemp)
boot_guest "$out" 180 examples/demo.cfg "extra=console=hvc0 quiet kxen.test=evtchn"
if grep -q '^EVTCHN-BIND-INTERDOMAIN [1-9]' "$out" && grep -q '^EVTCHN-ALLOC-UNBOUND [1-9]' "$out"; then
	pass "evtchn: alloc_unbound and bind_interdomain give two connected ports"
else
	fail "evtchn: alloc/bind" "$(grep '^EVTCHN' "$out" | tr '\n' '|')"
fi
if [ "$(grep -c '^EVTCHN-SEND .* OK' "$out")" = 2 ] && grep -q '^EVTCHN-REPEAT OK' "$out"; then
	pass "evtchn: a send on either end is delivered on the other, repeatedly (unmask works)"
else
	fail "evtchn: send" "$(grep '^EVTCHN' "$out" | tr '\n' '|')"
fi
if grep -q '^EVTCHN-CLOSE OK' "$out" && grep -q '^EVTCHN-ALL-OK' "$out"; then
	pass "evtchn: after close, sends on the remaining end go nowhere"
else
	fail "evtchn: close" "$(grep '^EVTCHN' "$out" | tr '\n' '|')"
fi
rm -f "$out"
