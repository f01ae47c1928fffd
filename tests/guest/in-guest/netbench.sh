# Network benchmark (bench/net.sh, kxen.test=netbench): eth0 (xen-netfront
# or virtio-net) gets kxen.ip= (default 10.99.0.2/24); then one TCP stream
# of kxen.bench_secs= seconds (default 5) each way with tcpbench against
# the host at 10.99.0.1, which listens: guest -> host on port 5201 (the
# host prints the result), host -> guest on 5202 (printed here as
# "NETBENCH h2g TCPBENCH ...").  Then NETBENCH-DONE and power off.
arg() { sed -n "s/.*$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
addr=$(arg kxen.ip)
secs=$(arg kxen.bench_secs)
i=0
while [ ! -d /sys/class/net/eth0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -d /sys/class/net/eth0 ] || { echo "NETBENCH-ERROR no eth0"; exit 0; }
ip link set lo up
ip addr add "${addr:-10.99.0.2/24}" dev eth0
ip link set eth0 up
echo "NETBENCH-UP $(cat /sys/class/net/eth0/address)"
tcpbench connect 10.99.0.1 5201 send "${secs:-5}" || echo "NETBENCH-ERROR g2h"
echo "NETBENCH h2g $(tcpbench connect 10.99.0.1 5202 recv || echo ERROR)"
echo "NETBENCH-DONE"
