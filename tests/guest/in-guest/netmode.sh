# Xen's vif modes (tests/guest/test_net_modes.sh), after kxen.mode=:
#   route  eth0 gets kxen.ip= as a /32 and a default route through eth0 (the
#          host answers ARP for it: proxy ARP); the host pings the guest.
#   nat    udhcpc (busybox; its script is written here, the image has none)
#          gets eth0's address from the vif's dnsmasq; then ping and an HTTP
#          GET (nc) to kxen.server= (a server in another network namespace).
#   spoof  eth0 gets kxen.ip= and 10.99.0.77 (not the vif's ip=); pings the
#          host (10.99.0.1) from each; only the first should be answered.
# Markers NETMODE-...; then wait to be stopped.
arg() { sed -n "s/.*$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
mode=$(arg kxen.mode)
addr=$(arg kxen.ip)
server=$(arg kxen.server)
i=0
while [ ! -d /sys/class/net/eth0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -d /sys/class/net/eth0 ] || { echo "NETMODE-NO-ETH0"; sleep 600; }
ip link set lo up
ip link set eth0 up
case $mode in
route)
	ip addr add "$addr/32" dev eth0
	ip route add default dev eth0
	echo "NETMODE-READY"
	;;
nat)
	cat >/tmp/udhcpc.sh <<'SCRIPT'
#!/bin/sh
case $1 in
bound | renew)
	ip addr flush dev "$interface"
	ifconfig "$interface" "$ip" netmask "$subnet"
	[ -n "$router" ] && route add default gw "${router%% *}" dev "$interface"
	echo "NETMODE-DHCP-IP=$ip ROUTER=$router" >/dev/console
	;;
esac
SCRIPT
	chmod +x /tmp/udhcpc.sh
	if udhcpc -i eth0 -n -q -f -t 10 -T 2 -s /tmp/udhcpc.sh >/tmp/udhcpc.log 2>&1; then
		echo "NETMODE-DHCP-OK"
	else
		echo "NETMODE-DHCP-FAIL $(tail -3 /tmp/udhcpc.log | tr '\n' '|')"
	fi
	echo "NETMODE-ADDR=$(ip -4 -o addr show dev eth0 | sed -n 's/.* inet \([0-9.]*\).*/\1/p' | head -1)"
	if ping -c 3 -W 5 "$server" >/tmp/ping 2>&1; then
		echo "NETMODE-PING-SERVER-OK"
	else
		echo "NETMODE-PING-SERVER-FAIL $(tail -2 /tmp/ping | tr '\n' '|')"
	fi
	# An HTTP/1.0 GET with nc (the static busybox's wget crashes in the guest).
	printf 'GET /token.txt HTTP/1.0\r\n\r\n' | nc -w 10 "$server" 8080 >/tmp/body 2>/tmp/wget
	echo "NETMODE-WGET rc=$? $(tr '\n' '|' </tmp/wget)"
	echo "NETMODE-HTTP=$(tr -d '\r' </tmp/body | tail -1 | head -c 100)"
	echo "NETMODE-READY"
	;;
spoof)
	ip addr add "$addr/24" dev eth0
	ip addr add 10.99.0.77/24 dev eth0
	if ping -c 3 -W 5 -I "$addr" 10.99.0.1 >/tmp/ping 2>&1; then
		echo "NETMODE-PING-REAL-OK"
	else
		echo "NETMODE-PING-REAL-FAIL $(tail -2 /tmp/ping | tr '\n' '|')"
	fi
	if ping -c 3 -W 3 -I 10.99.0.77 10.99.0.1 >/tmp/ping 2>&1; then
		echo "NETMODE-PING-SPOOF-ANSWERED"
	else
		echo "NETMODE-PING-SPOOF-UNANSWERED $(tail -1 /tmp/ping)"
	fi
	echo "NETMODE-READY"
	;;
*)
	echo "NETMODE-BAD-MODE $mode"
	;;
esac
sleep 600
