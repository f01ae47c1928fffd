# Network hot-plug (tests/guest/test_net_hotplug.sh): wait for eth1 (a vif
# added by kxl network-attach), give it 10.97.0.2/24, ping the host at
# 10.97.0.1, wait for eth1 to be detached, then wait to be stopped.
echo "NETHP-READY"
i=0
while [ ! -d /sys/class/net/eth1 ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i + 1)); done
[ -d /sys/class/net/eth1 ] || { echo "NETHP-NO-ETH1"; sleep 600; }
echo "NETHP-MAC=$(cat /sys/class/net/eth1/address)"
ip link set lo up
ip addr add 10.97.0.2/24 dev eth1
ip link set eth1 up
if ping -c 3 -W 5 10.97.0.1 >/tmp/ping 2>&1; then
	echo "NETHP-PING-HOST-OK"
else
	echo "NETHP-PING-HOST-FAIL $(tail -2 /tmp/ping | tr '\n' '|')"
fi
i=0
while [ -d /sys/class/net/eth1 ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i + 1)); done
[ -d /sys/class/net/eth1 ] || echo "NETHP-ETH1-GONE"
sleep 600
