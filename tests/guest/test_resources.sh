#!/bin/bash
# vcpus and memory from the config are what the guest kernel sees.
#
# Memory: kxen gives the guest exactly `memory` MiB of RAM in its memory
# map; the kernel reports that total in its "Memory: free/TOTAL available"
# boot line.  MemTotal is smaller by what the kernel keeps for itself (its
# own image: code, rwdata, rodata, bss -- about 30 MiB for Debian's cloud
# kernel -- plus struct pages), the same under Xen.  So at 256 MiB we check
# the RAM total and MemTotal plus the kernel image, and at 1 GiB, where
# that fixed cost is small, plain MemTotal within 10%.
. "$(dirname "$0")/lib.sh"

out=$(mktemp)
field() { sed -n "s/^$1=\([0-9]*\).*/\1/p" "$out" | head -1; }
# kernel_kb FIELD: a "NNNNK FIELD" figure from the guest's Memory: line.
kernel_kb() { sed -n "s/^GUEST-DMESG-Memory: .*[ (]\([0-9]*\)K $1.*/\1/p" "$out" | head -1; }

boot_guest "$out" 180 examples/demo.cfg vcpus=2 memory=256 \
	"extra=console=hvc0 quiet kxen.test=cpuinfo"
cpus=$(field GUEST-CPUS)
mem=$(field GUEST-MEMTOTAL-KB)
ram=$(sed -n 's/^GUEST-DMESG-Memory: [0-9]*K\/\([0-9]*\)K available.*/\1/p' "$out" | head -1)
image=$(($(kernel_kb 'kernel code') + $(kernel_kb rwdata) + $(kernel_kb rodata) + $(kernel_kb bss)))
if [ "$cpus" = 2 ]; then
	pass "resources: vcpus = 2 gives 2 processors in /proc/cpuinfo"
else
	fail "resources: vcpus = 2" "guest saw '${cpus}' processors; $(tail -3 "$out" | tr '\n' '|')"
fi
# All of 256 MiB but the 384 KiB ISA hole and page 0: >= 261700 KiB.
if [ -n "$ram" ] && [ "$ram" -ge 261700 ] && [ "$ram" -le 262144 ]; then
	pass "resources: memory = 256 gives the guest ${ram} KiB of RAM (256 MiB less the ISA hole)"
else
	fail "resources: memory = 256 RAM" "kernel saw '${ram}' KiB: $(grep GUEST-DMESG "$out")"
fi
if [ -n "$mem" ] && [ "$image" -gt 0 ] && [ $((mem + image)) -gt 235929 ] && [ "$mem" -le 262144 ]; then
	pass "resources: memory = 256: MemTotal ${mem} KiB + kernel image ${image} KiB within 10% below 256 MiB"
else
	fail "resources: memory = 256 MemTotal" "MemTotal '${mem}' KiB, kernel image '${image}' KiB"
fi

if [ "$(field GUEST-GNTTAB-OK)" = 1 ]; then
	pass "resources: the guest's grant table comes up (frames placed by add_to_physmap)"
else
	fail "resources: grant table" "$(grep GUEST-GNTTAB "$out")"
fi

boot_guest "$out" 180 examples/demo.cfg vcpus=1 memory=1024 \
	"extra=console=hvc0 quiet kxen.test=cpuinfo"
cpus=$(field GUEST-CPUS)
mem=$(field GUEST-MEMTOTAL-KB)
if [ "$cpus" = 1 ] && [ -n "$mem" ] && [ "$mem" -gt 943718 ] && [ "$mem" -le 1048576 ]; then
	pass "resources: vcpus = 1, memory = 1024: 1 CPU, MemTotal ${mem} KiB within 10% below 1 GiB"
else
	fail "resources: vcpus = 1, memory = 1024" "cpus '${cpus}', MemTotal '${mem}'"
fi
rm -f "$out"
