#!/bin/bash
# Xen's vif modes served by kxen's hot-plug scripts (scripts/hotplug): route
# (vif-route: the host reaches the guest's ip= address through a host route
# and proxy ARP), nat (vif-nat: the guest gets its address from the vif's
# dnsmasq by DHCP and reaches a server in another network namespace, which
# has no route back but through the masquerading), and anti-spoofing (a vif
# on a bridge with ip=10.99.0.2: the guest's pings from 10.99.0.77 go
# unanswered, those from 10.99.0.2 are answered).  The three guests run at
# once; everything (guests, namespace, veth, bridge, nftables table kxen,
# dnsmasq) is removed at the end.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
export XENSTORED_PATH=$tmp/xenstored.sock
export KXEN_RUN_DIR=$tmp/run KXEN_LOG_DIR=$tmp/log
BR=xenbr9
NS=kxnm-srv
"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$tmp/state" >"$tmp/kxend.log" 2>&1 &
KXEND_PID=$!
pids=()
finish() {
	for n in nm-route nm-nat nm-spoof; do "$BUILD/bin/kxl" destroy $n 2>/dev/null; done
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	[ -n "$HTTPD_PID" ] && kill "$HTTPD_PID" 2>/dev/null
	ip netns del $NS 2>/dev/null
	ip link del kxnm0 2>/dev/null
	scripts/hotplug/network-bridge stop bridge=$BR >/dev/null 2>&1
	for fam in bridge ip arp; do nft delete table $fam kxen 2>/dev/null; done
	for f in "$KXEN_RUN_DIR"/dnsmasq-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	kill "$KXEND_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$KXEND_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$KXEND_PID" 2>/dev/null
	wait "$KXEND_PID" 2>/dev/null
	rm -rf "$tmp"
}
trap finish EXIT
for _ in $(seq 50); do xenstore-ls / >/dev/null 2>&1 && break; sleep 0.1; done
modprobe tun 2>/dev/null
for m in veth bridge nf_tables nft_chain_nat nft_masq nft_meta_bridge; do modprobe $m 2>/dev/null; done
marker() { sed -n "s/^$2[= ]\\(.*\\)/\\1/p" "$1" | tr -d '\r' | head -1; }
if command -v ping >/dev/null; then PING=ping; else PING="busybox ping"; fi
export KXEN_BG_TIMEOUT=300

# The server's namespace: 10.97.0.2 behind a veth, no route back to the guests' subnets.
ip netns add $NS &&
	ip link add kxnm0 type veth peer name kxnm1 &&
	ip link set kxnm1 netns $NS &&
	ip addr add 10.97.0.1/24 dev kxnm0 && ip link set kxnm0 up &&
	ip -n $NS addr add 10.97.0.2/24 dev kxnm1 && ip -n $NS link set kxnm1 up &&
	ip -n $NS link set lo up || fail "net modes: the server's network namespace" "ip netns/veth"
mkdir -p "$tmp/www"
token=kxen-nat-$RANDOM$RANDOM
echo "$token" >"$tmp/www/token.txt"
ip netns exec $NS busybox httpd -f -p 10.97.0.2:8080 -h "$tmp/www" &
HTTPD_PID=$!
scripts/hotplug/network-bridge start bridge=$BR address=10.99.0.1/24 >"$tmp/br.log" 2>&1 ||
	fail "net modes: network-bridge start $BR" "$(tr '\n' '|' <"$tmp/br.log")"

outr=$tmp/route.out outn=$tmp/nat.out outs=$tmp/spoof.out
boot_guest_bg "$outr" examples/demo.cfg name=nm-route "vif=['script=vif-route, ip=10.98.0.2']" \
	"extra=console=hvc0 quiet kxen.test=netmode kxen.mode=route kxen.ip=10.98.0.2"
pids+=("$KX_BG_PID")
boot_guest_bg "$outn" examples/demo.cfg name=nm-nat "vif=['script=vif-nat']" \
	"extra=console=hvc0 quiet kxen.test=netmode kxen.mode=nat kxen.server=10.97.0.2"
pids+=("$KX_BG_PID")
boot_guest_bg "$outs" examples/demo.cfg name=nm-spoof "vif=['bridge=$BR, ip=10.99.0.2']" \
	"extra=console=hvc0 quiet kxen.test=netmode kxen.mode=spoof kxen.ip=10.99.0.2"
pids+=("$KX_BG_PID")
KX_BG_PID=

# ---- route ----
wait_for_line "$outr" '^NETMODE-READY|^NETMODE-NO-ETH0' 180
dr=$("$BUILD/bin/kxl" domid nm-route 2>/dev/null)
vr=vif$dr.0
if [ -n "$dr" ] && ip -4 route show 10.98.0.2 | grep -q "dev $vr" &&
	[ "$(cat /proc/sys/net/ipv4/conf/$vr/proxy_arp 2>/dev/null)" = 1 ] &&
	[ "$(xenstore-read "/local/domain/0/backend/vif/$dr/0/hotplug-status" 2>/dev/null)" = connected ]; then
	pass "net modes: vif-route routes 10.98.0.2 through $vr with proxy ARP (hotplug-status connected)"
else
	fail "net modes: vif-route's route" "domid=$dr route=$(ip -4 route show 10.98.0.2) $(grep -E 'vif|error' "$outr" | head -3 | tr '\n' '|')"
fi
if $PING -c 3 -W 5 10.98.0.2 >"$tmp/ping.log" 2>&1; then
	pass "net modes: route: the host pings the guest's ip= address 10.98.0.2"
else
	fail "net modes: route: host pings guest" "$(tail -2 "$tmp/ping.log" | tr '\n' '|') $(grep -E '^NETMODE' "$outr" | tr '\n' '|')"
fi

# ---- nat ----
wait_for_line "$outn" '^NETMODE-READY|^NETMODE-NO-ETH0' 180
dn=$("$BUILD/bin/kxl" domid nm-nat 2>/dev/null)
want=10.200.$((dn % 256)).2
got=$(marker "$outn" NETMODE-ADDR)
if grep -q '^NETMODE-DHCP-OK' "$outn" && [ "$got" = "$want" ]; then
	pass "net modes: nat: the guest gets $want by DHCP from vif$dn.0's dnsmasq"
else
	fail "net modes: nat: DHCP" "want=$want got=$got $(grep -E '^NETMODE|vif|error' "$outn" | head -4 | tr '\n' '|')"
fi
if grep -q '^NETMODE-PING-SERVER-OK' "$outn" && [ "$(marker "$outn" NETMODE-HTTP | cut -d' ' -f1)" = "$token" ]; then
	pass "net modes: nat: the guest pings and fetches over HTTP from 10.97.0.2 in namespace $NS, masqueraded"
else
	fail "net modes: nat: guest reaches the server" "$(grep -E '^NETMODE-(PING|HTTP|WGET)' "$outn" | tr '\n' '|') host's fetch: $(timeout 10 busybox wget -q -O - http://10.97.0.2:8080/token.txt 2>&1 | head -c 80)"
fi

# ---- anti-spoofing ----
wait_for_line "$outs" '^NETMODE-READY|^NETMODE-NO-ETH0' 180
ds=$("$BUILD/bin/kxl" domid nm-spoof 2>/dev/null)
if grep -q '^NETMODE-PING-REAL-OK' "$outs"; then
	pass "net modes: a guest with ip=10.99.0.2 on $BR pings the host from 10.99.0.2"
else
	fail "net modes: ping from the ip= address" "$(grep -E '^NETMODE|vif|rror' "$outs" | head -6 | tr '\n' '|')"
fi
if grep -q '^NETMODE-PING-SPOOF-UNANSWERED' "$outs" &&
	nft list chain bridge kxen "spoof_vif${ds}_0" 2>/dev/null | grep -q 'drop'; then
	pass "net modes: its pings from the spoofed 10.99.0.77 are dropped (table bridge kxen) and go unanswered"
else
	fail "net modes: spoofed source dropped" "$(grep -E '^NETMODE-PING' "$outs" | tr '\n' '|') chain=$(nft list chain bridge kxen "spoof_vif${ds}_0" 2>&1 | tr '\n' ' ' | head -c 200)"
fi

# ---- offline removes what online added ----
for n in nm-route nm-nat nm-spoof; do "$BUILD/bin/kxl" destroy $n >/dev/null 2>&1; done
for p in "${pids[@]}"; do KX_BG_PID=$p wait_bg 30; done
pids=()
left=
for _ in $(seq 50); do
	left=
	ip -4 route show 10.98.0.2 | grep -q . && left+=" route"
	ls "$KXEN_RUN_DIR"/dnsmasq-*.pid >/dev/null 2>&1 && left+=" dnsmasq-pid"
	nft list ruleset 2>/dev/null | grep -qE 'chain (spoof|nat)_' && left+=" chains"
	[ -z "$left" ] && break
	sleep 0.2
done
if [ -z "$left" ] && ! pgrep -f "dnsmasq.*vif$dn.0" >/dev/null; then
	pass "net modes: offline removed the routes, dnsmasq and the nftables chains"
else
	fail "net modes: offline cleanup" "left:$left $(nft list ruleset 2>/dev/null | grep chain | tr '\n' ' ')"
fi
