# Network (tests/guest/test_net.sh): configure eth0 from kxen.ip= (default
# 10.99.0.2/24), ping the host (10.99.0.1) and kxen.peer= if given, then
# serve the TCP transfers the host asks for (with kxen.tcp): port 5001
# receives a stream whose sha256 is printed, port 5002 sends kxen.tcpmb=
# MiB (default 100) of random data whose sha256 was printed before, then
# eth0 is expected to be detached; then wait to be stopped.
arg() { sed -n "s/.*$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
addr=$(arg kxen.ip)
addr=${addr:-10.99.0.2/24}
peer=$(arg kxen.peer)
i=0
while [ ! -d /sys/class/net/eth0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -d /sys/class/net/eth0 ] || { echo "NET-NO-ETH0"; sleep 600; }
echo "NET-MAC=$(cat /sys/class/net/eth0/address)"
echo "NET-QUEUES tx=$(ls -d /sys/class/net/eth0/queues/tx-* | wc -l) rx=$(ls -d /sys/class/net/eth0/queues/rx-* | wc -l) cpus=$(grep -c '^processor' /proc/cpuinfo)"
ip link set lo up
ip addr add "$addr" dev eth0
ip link set eth0 up
if ping -c 3 -W 5 10.99.0.1 >/tmp/ping 2>&1; then
	echo "NET-PING-HOST-OK"
else
	echo "NET-PING-HOST-FAIL $(tail -2 /tmp/ping | tr '\n' '|')"
fi
if [ -n "$peer" ]; then
	i=0
	until ping -c 1 -W 2 "$peer" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge 30 ] && break
		sleep 1
	done
	if ping -c 3 -W 5 "$peer" >/tmp/ping 2>&1; then
		echo "NET-PING-PEER-OK $peer"
	else
		echo "NET-PING-PEER-FAIL $peer $(tail -2 /tmp/ping | tr '\n' '|')"
	fi
fi
echo "NET-READY"
if grep -q kxen.tcp /proc/cmdline; then
	mb=$(arg kxen.tcpmb)
	dd if=/dev/urandom of=/tmp/tx bs=1M count="${mb:-100}" 2>/dev/null
	echo "NET-TX-SHA $(sha256sum /tmp/tx | cut -d' ' -f1)"
	echo "NET-RX-SHA $(nc -l -p 5001 | sha256sum | cut -d' ' -f1)"
	nc -l -p 5002 </tmp/tx
	echo "NET-TX-DONE"
	# Detach from the host (tests/guest/test_net.sh): eth0 goes away.
	i=0
	while [ -d /sys/class/net/eth0 ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	[ -d /sys/class/net/eth0 ] || echo "NET-ETH0-GONE"
fi
sleep 600
