#!/bin/bash
# kxl top and kxl dump-core on a real guest (2 vCPUs, 256 MiB, a data disk, a vif on xenbr0):
# after the guest's known disk and network I/O (in-guest/topio.sh), kxl top -b -i 2 -d 1 shows
# its row with its vCPUs and memory and nonzero VBD and NET counters matching that I/O; kxl
# dump-core writes an ELF core whose PT_LOAD segments sum to the guest's RAM, with the vCPUs'
# registers, in which the marker the guest keeps in memory is found (and a marker it never
# wrote is not); the guest runs on afterwards; a paused domain stays paused.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
export XENSTORED_PATH=$tmp/xenstored.sock
export KXEN_RUN_DIR=$tmp/run KXEN_LOG_DIR=$tmp/log
KXL=$BUILD/bin/kxl
"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$tmp/state" >"$tmp/kxend.log" 2>&1 &
KXEND_PID=$!
finish() {
	_kx_cleanup
	"$KXL" destroy top-g 2>/dev/null
	scripts/hotplug/network-bridge stop bridge=xenbr0 >/dev/null 2>&1
	kill "$KXEND_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$KXEND_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$KXEND_PID" 2>/dev/null
	wait "$KXEND_PID" 2>/dev/null
	rm -rf "$tmp"
}
trap finish EXIT
for _ in $(seq 50); do xenstore-ls / >/dev/null 2>&1 && break; sleep 0.1; done
modprobe tun 2>/dev/null
marker() { sed -n "s/^$2[= ]\\(.*\\)/\\1/p" "$1" | tr -d '\r' | head -1; }

if ! scripts/hotplug/network-bridge start bridge=xenbr0 address=10.99.0.1/24 >"$tmp/br.log" 2>&1; then
	fail "top: bridge xenbr0" "$(tr '\n' '|' <"$tmp/br.log")"
	exit 0
fi
disk=$tmp/data.img
truncate -s 16M "$disk"
out=$tmp/g.out
boot_guest_bg "$out" examples/demo.cfg name=top-g memory=256 vcpus=2 \
	"disk=['$disk,raw,xvda,rw']" "vif=['bridge=xenbr0']" \
	"extra=console=hvc0 quiet kxen.test=topio"
if wait_for_line "$out" '^TOP-READY' 240 && grep -q '^TOP-DISK-OK' "$out" &&
	grep -q '^TOP-NET-OK' "$out"; then
	pass "top: the guest wrote and read 4 MiB on xvda (O_DIRECT) and pinged the host"
else
	fail "top: guest I/O" "$(grep -E '^TOP-|error' "$out" | head -5 | tr '\n' '|') last lines: $(tail -8 "$out" | tr '\n' '|')"
fi

# ---- kxl top -b ----
timeout 60 "$KXL" top -b -i 2 -d 1 >"$tmp/top.out" 2>&1
rc=$?
ntab=$(grep -c '^ *NAME  STATE ' "$tmp/top.out")
row=$(awk '$1 == "top-g"' "$tmp/top.out" | tail -1)
if [ "$rc" = 0 ] && [ "$ntab" = 2 ] && [ -n "$row" ]; then
	pass "top: -b -i 2 -d 1 prints two tables with the guest's row"
else
	fail "top: -b tables" "rc=$rc tables=$ntab $(head -4 "$tmp/top.out" | tr '\n' '|')"
fi
# NAME STATE CPU(sec) CPU(%) MEM(k) MEM(%) MAXMEM(k) MAXMEM(%) VCPUS NETS NETTX NETRX VBDS
# VBD_OO VBD_RD VBD_WR VBD_RSECT VBD_WSECT SSID
read -r _ st cpu _ mem _ maxmem _ vcpus nets ntx nrx vbds _ rd wr rsect wsect _ <<<"$row"
if [ "${vcpus:-}" = 2 ] && [ "${maxmem:-}" = 262144 ] && [ "${mem:-0}" -gt 0 ] &&
	[ "${mem:-0}" -le 262144 ] && [[ ${st:-} == --[b-]--[r-] ]]; then
	pass "top: VCPUS 2, MEM ${mem}k of MAXMEM 262144k, state $st, CPU ${cpu}s"
else
	fail "top: VCPUS/MEM" "row: $row"
fi
if [ "${vbds:-}" = 1 ] && [ "${rd:-0}" -gt 0 ] && [ "${wr:-0}" -gt 0 ] &&
	[ "${rsect:-0}" -ge 8192 ] && [ "${wsect:-0}" -ge 8192 ]; then
	pass "top: VBDS 1, VBD_RD $rd, VBD_WR $wr, VBD_RSECT $rsect and VBD_WSECT $wsect (>= the 4 MiB each way)"
else
	fail "top: VBD counters" "row: $row"
fi
if [ "${nets:-}" = 1 ] && [ "${ntx:-0}" -ge 10 ] && [ "${nrx:-0}" -ge 10 ]; then
	pass "top: NETS 1, NETTX ${ntx}k and NETRX ${nrx}k (>= the 8 x 1400-byte pings each way)"
else
	fail "top: NET counters" "row: $row"
fi

# ---- kxl dump-core ----
uuid=$(marker "$out" TOP-UUID)
core=$tmp/top-g.core
alive0=$(grep -c '^TOP-ALIVE' "$out")
t0=${EPOCHREALTIME/./}
if timeout 300 "$KXL" dump-core top-g "$core" >"$tmp/dc.out" 2>&1; then
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	pass "dump-core: kxl dump-core top-g succeeds ($ms ms, $(du -k "$core" | cut -f1) KiB on disk)"
else
	fail "dump-core: kxl dump-core" "$(tr '\n' '|' <"$tmp/dc.out")"
fi
readelf -hlW "$core" >"$tmp/readelf.out" 2>&1
# LOAD lines: Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align, in hex (bash reads 0x).
sum=0 nload=0 at0=no
while read -r type _ _ paddr _ memsz _; do
	[ "$type" = LOAD ] || continue
	nload=$((nload + 1))
	sum=$((sum + memsz))
	[ $((paddr)) = 0 ] && at0=yes
done <"$tmp/readelf.out"
if grep -q 'Type: *CORE' "$tmp/readelf.out" && grep -q 'Machine: *Advanced Micro Devices X86-64' "$tmp/readelf.out" &&
	[ "$sum" = $((256 * 1048576)) ] && [ "$at0" = yes ]; then
	pass "dump-core: readelf -l reads an x86-64 ELF core, $nload PT_LOAD from guest-physical 0, summing to 256 MiB"
else
	fail "dump-core: ELF layout" "sum=$sum $(grep -E 'Type:|Machine:|LOAD|readelf' "$tmp/readelf.out" | tr '\n' '|')"
fi
nregs=$(readelf -nW "$core" 2>/dev/null | grep -cE '^ *CORE .*NT_PRSTATUS')
if [ "$nregs" = 2 ]; then
	pass "dump-core: NT_PRSTATUS notes for both vCPUs"
else
	fail "dump-core: register notes" "$(readelf -nW "$core" 2>&1 | head -8 | tr '\n' '|')"
fi
# gdb reads the core as a Linux one: a thread per vCPU, each with the registers saved.
timeout 60 gdb -batch -nx -c "$core" -ex 'info threads' -ex 'thread 2' -ex 'p/x $rip' \
	>"$tmp/gdb.out" 2>&1
if [ "$(grep -cE '^\*? +[12] +(LWP|process|Thread) ' "$tmp/gdb.out")" = 2 ] &&
	grep -qE '^\$1 = 0x[0-9a-f]*[1-9a-f]' "$tmp/gdb.out"; then
	pass "dump-core: gdb finds two threads (vCPUs) in the core and vCPU 1's rip ($(sed -n 's/^\$1 = //p' "$tmp/gdb.out"))"
else
	fail "dump-core: gdb" "$(grep -vE '^$' "$tmp/gdb.out" | tail -6 | tr '\n' '|')"
fi
found=$(grep -c -a "KXDUMP-$uuid-END" "$core" 2>/dev/null)
absent=$(grep -c -a "KXDUMP-00000000-0000-4000-8000-000000000000-END" "$core" 2>/dev/null)
if [ -n "$uuid" ] && [ "${found:-0}" -ge 1 ] && [ "${absent:-1}" = 0 ]; then
	pass "dump-core: the guest's in-memory marker is in the core ($found lines), a marker never written is not"
else
	fail "dump-core: marker" "uuid=$uuid found=$found absent=$absent"
fi
if wait_for_count "$out" '^TOP-ALIVE' $((alive0 + 3)) 30 &&
	[[ $("$KXL" list top-g | awk '$1 == "top-g" { print $5 }') != *p* ]]; then
	pass "dump-core: the guest runs on afterwards, not paused (heartbeat $alive0 -> $(grep -c '^TOP-ALIVE' "$out"))"
else
	fail "dump-core: guest after the dump" "heartbeat $alive0 -> $(grep -c '^TOP-ALIVE' "$out"), $("$KXL" list top-g | tail -1)"
fi

# A paused domain is dumped and stays paused.
"$KXL" pause top-g
alive1=$(grep -c '^TOP-ALIVE' "$out")
if "$KXL" dump-core top-g "$tmp/paused.core" >"$tmp/dc2.out" 2>&1 && sleep 3 &&
	[[ $("$KXL" list top-g | awk '$1 == "top-g" { print $5 }') == *p* ]] &&
	[ "$(grep -c '^TOP-ALIVE' "$out")" -le $((alive1 + 1)) ]; then
	pass "dump-core: a paused domain is dumped and stays paused"
else
	fail "dump-core: paused domain" "$(tr '\n' '|' <"$tmp/dc2.out") $("$KXL" list top-g | tail -1)"
fi
"$KXL" unpause top-g
rm -f "$tmp/paused.core" "$core"
"$KXL" destroy top-g >/dev/null 2>&1
wait_bg 30
