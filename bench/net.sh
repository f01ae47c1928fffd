#!/bin/bash
# bench/net.sh BUILD_DIR [SECONDS]: TCP throughput of one stream each way, in the same test host:
#   veth  two network namespaces joined by a veth pair: the limit of the host's stack
#   QEMU  QEMU with KVM, virtio-net on a TAP on a Linux bridge (vhost-net when /dev/vhost-net
#         exists, else QEMU's own TAP back end)
#   kxen  kxl create with a vif on the same bridge (xen-netfront in the guest, kxen's vif
#         backend in the domain process, bridge mode: vif-bridge)
# The bridge is xenbr0 with 10.99.0.1/24 (scripts/hotplug/network-bridge).  Guests are the
# default kernel and initrd (256 MiB, 2 vCPUs) running tests/guest/in-guest/netbench.sh
# (kxen.test=netbench); the stream is tests/guest/tools/tcpbench (128 KiB writes for SECONDS,
# default 5; the receiver times from its first byte to EOF), the same static binary on both
# sides.  guest->host: the guest sends, the host receives; host->guest the other way.
# Prints a table in MB/s (10^6 bytes) and the ratios kxen/QEMU, kxen/veth, QEMU/veth.
# Guest consoles: BUILD_DIR/bench/net-*.log.  Not part of make test.
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_testhost net "$@"
[[ ${1:-} == --inner ]] && shift
BUILD=$(cd "${1:-build}" && pwd) || exit 1
SECS=${2:-5}
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 BUILD_DIR [SECONDS]" >&2; exit 2; }
KERNEL=$BUILD/images/vmlinuz
INITRD=$BUILD/images/initrd.cpio.gz
TB=$BUILD/guest-tools/tcpbench
LOGS=$BUILD/bench
mkdir -p "$LOGS"
bench_need net "$KERNEL" "$INITRD" "$BUILD/bin/kxl" "$BUILD/bin/kxend" "$TB"

tmp=$(mktemp -d /tmp/kxen-bench-net.XXXXXX) || exit 1
BR=xenbr0
cleanup() {
	"$BUILD/bin/kxl" destroy bench-net >/dev/null 2>&1
	ip link del kxqtap0 2>/dev/null
	ip netns del kxbench-a 2>/dev/null
	ip netns del kxbench-b 2>/dev/null
	scripts/hotplug/network-bridge stop bridge=$BR >/dev/null 2>&1
	bench_kxend_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
modprobe tun 2>/dev/null
modprobe veth 2>/dev/null
modprobe vhost_net 2>/dev/null

bench_kxend "$tmp"
scripts/hotplug/network-bridge start bridge=$BR address=10.99.0.1/24 >"$tmp/br.log" 2>&1 ||
	{ echo "bench/net: network-bridge: $(tr '\n' '|' <"$tmp/br.log")" >&2; exit 1; }

declare -A val # val[who,dir] = MB/s
mbps() { sed -n 's/.*TCPBENCH bytes=[0-9]* ms=[0-9]* MBps=\([0-9.]*\).*/\1/p' "$1" | tr -d '\r' | head -1; }

# guest WHO LOG CMD...: starts the guest (CMD), serves its two streams, fills val[WHO,*].
guest() {
	local who=$1 log=$2 gpid
	shift 2
	timeout -k 10 $((SECS * 4 + 180)) "$@" </dev/null >"$log" 2>&1 &
	gpid=$!
	timeout $((SECS * 2 + 150)) "$TB" listen 5201 recv >"$tmp/$who-g2h" 2>&1
	timeout $((SECS * 2 + 60)) "$TB" listen 5202 send "$SECS" >/dev/null 2>&1
	for _ in $(seq 300); do
		grep -q '^NETBENCH h2g\|NETBENCH-ERROR' "$log" && break
		sleep 0.1
	done
	val[$who,g2h]=$(mbps "$tmp/$who-g2h")
	val[$who,h2g]=$(mbps "$log")
	[[ -n ${val[$who,g2h]} && -n ${val[$who,h2g]} ]] ||
		echo "bench/net: $who did not finish: $(tr -d '\r' <"$log" | grep -E 'NETBENCH|error|Could not' |
			head -3 | tr '\n' '|') (log: $log)" >&2
	if [[ $who == kxen ]]; then
		"$BUILD/bin/kxl" destroy bench-net >/dev/null 2>&1
	else
		kill "$gpid" 2>/dev/null
	fi
	wait "$gpid" 2>/dev/null
}

# ---- veth between two namespaces ----
ip netns add kxbench-a && ip netns add kxbench-b &&
	ip link add kxva type veth peer name kxvb &&
	ip link set kxva netns kxbench-a && ip link set kxvb netns kxbench-b &&
	ip -n kxbench-a addr add 10.96.0.1/24 dev kxva && ip -n kxbench-b addr add 10.96.0.2/24 dev kxvb &&
	ip -n kxbench-a link set kxva up && ip -n kxbench-b link set kxvb up &&
	ip -n kxbench-a link set lo up && ip -n kxbench-b link set lo up
timeout $((SECS * 2 + 60)) ip netns exec kxbench-a "$TB" listen 5201 recv >"$tmp/veth-g2h" 2>&1 &
lpid=$!
timeout $((SECS * 2 + 60)) ip netns exec kxbench-b "$TB" connect 10.96.0.1 5201 send "$SECS" >/dev/null 2>&1
wait "$lpid"
timeout $((SECS * 2 + 60)) ip netns exec kxbench-a "$TB" listen 5202 send "$SECS" >/dev/null 2>&1 &
lpid=$!
timeout $((SECS * 2 + 60)) ip netns exec kxbench-b "$TB" connect 10.96.0.1 5202 recv >"$tmp/veth-h2g" 2>&1
wait "$lpid"
val[veth,g2h]=$(mbps "$tmp/veth-g2h")
val[veth,h2g]=$(mbps "$tmp/veth-h2g")
echo "veth: done"

# ---- QEMU, virtio-net on a TAP on the bridge ----
vhost=off
[[ -c /dev/vhost-net ]] && vhost=on
ip tuntap add kxqtap0 mode tap && ip link set kxqtap0 master $BR && ip link set kxqtap0 up
guest qemu "$LOGS/net-qemu.log" qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 2 \
	-nodefaults -nographic -no-reboot -serial stdio -kernel "$KERNEL" -initrd "$INITRD" \
	-netdev "tap,id=n0,ifname=kxqtap0,script=no,downscript=no,vhost=$vhost" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56 \
	-append "console=ttyS0 quiet kxen.test=netbench kxen.ip=10.99.0.3/24 kxen.bench_secs=$SECS"
ip link del kxqtap0 2>/dev/null
echo "QEMU: done"

# ---- kxen, a vif on the bridge ----
guest kxen "$LOGS/net-kxen.log" "$BUILD/bin/kxl" create -F -c examples/demo.cfg name=bench-net \
	"vif=['bridge=$BR']" \
	"extra=console=hvc0 quiet kxen.test=netbench kxen.ip=10.99.0.2/24 kxen.bench_secs=$SECS"
echo "kxen: done"

cell() { [[ -n ${val[$1,$2]:-} ]] && printf ' %14.0f' "${val[$1,$2]}" || printf ' %14s' -; }
ratio() {
	local d a b
	printf '  %-30s' "$1"
	for d in g2h h2g; do
		a=${val[$2,$d]:-} b=${val[$3,$d]:-}
		if [[ -n $a && -n $b && $b != 0 && $b != 0.0 ]]; then
			printf ' %14.2f' "$(echo "$a / $b" | bc -l)"
		else
			printf ' %14s' -
		fi
	done
	printf '\n'
}
echo "TCP throughput, one stream, $SECS s each way, MB/s:"
printf '  %-30s %14s %14s\n' "" "guest->host" "host->guest"
for w in "veth:veth pair, two netns" "qemu:QEMU + KVM (virtio-net$([[ $vhost == on ]] && echo ", vhost"))" \
	"kxen:kxen (xen-netfront, bridge)"; do
	printf '  %-30s' "${w#*:}"
	cell "${w%%:*}" g2h
	cell "${w%%:*}" h2g
	printf '\n'
done
ratio "ratio kxen/QEMU" kxen qemu
ratio "ratio kxen/veth" kxen veth
ratio "ratio QEMU/veth" qemu veth
