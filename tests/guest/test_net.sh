#!/bin/bash
# Network devices served by kxen's vif backend to an unmodified
# xen-netfront over a TAP on a Linux bridge: a guest and the host ping each
# other over xenbr0 (10.99.0.1/24, made here with scripts/hotplug/
# network-bridge), two guests ping each other, a 2-vCPU guest's vif has 2
# queues, 100 MiB cross TCP each way with matching checksums, a vif detaches from a running guest, rate=
# holds a guest's sending down, kxl refuses a bridge that does not exist,
# and the vifs are gone with their domains.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
export XENSTORED_PATH=$tmp/xenstored.sock
export KXEN_RUN_DIR=$tmp/run KXEN_LOG_DIR=$tmp/log
BR=xenbr0
"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$tmp/state" >"$tmp/kxend.log" 2>&1 &
KXEND_PID=$!
finish() {
	_kx_cleanup
	"$BUILD/bin/kxl" destroy net-a 2>/dev/null
	"$BUILD/bin/kxl" destroy net-b 2>/dev/null
	"$BUILD/bin/kxl" destroy net-c 2>/dev/null
	scripts/hotplug/network-bridge stop bridge=$BR
	kill "$KXEND_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$KXEND_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$KXEND_PID" 2>/dev/null
	wait "$KXEND_PID" 2>/dev/null
	rm -rf "$tmp"
}
trap finish EXIT
for _ in $(seq 50); do xenstore-ls / >/dev/null 2>&1 && break; sleep 0.1; done
# The TAP device node (no udev in the test host).
modprobe tun 2>/dev/null
marker() { sed -n "s/^$2[= ]\\(.*\\)/\\1/p" "$1" | tr -d '\r' | head -1; }

# ---- a bridge that does not exist is refused before anything is made ----
if ! "$BUILD/bin/kxl" create examples/demo.cfg name=net-nobr "vif=['bridge=kxnobr0']" \
	>"$tmp/nobr.out" 2>&1 && grep -q 'bridge kxnobr0 does not exist' "$tmp/nobr.out" &&
	! "$BUILD/bin/kxl" domid net-nobr >/dev/null 2>&1; then
	pass "net: a vif on a bridge that does not exist is refused, before anything is created"
else
	fail "net: missing bridge refused" "$(tr '\n' '|' <"$tmp/nobr.out")"
	"$BUILD/bin/kxl" destroy net-nobr 2>/dev/null
fi

if scripts/hotplug/network-bridge start bridge=$BR address=10.99.0.1/24 >"$tmp/br.log" 2>&1 &&
	[ -d /sys/class/net/$BR/bridge ]; then
	pass "net: network-bridge start makes $BR with 10.99.0.1/24"
else
	fail "net: network-bridge start" "$(tr '\n' '|' <"$tmp/br.log")"
	exit 0
fi

# ---- one guest and the host ----
outa=$tmp/a.out
boot_guest_bg "$outa" examples/demo.cfg name=net-a memory=512 "vif=['bridge=$BR']" \
	"extra=console=hvc0 quiet kxen.test=net kxen.ip=10.99.0.2/24 kxen.tcp"
pida=$KX_BG_PID
wait_for_line "$outa" '^NET-READY|^NET-NO-ETH0' 180
mac=$(marker "$outa" NET-MAC)
if grep -q '^NET-PING-HOST-OK' "$outa"; then
	pass "net: the guest's xen-netfront (eth0, $mac) pings the host over $BR"
else
	fail "net: guest pings host" "$(grep -E '^NET-|vif|error' "$outa" | head -4 | tr '\n' '|')"
fi
domid=$("$BUILD/bin/kxl" domid net-a 2>/dev/null)
if [ -n "$domid" ] && [ -e "/sys/class/net/$BR/brif/vif$domid.0" ] &&
	[ "$(xenstore-read "/local/domain/0/backend/vif/$domid/0/hotplug-status" 2>/dev/null)" = connected ] &&
	[ "$(xenstore-read "/local/domain/0/backend/vif/$domid/0/state" 2>/dev/null)" = 4 ]; then
	pass "net: vif$domid.0 is on $BR (vif-bridge ran: hotplug-status connected), backend Connected"
else
	fail "net: vif on the bridge" "domid=$domid brif=$(ls /sys/class/net/$BR/brif 2>/dev/null | tr '\n' ' ')"
fi
# Multi-queue: the 2-vCPU guest's netfront took the 2 queues offered, each
# with its own rings and split event channels, and the traffic above and
# below runs over them.
fe=/local/domain/$domid/device/vif/0
queues=$(marker "$outa" NET-QUEUES)
offered=$(xenstore-read "/local/domain/0/backend/vif/$domid/0/multi-queue-max-queues" 2>/dev/null)
taken=$(xenstore-read "$fe/multi-queue-num-queues" 2>/dev/null)
if [ "${queues%% cpus*}" = "tx=2 rx=2" ] && [ "$offered" = 2 ] && [ "$taken" = 2 ] &&
	xenstore-read "$fe/queue-0/event-channel-tx" "$fe/queue-1/tx-ring-ref" \
		"$fe/queue-1/event-channel-rx" >/dev/null 2>&1; then
	pass "net: a 2-vCPU guest gets 2 queues (eth0 has 2 tx and 2 rx queues; queue-N keys, split event channels)"
else
	fail "net: multi-queue" "guest $queues; offered=$offered taken=$taken keys: $(xenstore-ls "$fe" 2>&1 | grep -E 'queue|event' | tr -d ' ' | tr '\n' ' ')"
fi
# The test host may have no ping of its own: busybox's then.
if command -v ping >/dev/null; then PING=ping; else PING="busybox ping"; fi
if $PING -c 3 -W 5 10.99.0.2 >"$tmp/ping.log" 2>&1; then
	pass "net: the host pings the guest"
else
	fail "net: host pings guest" "$(tail -2 "$tmp/ping.log" | tr '\n' '|')"
fi

# ---- two guests ----
outb=$tmp/b.out
KX_BG_PID=
boot_guest_bg "$outb" examples/demo.cfg name=net-b "vif=['bridge=$BR']" \
	"extra=console=hvc0 quiet kxen.test=net kxen.ip=10.99.0.3/24 kxen.peer=10.99.0.2"
pidb=$KX_BG_PID
wait_for_line "$outb" '^NET-READY|^NET-NO-ETH0' 240
if grep -q '^NET-PING-PEER-OK' "$outb"; then
	pass "net: a second guest pings the first over $BR"
else
	fail "net: guest pings guest" "$(grep -E '^NET-|vif|error' "$outb" | head -4 | tr '\n' '|')"
fi
macb=$(marker "$outb" NET-MAC)
if [ -n "$mac" ] && [ -n "$macb" ] && [ "$mac" != "$macb" ] &&
	[ "${mac:0:9}" = 00:16:3e: ] && [ "${macb:0:9}" = 00:16:3e: ]; then
	pass "net: the guests have distinct MACs in Xen's 00:16:3e range ($mac, $macb)"
else
	fail "net: MAC addresses" "a=$mac b=$macb"
fi
"$BUILD/bin/kxl" destroy net-b >/dev/null 2>&1
KX_BG_PID=$pidb wait_bg 30

# ---- 100 MiB over TCP each way ----
wait_for_line "$outa" '^NET-TX-SHA' 120
head -c 104857600 /dev/urandom >"$tmp/rx.bin"
want=$(sha256sum "$tmp/rx.bin" | cut -d' ' -f1)
ok=
# Retried while the guest's listener comes up; not once it is gone.
for _ in $(seq 20); do
	if timeout 300 bash -c "cat '$tmp/rx.bin' >/dev/tcp/10.99.0.2/5001" 2>/dev/null; then
		ok=1
		break
	fi
	"$BUILD/bin/kxl" domid net-a >/dev/null 2>&1 || break
	sleep 0.5
done
wait_for_line "$outa" '^NET-RX-SHA' 120
got=$(marker "$outa" NET-RX-SHA)
if [ -n "$ok" ] && [ "$got" = "$want" ]; then
	pass "net: 100 MiB host -> guest over TCP, sha256 matches"
else
	fail "net: TCP host -> guest" "sent=$ok want=${want:0:12} got=${got:0:12}; guest:\
 $(grep -vE '^\[' "$outa" | tail -4 | tr '\n' '|')"
fi
rm -f "$tmp/rx.bin"
want=$(marker "$outa" NET-TX-SHA)
got=
for _ in $(seq 20); do
	got=$(timeout 300 bash -c "cat </dev/tcp/10.99.0.2/5002" 2>/dev/null | sha256sum | cut -d' ' -f1)
	[ "$got" = "$want" ] && break
	grep -q '^NET-TX-DONE' "$outa" && break
	"$BUILD/bin/kxl" domid net-a >/dev/null 2>&1 || break
	sleep 0.5
done
if [ -n "$want" ] && [ "$got" = "$want" ]; then
	pass "net: 100 MiB guest -> host over TCP, sha256 matches"
else
	fail "net: TCP guest -> host" "want=${want:0:12} got=${got:0:12}; guest:\
 $(grep -vE '^\[' "$outa" | tail -4 | tr '\n' '|')"
fi

# ---- detach, as libxl does it: online 0 and Closing, then the directories go ----
be=/local/domain/0/backend/vif/$domid/0
fe=/local/domain/$domid/device/vif/0
xenstore-write "$be/online" 0 "$be/state" 5 2>"$tmp/detach.err"
for _ in $(seq 150); do
	[ "$(xenstore-read "$be/state" 2>/dev/null)" = 6 ] && break
	sleep 0.2
done
bestate=$(xenstore-read "$be/state" 2>/dev/null)
xenstore-rm "$be" 2>>"$tmp/detach.err"
xenstore-rm "$fe" 2>>"$tmp/detach.err"
for _ in $(seq 100); do
	[ -e "/sys/class/net/vif$domid.0" ] || break
	sleep 0.2
done
if [ "$bestate" = 6 ] && [ ! -e "/sys/class/net/vif$domid.0" ] &&
	wait_for_line "$outa" '^NET-ETH0-GONE' 60; then
	pass "net: a vif detached from a running guest (online 0, Closing -> Closed, directories removed): TAP gone on the host, eth0 gone in the guest"
else
	fail "net: detach" "backend state=$bestate tap=$(ls -d /sys/class/net/vif$domid.0 2>/dev/null) $(tr '\n' '|' <"$tmp/detach.err") $(grep '^NET-' "$outa" | tail -2 | tr '\n' '|')"
fi
"$BUILD/bin/kxl" destroy net-a >/dev/null 2>&1
KX_BG_PID=$pida wait_bg 30

# ---- rate=: the guest's sending is held to 1 MB/s (8 MiB: about 8 s) ----
outc=$tmp/c.out
boot_guest_bg "$outc" examples/demo.cfg name=net-c memory=384 "vif=['bridge=$BR, rate=1MB/s']" \
	"extra=console=hvc0 quiet kxen.test=net kxen.ip=10.99.0.4/24 kxen.tcp kxen.tcpmb=8"
pidc=$KX_BG_PID
wait_for_line "$outc" '^NET-TX-SHA|^NET-NO-ETH0' 240
domc=$("$BUILD/bin/kxl" domid net-c 2>/dev/null)
ratekey=$(xenstore-read "/local/domain/0/backend/vif/$domc/0/rate" 2>/dev/null)
for _ in $(seq 20); do
	timeout 60 bash -c "echo x >/dev/tcp/10.99.0.4/5001" 2>/dev/null && break
	sleep 0.5
done
wait_for_line "$outc" '^NET-RX-SHA' 60
want=$(marker "$outc" NET-TX-SHA)
t0=${EPOCHREALTIME/./}
timeout 120 bash -c "cat </dev/tcp/10.99.0.4/5002" >"$tmp/rate.got" 2>/dev/null &
catpid=$!
# What a stalled transfer looked like, for the failure message: the host's TCP state and the
# TAP's counters after 30 s.
for _ in $(seq 300); do kill -0 "$catpid" 2>/dev/null || break; sleep 0.1; done
stall=$(ss -tni dst 10.99.0.4 2>/dev/null | tr -s ' \n' ' ' | cut -c1-300)
stall+=" tap rx_bytes=$(cat /sys/class/net/vif$domc.0/statistics/rx_bytes 2>/dev/null)"
stall+=" tx_bytes=$(cat /sys/class/net/vif$domc.0/statistics/tx_bytes 2>/dev/null)"
wait "$catpid"
got=$(sha256sum <"$tmp/rate.got" | cut -d' ' -f1)
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
if [ "$ratekey" = 50000,50000 ] && [ -n "$want" ] && [ "$got" = "$want" ] &&
	[ "$ms" -ge 6000 ] && [ "$ms" -lt 60000 ]; then
	pass "net: rate=1MB/s (backend rate $ratekey) holds 8 MiB guest -> host to $ms ms, data intact"
else
	fail "net: rate limit" "rate=$ratekey ms=$ms want=${want:0:12} got=${got:0:12}\
 ($(stat -c %s "$tmp/rate.got") bytes; at 30 s: $stall; guest: $(grep -E '^NET-' "$outc" | tail -3 | tr '\n' '|'))"
fi
"$BUILD/bin/kxl" destroy net-c >/dev/null 2>&1
KX_BG_PID=$pidc wait_bg 30
if [ -z "$(xenstore-list /local/domain/0/backend/vif 2>/dev/null)" ] &&
	[ -z "$(ls /sys/class/net/$BR/brif 2>/dev/null)" ] && [ ! -e "/sys/class/net/vif$domid.0" ]; then
	pass "net: the vifs and their backend directories are gone with the domains"
else
	fail "net: left behind" "$(xenstore-list /local/domain/0/backend/vif 2>&1 | tr '\n' ' ') brif=$(ls /sys/class/net/$BR/brif 2>/dev/null | tr '\n' ' ')"
fi
