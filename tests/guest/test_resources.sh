#!/bin/bash
# vcpus and memory from the config are what the guest kernel sees.
. "$(dirname "$0")/lib.sh"

out=$(mktemp)
boot_guest "$out" 180 examples/demo.cfg vcpus=2 memory=256 \
	"extra=console=hvc0 quiet kxen.test=cpuinfo"
cpus=$(sed -n 's/^GUEST-CPUS=\([0-9]*\).*/\1/p' "$out" | head -1)
mem=$(sed -n 's/^GUEST-MEMTOTAL-KB=\([0-9]*\).*/\1/p' "$out" | head -1)
if [ "$cpus" = 2 ]; then
	pass "resources: vcpus = 2 gives 2 processors in /proc/cpuinfo"
else
	fail "resources: vcpus = 2" "guest saw '${cpus}' processors; $(tail -3 "$out" | tr '\n' '|')"
fi
# Within 10% below 256 MiB: 235930 KiB < MemTotal <= 262144 KiB.
if [ -n "$mem" ] && [ "$mem" -gt 235929 ] && [ "$mem" -le 262144 ]; then
	pass "resources: memory = 256 gives MemTotal ${mem} KiB (within 10% below 256 MiB)"
else
	fail "resources: memory = 256" "MemTotal '${mem}' KiB"
fi

boot_guest "$out" 180 examples/demo.cfg vcpus=1 memory=128 \
	"extra=console=hvc0 quiet kxen.test=cpuinfo"
cpus=$(sed -n 's/^GUEST-CPUS=\([0-9]*\).*/\1/p' "$out" | head -1)
mem=$(sed -n 's/^GUEST-MEMTOTAL-KB=\([0-9]*\).*/\1/p' "$out" | head -1)
if [ "$cpus" = 1 ] && [ -n "$mem" ] && [ "$mem" -gt 117964 ] && [ "$mem" -le 131072 ]; then
	pass "resources: vcpus = 1, memory = 128 seen as 1 CPU and ${mem} KiB"
else
	fail "resources: vcpus = 1, memory = 128" "cpus '${cpus}', MemTotal '${mem}'"
fi
rm -f "$out"
