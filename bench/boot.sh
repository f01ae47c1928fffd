#!/bin/bash
# bench/boot.sh BUILD_DIR [RUNS]: boot time of the same kernel and initramfs
# under kxen (Xen PVH, console on hvc0) and under QEMU with KVM (virtio-less
# direct kernel boot, console on ttyS0), from the command to the guest's
# init marker, in the same test host.  Prints median, min and max of RUNS
# (default 5) for each, and the ratio of the medians.  Not part of make test.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_testhost boot "$@"
[[ ${1:-} == --inner ]] && shift
BUILD=$(cd "${1:-build}" && pwd) || exit 1
RUNS=${2:-5}
export KXEN_RUN_DIR=$BUILD/run KXEN_LOG_DIR=$BUILD/log
mkdir -p "$KXEN_RUN_DIR" "$KXEN_LOG_DIR"
KERNEL=$BUILD/images/vmlinuz
INITRD=$BUILD/images/initrd.cpio.gz

# time_to_marker CMD...: seconds from start to the KXEN-GUEST-INIT-OK line;
# the guest then powers itself off and the command ends.
time_to_marker() {
	local start=$EPOCHREALTIME t=
	while IFS= read -r line; do
		if [[ -z $t && $line == *KXEN-GUEST-INIT-OK* ]]; then
			t=$(echo "$EPOCHREALTIME - $start" | bc)
		fi
	done < <(timeout 300 "$@" 2>&1 </dev/null)
	echo "${t:-nan}"
}

kx=() qe=()
for i in $(seq "$RUNS"); do
	kx+=("$(time_to_marker "$BUILD/bin/kxl" create -F -c examples/demo.cfg name=bench-boot)")
	qe+=("$(time_to_marker qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 2 \
		-nodefaults -nographic -no-reboot -serial stdio -kernel "$KERNEL" \
		-initrd "$INITRD" -append "console=ttyS0 quiet")")
	echo "run $i: kxen ${kx[-1]} s, qemu ${qe[-1]} s"
done
read -r km kmin kmax <<<"$(bench_stats 2 "${kx[@]}")"
read -r qm qmin qmax <<<"$(bench_stats 2 "${qe[@]}")"
echo "boot to init marker, median of $RUNS (min..max), seconds:"
printf '  kxen (Xen PVH)       %6.2f  (%.2f..%.2f)\n' "$km" "$kmin" "$kmax"
printf '  QEMU + KVM (direct)  %6.2f  (%.2f..%.2f)\n' "$qm" "$qmin" "$qmax"
printf '  ratio kxen/QEMU      %6.2f\n' "$(echo "$km / $qm" | bc -l)"
