#!/bin/bash
# A hostile network frontend: inside a real guest, with xen-netfront not
# loaded (kxen.nonet), tests/guest/tools/nethostile.c plays netfront for
# vif 0 and sends the backend good tx packets (1, 2 and 18 slots, a chain
# whose end comes late, 16 in a mixed burst) and malformed ones: grants out
# of range, to another domain, revoked; sizes over the page, offsets past
# it, fragments bigger than the frame, a frame over 64 KiB, zero and runt
# sizes; 19 and 64 slots; unknown, missing-type and too many extra-info
# slots, bad GSO, checksum offload on a non-IP frame; an rx buffer under a
# revoked grant; a chain that never ends; req_prod far ahead.  The host
# captures every frame on the vif's TAP (tests/guest/nethost.py): each good
# frame must be there byte for byte, nothing of a malformed packet nor the
# sentinel that fills the ungranted pages may be, every malformed packet is
# answered ERROR with its ids, one log line per fault kind, and the domain
# keeps running and powers off cleanly.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
export XENSTORED_PATH=$tmp/xenstored.sock
export KXEN_RUN_DIR=$tmp/run KXEN_LOG_DIR=$tmp/log
mkdir -p "$KXEN_LOG_DIR"
name=nethostile
KXEND_PID=
CAP_PID=
finish() {
	_kx_cleanup
	[ -n "$CAP_PID" ] && kill "$CAP_PID" 2>/dev/null
	"$BUILD/bin/kxl" destroy "$name" >/dev/null 2>&1
	wait_bg 30 >/dev/null
	if [ -n "$KXEND_PID" ]; then
		kill "$KXEND_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$KXEND_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$KXEND_PID" 2>/dev/null
		wait "$KXEND_PID" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap finish EXIT

"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$tmp/state" \
	>>"$tmp/kxend.log" 2>&1 &
KXEND_PID=$!
for _ in $(seq 50); do
	[ -S "$XENSTORED_PATH" ] && xenstore-ls / >/dev/null 2>&1 && break
	sleep 0.1
done
if ! xenstore-ls / >/dev/null 2>&1; then
	fail "net-hostile: kxend starts" "$(tail -3 "$tmp/kxend.log")"
	exit 0
fi
modprobe tun 2>/dev/null

# The vif on no bridge: its own hot-plug script brings the TAP up with IPv6
# off, so that the host sends the guest nothing of its own (the rx cases
# count on the frames the test injects being the only ones).
cat >"$tmp/vif-quiet" <<'SH'
#!/bin/sh
case $1 in
online | add)
	# (not sysctl: the dot in vif<domid>.<devid> would split the key)
	echo 1 >"/proc/sys/net/ipv6/conf/$vif/disable_ipv6" 2>/dev/null
	ip link set dev "$vif" up || exit 1
	xenstore-write "$XENBUS_PATH/hotplug-status" connected
	;;
esac
exit 0
SH
chmod +x "$tmp/vif-quiet"

out=$tmp/console
KXEN_BG_TIMEOUT=300 boot_guest_bg "$out" examples/demo.cfg name=$name \
	"kernel=$BUILD/images/vmlinuz" "ramdisk=$BUILD/images/initrd.cpio.gz" \
	"vif=['script=$tmp/vif-quiet']" \
	"extra=console=hvc0 quiet kxen.test=nethostile kxen.nonet"
if ! wait_for_line "$out" '^NETH-READY' 120; then
	fail "net-hostile: the guest is ready (netfront not loaded, gntalloc and evtchn there)" \
		"$(grep -E '^(NETH|kxl|kxen)' "$out" | tail -5 | tr '\n' '|')"
	exit 0
fi
id=$(sed -n 's/^NETH-DOMID=\([0-9]*\).*/\1/p' "$out" | head -1 | tr -d '\r')
vif=vif$id.0
mac=$(xenstore-read "/local/domain/0/backend/vif/$id/0/mac" 2>/dev/null)
for _ in $(seq 100); do [ -e "/sys/class/net/$vif" ] && break; sleep 0.1; done
timeout 280 python3 tests/guest/nethost.py capture "$vif" "$tmp/cap" 240 2>"$tmp/cap.err" &
CAP_PID=$!
for _ in $(seq 100); do [ -e "$tmp/cap.ready" ] && break; sleep 0.1; done
if [ ! -e "$tmp/cap.ready" ]; then
	fail "net-hostile: capture on $vif" "$(tail -2 "$tmp/cap.err" | tr '\n' '|')"
	exit 0
fi
xenstore-write "/local/domain/$id/data/neth-go" go
# The rx cases: two frames for the two first buffers the guest posted.
if wait_for_line "$out" '^NETH-RX-POSTED' 120; then
	python3 tests/guest/nethost.py inject "$vif" "$mac" 201 120 &&
		sleep 0.5 &&
		python3 tests/guest/nethost.py inject "$vif" "$mac" 202 150 ||
		echo "inject failed" >>"$tmp/cap.err"
fi
wait_for_line "$out" '^NETH-DONE' 180
wait_for_line "$out" '^NETH-IDLE' 10
sleep 1
kill "$CAP_PID" 2>/dev/null
wait "$CAP_PID" 2>/dev/null
CAP_PID=

group() {
	local title=$1 re=$2 lines
	lines=$(grep -E "^NETH ($re) status=" "$out" | tr -d '\r')
	if [ -z "$lines" ]; then
		fail "net-hostile: $title" "no such case ran ($(grep '^NETH-DONE' "$out" | tr -d '\r'))"
	elif grep -q ' BAD' <<<"$lines"; then
		fail "net-hostile: $title" "$(grep ' BAD' <<<"$lines" | head -3 | tr '\n' '|')"
	else
		pass "net-hostile: $title ($(wc -l <<<"$lines") cases)"
	fi
}
group "multi-queue: more queues than offered, or queue-N keys missing, are refused (Closing); the frontend starts over" \
	'queues-[a-z-]+'
group "well-formed packets (1, 2, 18 slots, a chain ended late) are answered OKAY with their ids" \
	'connect|good-[a-z0-9-]+|event-on-response'
group "bad grants (out of range, another domain's, revoked, in a 2nd slot) get ERROR" \
	'gref-[a-z0-9-]+'
group "sizes and offsets (over the page, past it, fragments over the frame, over 64 KiB, 0, runt) get ERROR" \
	'size-[a-z0-9-]+|offset-[a-z0-9-]+'
group "19 and 64 slots (over XEN_NETIF_NR_SLOTS_MIN) get ERROR on every slot" 'slots-[0-9]+'
group "extra-info of type 77 or none, too many, bad GSO, csum offload on a non-IP frame get ERROR (extras NULL)" \
	'extra-[a-z0-9-]+|csum-[a-z0-9-]+'
group "rx: a buffer under a revoked grant gets ERROR, the next one the injected frame" 'rx-[a-z-]+'
group "a burst of 64 mixed packets: each answered once, own id, right status" 'burst-[a-z0-9-]+'
group "a chain that never ends and garbage req_prod stop the ring (Closing, nothing answered); a fresh connection works" \
	'chain-never-ends|garbage-[a-z-]+|good-after-(endless-chain|garbage)'
summary=$(grep '^NETH-DONE' "$out" | head -1 | tr -d '\r')
if [ -n "$summary" ] && ! grep -q '^NETH .* BAD' "$out" && [[ $summary == *" fail=0" ]]; then
	pass "net-hostile: every case ok ($summary)"
else
	fail "net-hostile: every case ok" "${summary:-no NETH-DONE} $(grep '^NETH .* BAD' "$out" | head -3 | tr '\n' '|')"
fi

# What reached the host: every good frame byte for byte, nothing else of
# the guest's, never a byte of a malformed packet or an ungranted page.
wanted=$(sed -n 's/^NETH-SENT \([0-9]*\) \([0-9]*\).*/\1:\2/p' "$out" | tr -d '\r')
if res=$(python3 tests/guest/nethost.py check "$tmp/cap" "$mac" $wanted 2>&1); then
	pass "net-hostile: the good frames reached the host's TAP byte for byte, nothing of a malformed packet or an ungranted page did ($res)"
else
	fail "net-hostile: frames on the TAP" "$res $(tail -2 "$tmp/cap.err" | tr '\n' '|')"
fi

# One log line per fault kind and vif (net_ring.c's log_first_time).
logbad=
for kind in "grant refused" "too many slots in a tx packet" "bad tx packet size" \
	"tx slot crosses the end of its page" "unknown or too many tx extra-info slots" \
	"bad GSO request" "checksum offload on a frame without TCP/UDP" \
	"corrupted ring, queue stopped"; do
	n=$(grep -c "kxen-domain: net: $kind" "$out")
	[ "$n" = 1 ] || logbad+="'$kind': $n lines; "
done
nlog=$(grep -cE 'kxen-domain: .*(net|vif)' "$out")
if [ -z "$logbad" ] && [ "$nlog" -le 30 ]; then
	pass "net-hostile: one log line per fault kind ($nlog vif lines in all)"
else
	fail "net-hostile: log lines" "${logbad}$nlog vif lines: $(grep -E 'kxen-domain: .*(net|vif)' "$out" | head -3 | tr '\n' '|')"
fi

if grep -q '^NETH-IDLE' "$out" && "$BUILD/bin/kxl" list 2>/dev/null | grep -qw "$name"; then
	pass "net-hostile: the guest and its domain process keep running after the hostile packets"
else
	fail "net-hostile: domain alive" "$("$BUILD/bin/kxl" list 2>&1 | tail -2 | tr '\n' '|') $(tail -3 "$out" | tr '\n' '|')"
fi
[ -n "$id" ] && timeout 10 xenstore-write "/local/domain/$id/control/shutdown" poweroff
if wait_bg 60 && grep -q 'reboot: Power down' "$out" && [ ! -e "/sys/class/net/$vif" ]; then
	pass "net-hostile: the guest powers off cleanly afterwards, its TAP gone"
else
	fail "net-hostile: power-off" "$(tail -3 "$out" | tr '\n' '|')"
fi
mkdir -p "$BUILD/test-logs/guest" && cp "$out" "$BUILD/test-logs/guest/net_hostile-console.log"
exit 0
