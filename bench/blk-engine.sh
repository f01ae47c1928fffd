#!/bin/bash
# bench/blk-engine.sh BUILD_DIR [SECONDS] [ROUNDS] [DIR]: the block backend's
# raw storage engines (io_uring, and the worker-thread fallback) side by side
# on a 256 MiB host file in DIR (default /dev/shm: RAM, so the figures are
# the engines' own cost, not a disk's), queue depth 32: 4 KiB random
# read/write IOPS, 1 MiB sequential read/write MB/s, CPU time per operation,
# and uring/threads.  Medians of ROUNDS (default 5) rounds of SECONDS
# (default 3) per engine and workload; see bench/blk-engine.c.  Runs on this
# machine (no KVM needed).  Then, where fio is installed, fio's own io_uring
# engine on the same kind of file, same depth and block sizes (buffered), as
# a reference for what io_uring gives here.  Not part of make test.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
BUILD=$(cd "${1:-build}" && pwd) || exit 1
SECS=${2:-3}
ROUNDS=${3:-5}
DIR=${4:-/dev/shm}
BIN=$BUILD/bench/blk-engine

for l in libbackends libcommon; do
	[[ -f $BUILD/lib/$l.a ]] || { echo "bench/blk-engine: $BUILD/lib/$l.a missing (make all)" >&2; exit 1; }
done
mkdir -p "$BUILD/bench" || exit 1
gcc -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -D_GNU_SOURCE -D__XEN_TOOLS__ -Isrc \
	-o "$BIN" bench/blk-engine.c "$BUILD/lib/libbackends.a" "$BUILD/lib/libcommon.a" \
	-luring -lnbd -lpthread || exit 1

echo "bench/blk-engine: $(nproc) CPUs, kernel $(uname -r)"
file=$(mktemp "$DIR/kxen-blk-engine.XXXXXX") || exit 1
trap 'rm -f "$file"' EXIT
"$BIN" -f "$file" -m 256 -q 32 -s "$SECS" -r "$ROUNDS" || exit 1

command -v fio >/dev/null || exit 0
echo "fio reference (ioengine=io_uring, buffered, iodepth 32, same file, ${SECS} s):"
for job in "randread 4k" "randwrite 4k" "read 1M" "write 1M"; do
	set -- $job
	out=$(fio --name=ref --filename="$file" --size=256M --ioengine=io_uring \
		--iodepth=32 --rw="$1" --bs="$2" --direct=0 --time_based \
		--runtime="$SECS" --ramp_time=0.5 --randrepeat=1 \
		--output-format=terse --terse-version=3 2>/dev/null) || { echo "  $1 $2: fio failed"; continue; }
	# terse v3: field 8 read IOPS, 7 read KB/s; 49 write IOPS, 48 write KB/s
	IFS=';' read -ra f <<<"$out"
	if [[ $1 == *read ]]; then iops=${f[7]} kbs=${f[6]}; else iops=${f[48]} kbs=${f[47]}; fi
	if [[ $2 == 4k ]]; then
		printf '  %-13s %9s IOPS\n' "$2 $1" "$iops"
	else
		printf '  %-13s %9d MB/s\n' "$2 $1" "$((kbs * 1024 / 1000000))"
	fi
done
