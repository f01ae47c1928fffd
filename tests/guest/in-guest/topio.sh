# kxl top and dump-core (tests/guest/test_top.sh): do known I/O on the data
# disk xvda (4 MiB written, 4 MiB read, both O_DIRECT so that they reach the
# backend) and on eth0 (large pings to the host), keep a marker string in
# memory (a tmpfs file and a shell variable) whose full text never goes to
# the console (the host rebuilds it from the uuid printed), then print a
# heartbeat every second until stopped.
i=0
while [ ! -b /dev/xvda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/xvda ] || echo "TOP-NO-XVDA"
dd if=/dev/urandom of=/tmp/w bs=1M count=4 2>/dev/null
if dd if=/tmp/w of=/dev/xvda bs=1M oflag=direct 2>/dev/null &&
	dd if=/dev/xvda of=/tmp/r bs=1M count=4 iflag=direct 2>/dev/null &&
	cmp -s /tmp/w /tmp/r; then
	echo "TOP-DISK-OK"
else
	echo "TOP-DISK-FAIL"
fi
rm -f /tmp/w /tmp/r
i=0
while [ ! -d /sys/class/net/eth0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
ip link set lo up
ip addr add 10.99.0.2/24 dev eth0
ip link set eth0 up
# 8 x 1400 bytes each way: more than a KiB in NETTX and NETRX.
if ping -c 8 -s 1400 -W 5 10.99.0.1 >/tmp/ping 2>&1; then
	echo "TOP-NET-OK"
else
	echo "TOP-NET-FAIL $(tail -2 /tmp/ping | tr '\n' '|')"
fi
uuid=$(cat /proc/sys/kernel/random/uuid)
mark="KXDUMP-$uuid-END"
i=0
while [ $i -lt 64 ]; do echo "$mark"; i=$((i + 1)); done >/tmp/marker
echo "TOP-UUID $uuid"
echo "TOP-READY"
n=0
while [ $n -lt 600 ]; do
	n=$((n + 1))
	echo "TOP-ALIVE $n"
	sleep 1
done
