# Network benchmark (bench/net.sh, kxen.test=netbench): eth0 (xen-netfront
# or virtio-net) gets kxen.ip= (default 10.99.0.2/24); then, for each count N
# of kxen.bench_streams= (comma-separated, default 1), iperf3 -P N for
# kxen.bench_secs= seconds (default 5) against the iperf3 server the host
# runs at 10.99.0.1:5201: guest -> host (this side sends), then host -> guest
# (-R: the host sends).  Each prints "NETBENCH g2h|h2g N MBITS", MBITS the
# receiver's rate of all N streams in Mbit/s (10^6 bits), or
# "NETBENCH-ERROR ..." with iperf3's last line.  Then NETBENCH-DONE.
arg() { sed -n "s/.*$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
addr=$(arg kxen.ip)
secs=$(arg kxen.bench_secs)
streams=$(arg kxen.bench_streams)
i=0
while [ ! -d /sys/class/net/eth0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -d /sys/class/net/eth0 ] || { echo "NETBENCH-ERROR no eth0"; exit 0; }
ip link set lo up
ip addr add "${addr:-10.99.0.2/24}" dev eth0
ip link set eth0 up
echo "NETBENCH-UP $(cat /sys/class/net/eth0/address) queues=$(ls /sys/class/net/eth0/queues | grep -c '^tx-')"
# run DIR N [-R]: one iperf3 run; the last "receiver" line is the [SUM] one when N > 1.
run() {
	dir=$1 n=$2
	shift 2
	out=$(timeout $((${secs:-5} + 60)) iperf3 -c 10.99.0.1 -p 5201 -t "${secs:-5}" -P "$n" \
		-f m "$@" 2>&1)
	mbit=$(echo "$out" | awk '/receiver$/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) }
		END { print v }')
	if [ -n "$mbit" ]; then
		echo "NETBENCH $dir $n $mbit"
	else
		echo "NETBENCH-ERROR $dir $n: $(echo "$out" | tail -1)"
	fi
}
for n in $(echo "${streams:-1}" | tr , ' '); do
	run g2h "$n"
	run h2g "$n" -R
done
echo "NETBENCH-DONE"
