#!/bin/bash
# bench/block.sh BUILD_DIR [SECONDS] [RUNS] [SIZE_MiB]: disk throughput and IOPS of a guest on
# one raw image, in the same test host:
#   host  fio on the test host against the image file itself: the limit
#   QEMU  QEMU with KVM, the image as a virtio-blk disk (cache=writeback, aio=threads)
#   kxen  kxl create with the image as a Xen disk (xen-blkfront in the guest, kxen's backend);
#         "n/a" while kxl refuses domains with disks
# The image (SIZE_MiB, default 512, filled with zeros so that every page exists) lives in the
# test host's RAM: a tmpfs under /tmp there.  Guests are the default kernel and initrd (256 MiB,
# 2 vCPUs) running tests/guest/in-guest/blkbench.sh (kxen.test=blkbench): fio, libaio,
# iodepth 32, direct=1, SECONDS per job (default 5) after 1 s of ramp: sequential read and
# write with 1 MiB blocks (MB/s), random read and write with 4 KiB blocks (IOPS).  On a tmpfs
# the host's own run has no O_DIRECT (Linux 6.1) and goes through the page cache, which is
# where a tmpfs keeps its data anyway.  QEMU's cache=none would need O_DIRECT as well: hence
# cache=writeback, which on a tmpfs adds no second copy.
# RUNS (default 1) rounds alternate the three; the table shows medians, then the ratios
# kxen/QEMU and kxen/host.  Each run's guest console: BUILD_DIR/bench/block-*.log.
# Not part of make test.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_testhost block "$@"
[[ ${1:-} == --inner ]] && shift
BUILD=$(cd "${1:-build}" && pwd) || exit 1
SECS=${2:-5}
RUNS=${3:-1}
SIZE=${4:-512}
for v in "$SECS" "$RUNS" "$SIZE"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 BUILD_DIR [SECONDS] [RUNS] [SIZE_MiB]" >&2; exit 2; }
done
KERNEL=$BUILD/images/vmlinuz
INITRD=$BUILD/images/initrd.cpio.gz
LOGS=$BUILD/bench
mkdir -p "$LOGS"
bench_need block "$KERNEL" "$INITRD" "$BUILD/bin/kxl"

tmp=$(mktemp -d /tmp/kxen-bench-block.XXXXXX) || exit 1
cleanup() {
	bench_kxend_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
img=$tmp/disk.img
dd if=/dev/zero of="$img" bs=1M count="$SIZE" status=none || exit 1
fstype=$(stat -f -c %T "$tmp")
direct=1
dd if="$img" of=/dev/null bs=4096 count=1 iflag=direct status=none 2>/dev/null || direct=0
echo "bench/block: image $img: $SIZE MiB on $fstype$([[ $fstype == tmpfs ]] && echo " (RAM)")," \
	"fio $SECS s per job, $RUNS run(s)"

# kxen's disks need a xenstore: a private kxend.
bench_need block "$BUILD/bin/kxend"
bench_kxend "$tmp"

JOBS=(seqread seqwrite randread randwrite)
declare -A val # val[who,job,run] = MB/s (seq) or IOPS (rand)
kxen_na=

# collect WHO RUN LOG: the BLKBENCH lines of LOG into val; 1 when the run did not finish.
collect() {
	local who=$1 run=$2 log=$3 job bw iops
	while read -r job bw iops; do
		if [[ $job == seq* ]]; then
			val[$who,$job,$run]=$(echo "$bw * 1024 / 1000000" | bc -l)
		else
			val[$who,$job,$run]=$iops
		fi
	done < <(tr -d '\r' <"$log" | sed -n \
		's/^BLKBENCH job=\([a-z]*\) bw_kib=\([0-9]*\) iops=\([0-9.]*\)$/\1 \2 \3/p')
	if grep -q '^BLKBENCH-DONE' "$log"; then
		return 0
	fi
	echo "bench/block: $who run $run did not finish: $(tr -d '\r' <"$log" |
		grep -E 'BLKBENCH-ERROR|error|Could not' | head -3 | tr '\n' '|') (log: $log)" >&2
	return 1
}

for run in $(seq "$RUNS"); do
	log=$LOGS/block-host-$run.log
	sh tests/guest/in-guest/blkbench.sh "$img" "$SECS" "$direct" >"$log" 2>&1
	collect host "$run" "$log"

	log=$LOGS/block-qemu-$run.log
	timeout -k 10 $((SECS * 8 + 240)) qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 2 \
		-nodefaults -nographic -no-reboot -serial stdio -kernel "$KERNEL" -initrd "$INITRD" \
		-drive "file=$img,format=raw,if=virtio,cache=writeback,aio=threads" \
		-append "console=ttyS0 quiet kxen.test=blkbench kxen.bdev=/dev/vda kxen.bench_secs=$SECS" \
		</dev/null >"$log" 2>&1
	collect qemu "$run" "$log"

	log=$LOGS/block-kxen-$run.log
	if [[ -z $kxen_na ]]; then
		timeout -k 10 $((SECS * 8 + 240)) "$BUILD/bin/kxl" create -F -c examples/demo.cfg \
			name=bench-block "disk=['$img,raw,xvdb,rw']" \
			"extra=console=hvc0 quiet kxen.test=blkbench kxen.bdev=/dev/xvdb kxen.bench_secs=$SECS" \
			</dev/null >"$log" 2>&1
		if grep -q 'disk devices are not supported yet' "$log"; then
			kxen_na=1
		else
			collect kxen "$run" "$log"
		fi
	fi
	echo "run $run: done"
done

# stats WHO JOB: "median min max" over the runs, or "" when no run measured it.
stats() {
	local who=$1 job=$2 run
	local -a v=()
	for run in $(seq "$RUNS"); do
		[[ -n ${val[$who,$job,$run]:-} ]] && v+=("${val[$who,$job,$run]}")
	done
	bench_stats 1 "${v[@]}"
}

declare -A med lo hi
for who in host qemu kxen; do
	for job in "${JOBS[@]}"; do
		read -r "med[$who,$job]" "lo[$who,$job]" "hi[$who,$job]" <<<"$(stats "$who" "$job")"
	done
done

row() { # LABEL WHO: the medians, then (with RUNS > 1) min..max
	local job
	printf '  %-24s' "$1"
	for job in "${JOBS[@]}"; do
		if [[ -n ${med[$2,$job]} ]]; then
			printf ' %13.0f' "${med[$2,$job]}"
		else
			printf ' %13s' "-"
		fi
	done
	printf '\n'
	[[ $RUNS -gt 1 && -n ${med[$2,${JOBS[0]}]}${med[$2,${JOBS[3]}]} ]] || return 0
	printf '  %-24s' ""
	for job in "${JOBS[@]}"; do
		if [[ -n ${med[$2,$job]} ]]; then
			printf ' %13s' "$(printf '%.0f..%.0f' "${lo[$2,$job]}" "${hi[$2,$job]}")"
		else
			printf ' %13s' ""
		fi
	done
	printf '\n'
}
ratio() { # LABEL WHO OTHER
	local job a b
	printf '  %-24s' "$1"
	for job in "${JOBS[@]}"; do
		a=${med[$2,$job]} b=${med[$3,$job]}
		if [[ -n $a && -n $b && $b != 0.0 ]]; then
			printf ' %13.2f' "$(echo "$a / $b" | bc -l)"
		else
			printf ' %13s' "-"
		fi
	done
	printf '\n'
}

echo "block I/O, median (min..max) of $RUNS run(s), fio libaio iodepth 32, $SECS s per job," \
	"image $SIZE MiB on $fstype:"
printf '  %-24s %13s %13s %13s %13s\n' "" "seq read" "seq write" "rand read" "rand write"
printf '  %-24s %13s %13s %13s %13s\n' "" "MB/s" "MB/s" "IOPS" "IOPS"
row "host (fio on the file)" host
row "QEMU + KVM (virtio-blk)" qemu
if [[ -n $kxen_na ]]; then
	echo "  kxen: n/a (block backend not available)"
else
	row "kxen (xen-blkfront)" kxen
	ratio "ratio kxen/QEMU" kxen qemu
	ratio "ratio kxen/host" kxen host
fi
ratio "ratio QEMU/host" qemu host
