#!/bin/bash
# The guest's wall clock matches the host's, and its sleep takes real time.
. "$(dirname "$0")/lib.sh"

out=$(mktemp)
stamped=$(mktemp)
boot_guest "$out" 180 examples/demo.cfg \
	"extra=console=hvc0 quiet kxen.test=clock" --stamp "$stamped"
guest_epoch=$(sed -n 's/.*GUEST-EPOCH=\([0-9]*\).*/\1/p' "$stamped" | head -1)
host_epoch=$(awk '/GUEST-EPOCH=/ {print $1; exit}' "$stamped")
t0=$(awk '/SLEEP-START/ {print $1; exit}' "$stamped")
t1=$(awk '/SLEEP-END/ {print $1; exit}' "$stamped")
if [ -n "$guest_epoch" ] && [ -n "$host_epoch" ] &&
	awk -v g="$guest_epoch" -v h="$host_epoch" 'BEGIN { d = h - g; if (d < 0) d = -d; exit !(d <= 2) }'; then
	pass "clock: guest wall clock within 2 s of the host's (guest $guest_epoch, host $host_epoch)"
else
	fail "clock: guest wall clock within 2 s" "guest '$guest_epoch' host '$host_epoch'"
fi
if [ -n "$t0" ] && [ -n "$t1" ] &&
	awk -v a="$t0" -v b="$t1" 'BEGIN { d = b - a; exit !(d >= 2.5 && d <= 3.5) }'; then
	pass "clock: sleep 3 in the guest took $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s of host time"
else
	fail "clock: sleep 3 takes 3 s +/- 0.5" "start '$t0' end '$t1'"
fi
rm -f "$out" "$stamped"
