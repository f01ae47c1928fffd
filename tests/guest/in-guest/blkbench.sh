# Block benchmark, the in-guest half of bench/block.sh: fio against the disk named on the
# kernel command line, kxen.bdev=DEVICE (/dev/vda under QEMU, /dev/xvdb under kxen), for
# kxen.bench_secs=SECONDS per job (default 5, after 1 s of ramp).  bench/block.sh runs the same
# script on the test host against the image file itself:
#     sh tests/guest/in-guest/blkbench.sh FILE_OR_DEVICE [SECONDS [DIRECT]]
# Jobs, one after the other, libaio, iodepth 32, direct=1 (DIRECT=0 for files on a tmpfs, which
# has no O_DIRECT before Linux 6.6): seqread and seqwrite with 1 MiB blocks, randread and
# randwrite with 4 KiB blocks, over the whole device.  The device's contents are overwritten.
# Prints one line per job, then a last line:
#     BLKBENCH job=seqread bw_kib=123456 iops=120.5
#     BLKBENCH-DONE
# or "BLKBENCH-ERROR <reason>" (and the job's fio output before it).
dev=${1:-}
secs=${2:-}
direct=${3:-1}
if [ -z "$dev" ]; then
	for arg in $(cat /proc/cmdline); do
		case $arg in
		kxen.bdev=*) dev=${arg#kxen.bdev=} ;;
		kxen.bench_secs=*) secs=${arg#kxen.bench_secs=} ;;
		esac
	done
fi
secs=${secs:-5}
if [ -z "$dev" ]; then
	echo "BLKBENCH-ERROR no device: kxen.bdev= missing from the kernel command line"
	exit 1
fi
i=0
while [ ! -e "$dev" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -e "$dev" ]; then
	echo "BLKBENCH-ERROR $dev: no such device ($(ls /sys/class/block 2>/dev/null | tr '\n' ' '))"
	exit 1
fi
command -v fio >/dev/null || { echo "BLKBENCH-ERROR fio not found"; exit 1; }
[ -b "$dev" ] && echo "BLKBENCH-DEVICE $dev $(($(cat "/sys/class/block/${dev##*/}/size") / 2048)) MiB"

for spec in seqread:read:1M seqwrite:write:1M randread:randread:4k randwrite:randwrite:4k; do
	job=${spec%%:*}
	rw=${spec#*:}
	bs=${rw#*:}
	rw=${rw%:*}
	out=$(fio --name="$job" --filename="$dev" --rw="$rw" --bs="$bs" --ioengine=libaio \
		--iodepth=32 --direct="$direct" --time_based --runtime="$secs" --ramp_time=1 \
		--norandommap --randrepeat=0 --output-format=terse --terse-version=3 2>&1)
	# Terse v3: field 7/8 read KiB/s and IOPS, 48/49 write KiB/s and IOPS.
	line=$(echo "$out" | awk -F';' -v job="$job" '$1 == 3 && NF > 50 {
		if (job ~ /read/) { bw = $7; iops = $8 } else { bw = $48; iops = $49 }
		printf "BLKBENCH job=%s bw_kib=%d iops=%.1f\n", job, bw, iops
	}')
	if [ -z "$line" ]; then
		echo "$out"
		echo "BLKBENCH-ERROR $job: fio failed"
		exit 1
	fi
	echo "$line"
done
echo "BLKBENCH-DONE"
