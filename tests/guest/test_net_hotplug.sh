#!/bin/bash
# Network hot-plug with kxl: a running guest (one vif on xenbr0) gets a
# second vif on xenbr1 (10.97.0.1/24) by network-attach, configures it as
# eth1 and pings the host; network-list shows it; network-detach (by MAC)
# removes it cleanly: eth1 gone in the guest, TAP gone on the host,
# xenstore directories gone.  A bridge that does not exist is refused.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
export XENSTORED_PATH=$tmp/xenstored.sock
export KXEN_RUN_DIR=$tmp/run KXEN_LOG_DIR=$tmp/log
KXL=$BUILD/bin/kxl
"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$tmp/state" >"$tmp/kxend.log" 2>&1 &
KXEND_PID=$!
finish() {
	_kx_cleanup
	"$KXL" destroy nethp 2>/dev/null
	scripts/hotplug/network-bridge stop bridge=xenbr1
	scripts/hotplug/network-bridge stop bridge=xenbr0
	kill "$KXEND_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$KXEND_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$KXEND_PID" 2>/dev/null
	wait "$KXEND_PID" 2>/dev/null
	rm -rf "$tmp"
}
trap finish EXIT
for _ in $(seq 50); do xenstore-ls / >/dev/null 2>&1 && break; sleep 0.1; done
modprobe tun 2>/dev/null
marker() { sed -n "s/^$2[= ]\\(.*\\)/\\1/p" "$1" | tr -d '\r' | head -1; }

if scripts/hotplug/network-bridge start bridge=xenbr0 address=10.99.0.1/24 >"$tmp/br.log" 2>&1 &&
	scripts/hotplug/network-bridge start bridge=xenbr1 address=10.97.0.1/24 >>"$tmp/br.log" 2>&1 &&
	[ -d /sys/class/net/xenbr1/bridge ]; then
	pass "net-hotplug: bridges xenbr0 and xenbr1 (10.97.0.1/24)"
else
	fail "net-hotplug: bridges" "$(tr '\n' '|' <"$tmp/br.log")"
	exit 0
fi

out=$tmp/g.out
boot_guest_bg "$out" examples/demo.cfg name=nethp memory=384 "vif=['bridge=xenbr0']" \
	"extra=console=hvc0 quiet kxen.test=nethotplug"
pid=$KX_BG_PID
wait_for_line "$out" '^NETHP-READY' 180
domid=$("$KXL" domid nethp 2>/dev/null)
be=/local/domain/0/backend/vif/$domid/1
fe=/local/domain/$domid/device/vif/1

# ---- a bridge that does not exist: refused, nothing written ----
if ! "$KXL" network-attach nethp bridge=kxnobr0 >"$tmp/nobr.out" 2>&1 &&
	grep -q "bridge 'kxnobr0' does not exist" "$tmp/nobr.out" &&
	! xenstore-read "$be/state" >/dev/null 2>&1; then
	pass "net-hotplug: network-attach refuses a bridge that does not exist, writes nothing"
else
	fail "net-hotplug: missing bridge" "$(tr '\n' '|' <"$tmp/nobr.out")"
fi

# ---- attach ----
t0=${EPOCHREALTIME/./}
if "$KXL" network-attach nethp bridge=xenbr1 >"$tmp/attach.out" 2>&1; then
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	pass "net-hotplug: network-attach nethp bridge=xenbr1 succeeds ($ms ms)"
else
	fail "net-hotplug: network-attach" "$(tr '\n' '|' <"$tmp/attach.out")"
fi
mac=$(xenstore-read "$be/mac" 2>/dev/null)
if [ -n "$domid" ] && [ -e "/sys/class/net/xenbr1/brif/vif$domid.1" ] && [ "${mac:0:9}" = 00:16:3e: ]; then
	pass "net-hotplug: devid 1 (next free), vif$domid.1 on xenbr1, MAC $mac"
else
	fail "net-hotplug: vif on xenbr1" "domid=$domid mac=$mac brif=$(ls /sys/class/net/xenbr1/brif 2>/dev/null | tr '\n' ' ')"
fi
wait_for_line "$out" '^NETHP-PING-HOST|^NETHP-NO-ETH1' 120
gmac=$(marker "$out" NETHP-MAC)
if grep -q '^NETHP-PING-HOST-OK' "$out" && [ "$gmac" = "$mac" ]; then
	pass "net-hotplug: the guest's eth1 ($gmac) pings the host at 10.97.0.1 over xenbr1"
else
	fail "net-hotplug: eth1 pings host" "gmac=$gmac $(grep -E '^NETHP-' "$out" | tail -3 | tr '\n' '|')"
fi

# ---- list ----
"$KXL" network-list nethp >"$tmp/list.out" 2>&1
if head -1 "$tmp/list.out" | grep -q '^Idx BE Mac Addr\. *handle state evt-ch tx-.*/rx-ring-ref BE-path' &&
	awk -v m="$mac" -v be="$be" '$1 == 1 && $3 == m && $5 == 4 && $NF == be { ok = 1 } END { exit !ok }' "$tmp/list.out" &&
	awk '$1 == 0 && $5 == 4 { ok = 1 } END { exit !ok }' "$tmp/list.out"; then
	pass "net-hotplug: network-list shows vif 0 and vif 1 ($mac, Connected, $be) in xl's columns"
else
	fail "net-hotplug: network-list" "$(tr '\n' '|' <"$tmp/list.out")"
fi

# ---- detach (by MAC) ----
if "$KXL" network-detach nethp "$mac" >"$tmp/detach.out" 2>&1; then
	pass "net-hotplug: network-detach nethp $mac succeeds"
else
	fail "net-hotplug: network-detach" "$(tr '\n' '|' <"$tmp/detach.out")"
fi
for _ in $(seq 100); do
	[ -e "/sys/class/net/vif$domid.1" ] || break
	sleep 0.1
done
if [ -n "$domid" ] && [ ! -e "/sys/class/net/vif$domid.1" ] &&
	! xenstore-read "$be/state" >/dev/null 2>&1 && ! xenstore-read "$fe/state" >/dev/null 2>&1 &&
	[ "$(xenstore-read "/local/domain/0/backend/vif/$domid/0/state" 2>/dev/null)" = 4 ]; then
	pass "net-hotplug: after detach the TAP and both xenstore directories are gone, vif 0 still Connected"
else
	fail "net-hotplug: detach leftovers" "tap=$(ls -d /sys/class/net/vif$domid.1 2>/dev/null) be=$(xenstore-read "$be/state" 2>&1) fe=$(xenstore-read "$fe/state" 2>&1)"
fi
if wait_for_line "$out" '^NETHP-ETH1-GONE' 60; then
	pass "net-hotplug: eth1 is gone in the guest"
else
	fail "net-hotplug: eth1 in the guest" "$(grep -E '^NETHP-' "$out" | tail -2 | tr '\n' '|')"
fi
if "$KXL" network-list nethp 2>/dev/null | awk '$1 == 1 { bad = 1 } END { exit bad }'; then
	pass "net-hotplug: network-list no longer shows vif 1"
else
	fail "net-hotplug: list after detach" "$("$KXL" network-list nethp 2>&1 | tr '\n' '|')"
fi
"$KXL" destroy nethp >/dev/null 2>&1
KX_BG_PID=$pid wait_bg 30
