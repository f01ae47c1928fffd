#!/bin/bash
# bench/net.sh BUILD_DIR [SECONDS]: TCP throughput with iperf3 each way, in the same test host:
#   veth  two network namespaces joined by a veth pair: the limit of the host's stack
#   QEMU  QEMU with KVM, virtio-net (one queue) on a TAP on a Linux bridge (vhost-net when
#         /dev/vhost-net exists, else QEMU's own TAP back end)
#   kxen  kxl create with a vif on the same bridge (xen-netfront in the guest, kxen's vif
#         backend in the domain process, bridge mode: vif-bridge); 2 vCPUs, so 2 queues
# The bridge is xenbr0 with 10.99.0.1/24 (scripts/hotplug/network-bridge).  Guests are the
# default kernel and initrd (256 MiB, 2 vCPUs) running tests/guest/in-guest/netbench.sh
# (kxen.test=netbench), which runs Debian's iperf3 (carried in the image) as the client of
# an iperf3 server on the host, for SECONDS (default 5) per run: one stream, then two
# (-P 2), each guest->host (the guest sends) then host->guest (-R: the host sends).  veth:
# the same runs, the server in one namespace and the client in the other.  A figure is
# iperf3's receiver rate.
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
LOGS=$BUILD/bench
mkdir -p "$LOGS"
bench_need net "$KERNEL" "$INITRD" "$BUILD/bin/kxl" "$BUILD/bin/kxend"
command -v iperf3 >/dev/null || { echo "bench/net: iperf3 missing (scripts/install-deps.sh)" >&2; exit 1; }
[[ -x $BUILD/images/rootfs/bin/iperf3 ]] ||
	{ echo "bench/net: the guest image has no iperf3 (install it, then make images)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/kxen-bench-net.XXXXXX) || exit 1
SRV_PID=
BR=xenbr0
cleanup() {
	"$BUILD/bin/kxl" destroy bench-net >/dev/null 2>&1
	[[ -n $SRV_PID ]] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
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

declare -A val  # val[who,dir,streams] = MB/s
declare -A qs   # qs[who] = the guest's eth0 tx queues
STREAMS="1 2"

# mb MBITS: MB/s from iperf3's Mbit/s.
mb() { [[ $1 =~ ^[0-9.]+$ ]] && echo "$1 / 8" | bc -l; }

# guest WHO LOG CMD...: starts the guest (CMD), whose runs go to the host's iperf3 server;
# fills val[WHO,*,*] from the guest's NETBENCH lines.
guest() {
	local who=$1 log=$2 gpid dir n mbit
	shift 2
	timeout -k 10 $((SECS * 8 + 300)) "$@" </dev/null >"$log" 2>&1 &
	gpid=$!
	for _ in $(seq $(((SECS * 8 + 300) * 10))); do
		grep -q 'NETBENCH-DONE\|NETBENCH-ERROR no eth0' "$log" && break
		kill -0 "$gpid" 2>/dev/null || break
		sleep 0.1
	done
	while read -r dir n mbit; do
		val[$who,$dir,$n]=$(mb "$mbit")
	done < <(tr -d '\r' <"$log" | sed -n 's/^NETBENCH \([gh]2[gh]\) \([0-9]*\) \([0-9.]*\)$/\1 \2 \3/p')
	qs[$who]=$(tr -d '\r' <"$log" | sed -n 's/^NETBENCH-UP .* queues=\([0-9]*\)$/\1/p' | head -1)
	grep -q NETBENCH-DONE "$log" && ! grep -q NETBENCH-ERROR "$log" ||
		echo "bench/net: $who: $(tr -d '\r' <"$log" | grep -E 'NETBENCH-ERROR|error|Could not' |
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
ip netns exec kxbench-a iperf3 -s -p 5201 >"$tmp/veth-server.log" 2>&1 &
SRV_PID=$!
sleep 1
for n in $STREAMS; do
	for dir in g2h h2g; do
		r=
		[[ $dir == h2g ]] && r=-R
		mbit=$(timeout $((SECS + 60)) ip netns exec kxbench-b iperf3 -c 10.96.0.1 -p 5201 \
			-t "$SECS" -P "$n" -f m $r 2>&1 | tee -a "$LOGS/net-veth.log" |
			awk '/receiver$/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) }
				END { print v }')
		val[veth,$dir,$n]=$(mb "$mbit")
	done
done
kill "$SRV_PID" 2>/dev/null
wait "$SRV_PID" 2>/dev/null
SRV_PID=
echo "veth: done"

# ---- the guests' server: the host's end of the bridge ----
iperf3 -s -p 5201 -B 10.99.0.1 >"$tmp/server.log" 2>&1 &
SRV_PID=$!

# ---- QEMU, virtio-net on a TAP on the bridge ----
vhost=off
[[ -c /dev/vhost-net ]] && vhost=on
ip tuntap add kxqtap0 mode tap && ip link set kxqtap0 master $BR && ip link set kxqtap0 up
guest qemu "$LOGS/net-qemu.log" qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 2 \
	-nodefaults -nographic -no-reboot -serial stdio -kernel "$KERNEL" -initrd "$INITRD" \
	-netdev "tap,id=n0,ifname=kxqtap0,script=no,downscript=no,vhost=$vhost" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56 \
	-append "console=ttyS0 quiet kxen.test=netbench kxen.ip=10.99.0.3/24 kxen.bench_secs=$SECS kxen.bench_streams=${STREAMS// /,}"
ip link del kxqtap0 2>/dev/null
echo "QEMU: done"

# ---- kxen, a vif on the bridge ----
guest kxen "$LOGS/net-kxen.log" "$BUILD/bin/kxl" create -F -c examples/demo.cfg name=bench-net \
	"vif=['bridge=$BR']" \
	"extra=console=hvc0 quiet kxen.test=netbench kxen.ip=10.99.0.2/24 kxen.bench_secs=$SECS kxen.bench_streams=${STREAMS// /,}"
echo "kxen: done"

cell() { [[ -n ${val[$1]:-} ]] && printf ' %14.1f' "${val[$1]}" || printf ' %14s' -; }
ratio() {
	local d a b
	printf '  %-40s' "$1"
	for d in g2h h2g; do
		a=${val[$2,$d,$4]:-} b=${val[$3,$d,$4]:-}
		if [[ -n $a && -n $b && $b != 0 && $b != 0.0 ]]; then
			printf ' %14.2f' "$(echo "$a / $b" | bc -l)"
		else
			printf ' %14s' -
		fi
	done
	printf '\n'
}
q() { [[ -n ${qs[$1]:-} ]] && echo "${qs[$1]} queue$([[ ${qs[$1]} == 1 ]] || echo s)" || echo "? queues"; }
echo "TCP throughput, iperf3, $SECS s each way, MB/s:"
for n in $STREAMS; do
	s="1 stream"
	[[ $n == 1 ]] || s="$n streams (-P $n)"
	printf '  %-40s %14s %14s\n' "$s" "guest->host" "host->guest"
	for w in "veth:veth pair, two netns" \
		"qemu:QEMU + KVM (virtio-net$([[ $vhost == on ]] && echo ", vhost"), $(q qemu))" \
		"kxen:kxen (xen-netfront, bridge, $(q kxen))"; do
		printf '  %-40s' "${w#*:}"
		cell "${w%%:*},g2h,$n"
		cell "${w%%:*},h2g,$n"
		printf '\n'
	done
	ratio "ratio kxen/QEMU" kxen qemu "$n"
	ratio "ratio kxen/veth" kxen veth "$n"
	ratio "ratio QEMU/veth" qemu veth "$n"
done
