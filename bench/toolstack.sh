#!/bin/bash
# bench/toolstack.sh BUILD_DIR [RUNS] [GUESTS]: the toolstack's own latencies, in the same test
# host (a private kxend):
#   create  seconds from `kxl create examples/demo.cfg` (detached, as an administrator runs it;
#           256 MiB, 2 vCPUs, kxen.test=idle: tests/guest/in-guest/idle.sh) to the guest's
#           IDLE-READY line in its console log, and when kxl create itself returned; against
#           QEMU with KVM booting the same kernel and initramfs (256 MiB, 2 vCPUs, direct kernel
#           boot) with a virtio console (virtio-serial, hvc0: kxen.console=hvc0 in the guest
#           image's /init) from the command to the same line on that console.  Median
#           (min..max) of RUNS (default 5), alternating, and the ratio kxen/QEMU.  Then the
#           median time of `kxl destroy` of the running guest.
#   list    `kxl list` latency (median of 20 calls, each a new process, as a user runs it)
#           with 1 and with GUESTS (default 20) running idle guests of 64 MiB and 1 vCPU (more
#           memory if the guest does not boot in 64), and the cost per guest.  Fewer guests
#           when the test host's memory runs short (said so).  No peer: QEMU has no list of
#           its own, and a ps-based one would not measure the same thing.
# Guest consoles: BUILD_DIR/bench/toolstack-*.log.  Not part of make test.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_testhost toolstack "$@"
[[ ${1:-} == --inner ]] && shift
BUILD=$(cd "${1:-build}" && pwd) || exit 1
RUNS=${2:-5}
GUESTS=${3:-20}
for v in "$RUNS" "$GUESTS"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 BUILD_DIR [RUNS] [GUESTS]" >&2; exit 2; }
done
KERNEL=$BUILD/images/vmlinuz
INITRD=$BUILD/images/initrd.cpio.gz
LOGS=$BUILD/bench
kxl=$BUILD/bin/kxl
LIST_CALLS=20
mkdir -p "$LOGS"
bench_need toolstack "$KERNEL" "$INITRD" "$kxl" "$BUILD/bin/kxend"
grep -q virtio_console "$BUILD/images/rootfs/lib/modules/boot" 2>/dev/null ||
	{ echo "bench/toolstack: the guest image loads no virtio_console (make images)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/kxen-bench-ts.XXXXXX) || exit 1
QPID=
cleanup() {
	local n
	[[ -n $QPID ]] && kill "$QPID" 2>/dev/null
	for n in $("$kxl" list 2>/dev/null | awk '$1 ~ /^bench-ts/ { print $1 }'); do
		timeout 20 "$kxl" destroy "$n" >/dev/null 2>&1
	done
	bench_kxend_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
bench_kxend "$tmp"

# until_ready START FD: reads lines from FD until one starts with IDLE-READY; prints the
# seconds since START (an EPOCHREALTIME), or nan when FD ends first.
until_ready() {
	local start=$1 fd=$2 line
	while IFS= read -r -u "$fd" line; do
		if [[ $line == IDLE-READY* ]]; then
			echo "$EPOCHREALTIME - $start" | bc
			return 0
		fi
	done
	echo nan
}

# ready_after START LOG: seconds from START (an EPOCHREALTIME) until LOG has a line starting with
# IDLE-READY (followed with tail -F: inotify, no polling), into T; nan after 300 s.
ready_after() {
	local fd pid
	exec {fd}< <(exec timeout 300 tail -n +1 -F "$2" 2>/dev/null)
	pid=$!
	T=$(until_ready "$1" "$fd")
	kill "$pid" 2>/dev/null
	exec {fd}<&-
}

# kxen_create RUN: one kxen create; T to IDLE-READY, RET when kxl create returned.
kxen_create() {
	local log=$KXEN_LOG_DIR/console-bench-ts-create.log start
	rm -f "$log"
	T=nan RET=nan
	start=$EPOCHREALTIME
	if ! timeout 120 "$kxl" create -q examples/demo.cfg name=bench-ts-create \
		"extra=console=hvc0 quiet kxen.test=idle" >"$tmp/create.out" 2>&1; then
		echo "bench/toolstack: kxl create: $(tr '\n' '|' <"$tmp/create.out")" >&2
		return
	fi
	RET=$(echo "$EPOCHREALTIME - $start" | bc)
	ready_after "$start" "$log"
	cp "$log" "$LOGS/toolstack-kxen-$1.log" 2>/dev/null
}

# kxen_destroy: seconds kxl destroy of the running create guest takes, into T.
kxen_destroy() {
	local start=$EPOCHREALTIME
	timeout 60 "$kxl" destroy bench-ts-create >/dev/null 2>&1
	T=$(echo "$EPOCHREALTIME - $start" | bc)
}

# qemu_create RUN: seconds from QEMU's start to IDLE-READY on its virtio console, into T.
qemu_create() {
	local log=$LOGS/toolstack-qemu-$1.log start
	: >"$log"
	start=$EPOCHREALTIME
	timeout 300 qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 2 \
		-nodefaults -display none -no-reboot -kernel "$KERNEL" -initrd "$INITRD" \
		-serial "file:$LOGS/toolstack-qemu-serial-$1.log" \
		-device virtio-serial-pci -chardev stdio,id=vc0,signal=off \
		-device virtconsole,chardev=vc0 \
		-append "console=ttyS0 quiet kxen.console=hvc0 kxen.test=idle" </dev/null >"$log" 2>&1 &
	QPID=$!
	ready_after "$start" "$log"
	kill "$QPID" 2>/dev/null
	wait "$QPID" 2>/dev/null
	QPID=
}

echo "bench/toolstack: $(nproc) CPUs, $(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB," \
	"$RUNS runs, list with 1 and $GUESTS guests"
kr=() kc=() qr=() kd=()
for i in $(seq "$RUNS"); do
	kxen_create "$i"
	kr+=("$T") kc+=("$RET")
	line=$(printf 'run %d: kxen %.2f s (kxl create returned after %.2f s)' "$i" "$T" "$RET")
	if [[ $T != nan ]]; then
		kxen_destroy
		kd+=("$T")
	fi
	timeout 60 "$kxl" destroy bench-ts-create >/dev/null 2>&1
	qemu_create "$i"
	qr+=("$T")
	printf '%s, qemu %.2f s\n' "$line" "$T"
done
nonan() { local v; for v in "$@"; do [[ $v != nan ]] && echo "$v"; done; }
read -r km kmin kmax <<<"$(bench_stats 2 $(nonan "${kr[@]}"))"
read -r cm cmin cmax <<<"$(bench_stats 2 $(nonan "${kc[@]}"))"
read -r qm qmin qmax <<<"$(bench_stats 2 $(nonan "${qr[@]}"))"
read -r dm dmin dmax <<<"$(bench_stats 3 "${kd[@]}")"

# ---- kxl list with 1 and with GUESTS guests ----
# list_ms: the median of LIST_CALLS kxl list calls, in milliseconds.
list_ms() {
	local i s
	local -a v=()
	for i in $(seq "$LIST_CALLS"); do
		s=$EPOCHREALTIME
		"$kxl" list >/dev/null 2>&1
		v+=("$(echo "($EPOCHREALTIME - $s) * 1000" | bc)")
	done
	bench_stats 1 "${v[@]}"
}
# start_small N MEM: starts bench-ts-N with MEM MiB and 1 vCPU; 0 once it says IDLE-READY,
# else 1 with the reason in WHY.
start_small() {
	local name=bench-ts-$1 log=$KXEN_LOG_DIR/console-bench-ts-$1.log deadline=$((SECONDS + 180))
	rm -f "$log"
	WHY=
	if ! timeout 120 "$kxl" create -q examples/demo.cfg name="$name" memory="$2" vcpus=1 \
		"extra=console=hvc0 quiet kxen.test=idle kxen.idle_secs=3600" >"$tmp/small.out" 2>&1; then
		WHY="kxl create: $(tail -1 "$tmp/small.out")"
		return 1
	fi
	until grep -q '^IDLE-READY' "$log" 2>/dev/null; do
		if ! "$kxl" domid "$name" >/dev/null 2>&1; then
			WHY="the domain ended: $(tail -1 "$KXEN_LOG_DIR/domain-$name.log" 2>/dev/null)"
			break
		fi
		if [[ $SECONDS -ge $deadline ]]; then
			WHY="no IDLE-READY in 180 s"
			break
		fi
		sleep 0.5
	done
	[[ -z $WHY ]] && return 0
	cp "$log" "$LOGS/toolstack-small-$1-$2.log" 2>/dev/null
	cp "$KXEN_LOG_DIR/domain-$name.log" "$LOGS/toolstack-small-$1-$2.domain.log" 2>/dev/null
	timeout 20 "$kxl" destroy "$name" >/dev/null 2>&1
	return 1
}

mem=
for m in 64 96 128; do
	if start_small 1 "$m"; then
		mem=$m
		break
	fi
	echo "bench/toolstack: a $m MiB guest did not reach IDLE-READY: $WHY (logs: $LOGS/toolstack-small-1-$m.*)"
done
[[ -n $mem ]] || { echo "bench/toolstack: no small guest booted" >&2; exit 1; }
read -r l1 l1min l1max <<<"$(list_ms)"
n=1 short=
while [[ $n -lt $GUESTS ]]; do
	avail=$(awk '/^MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
	if [[ $avail -lt $((mem + 256)) ]]; then
		short="memory: $avail MiB available with $n guests"
		break
	fi
	start_small $((n + 1)) "$mem" || { short="guest $((n + 1)) did not start: $WHY"; break; }
	n=$((n + 1))
done
read -r ln lnmin lnmax <<<"$(list_ms)"
rows=$("$kxl" list 2>/dev/null | awk '$1 ~ /^bench-ts-[0-9]/' | wc -l)
avail=$(awk '/^MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)

echo
echo "create to IDLE-READY, median of $RUNS (min..max), seconds:"
printf '  kxen (kxl create, PV console)        %6.2f  (%.2f..%.2f)\n' "$km" "$kmin" "$kmax"
printf '    of which kxl create itself         %6.2f  (%.2f..%.2f)\n' "$cm" "$cmin" "$cmax"
printf '  QEMU + KVM (virtio console)          %6.2f  (%.2f..%.2f)\n' "$qm" "$qmin" "$qmax"
printf '  ratio kxen/QEMU                      %6.2f\n' "$(echo "$km / $qm" | bc -l)"
printf '  kxl destroy of the running guest     %6.3f  (%.3f..%.3f)\n' "$dm" "$dmin" "$dmax"
echo "kxl list, median of $LIST_CALLS calls (min..max), milliseconds; guests of $mem MiB, 1 vCPU:"
printf '  1 guest                              %6.1f  (%.1f..%.1f)\n' "$l1" "$l1min" "$l1max"
printf '  %-36s %6.1f  (%.1f..%.1f)\n' "$n guests" "$ln" "$lnmin" "$lnmax"
if [[ $n -gt 1 ]]; then
	printf '  per guest                            %6.2f\n' "$(echo "($ln - $l1) / ($n - 1)" | bc -l)"
	printf '  %-36s %6.2f\n' "ratio $n guests / 1 guest" "$(echo "$ln / $l1" | bc -l)"
fi
echo "  ($rows guests listed at the end; $avail MiB available)"
[[ -n $short ]] && echo "  fewer than $GUESTS guests: $short"
exit 0
