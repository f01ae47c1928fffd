#!/bin/bash
# A hostile block frontend: inside a real guest, with xen-blkfront not
# loaded (kxen.noblk), tests/guest/tools/blkhostile.c acts as the frontend
# of two disks (xvdh read-write, from the domain's config; xvdi read-only,
# attached with kxl block-attach to the running guest) and sends the backend malformed requests: grants that do not
# exist, are read-only, belong to another domain or were revoked; segment
# counts of 0, 12, 255 and indirect ones beyond the limits; bad
# first/last sectors; sectors beyond the end; unknown operations; writes to
# the read-only disk; a bogus ring-ref; and finally garbage ring indices.
# Each must get an error response (with the request's id), leave guest
# pages and the disks alone, cost one log line per kind, and leave the
# domain running.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
export XENSTORED_PATH=$tmp/xenstored.sock
export KXEN_RUN_DIR=$tmp/run KXEN_LOG_DIR=$tmp/log
mkdir -p "$KXEN_LOG_DIR"
name=blkhostile
KXEND_PID=
finish() {
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

"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$tmp/state" \
	>>"$tmp/kxend.log" 2>&1 &
KXEND_PID=$!
for _ in $(seq 50); do
	[ -S "$XENSTORED_PATH" ] && xenstore-ls / >/dev/null 2>&1 && break
	sleep 0.1
done
if ! xenstore-ls / >/dev/null 2>&1; then
	fail "block-hostile: kxend starts" "$(tail -3 "$tmp/kxend.log")"
	finish
	exit 0
fi

# The disks: 8 MiB, every 16-byte chunk k holding printf("%015x\n", k)
# (blkhostile.c checks what it reads against the same rule).  The guest
# writes "BLKH-WROTE-PAGE\n" over sectors 64..79 of the read-write disk and
# nothing else.
awk 'BEGIN { for (k = 0; k < 524288; k++) printf "%015x\n", k }' >"$tmp/pattern.img"
cp "$tmp/pattern.img" "$tmp/rw.img"
cp "$tmp/pattern.img" "$tmp/ro.img"
cp "$tmp/pattern.img" "$tmp/expected.img"
yes BLKH-WROTE-PAGE | head -c 8192 |
	dd of="$tmp/expected.img" bs=512 seek=64 conv=notrunc status=none

out=$tmp/console
KXEN_BG_TIMEOUT=300 boot_guest_bg "$out" examples/demo.cfg name=$name \
	"kernel=$BUILD/images/vmlinuz" "ramdisk=$BUILD/images/initrd.cpio.gz" \
	"disk=['$tmp/rw.img,raw,xvdh,rw']" \
	"extra=console=hvc0 quiet kxen.test=blkhostile kxen.noblk"
if ! wait_for_line "$out" '^BLKH-READY' 120; then
	fail "block-hostile: the guest is ready (blkfront not loaded, gntalloc and evtchn there)" \
		"$(grep -E '^(BLKH|kxl|kxen)' "$out" | tail -5)"
	finish
	exit 0
fi
id=$(sed -n 's/^BLKH-DOMID=\([0-9]*\).*/\1/p' "$out" | head -1)
if att=$("$BUILD/bin/kxl" block-attach "$name" "$tmp/ro.img,raw,xvdi,ro" 2>&1); then
	pass "block-hostile: kxl block-attach of a read-only disk to the running guest"
	go=ro
else
	fail "block-hostile: kxl block-attach of a read-only disk" "$att"
	go=none
fi
xenstore-write "/local/domain/$id/data/blkh-go" "$go"
wait_for_line "$out" '^BLKH-DONE' 120
wait_for_line "$out" '^BLKH-IDLE' 10

# The cases, by group: each group passes when it has cases and all are ok.
bad=$(grep '^BLKH .* BAD' "$out" | tr -d '\r')
group() {
	local title=$1 re=$2 lines
	lines=$(grep -E "^BLKH ($re) status=" "$out" | tr -d '\r')
	if [ -z "$lines" ]; then
		fail "block-hostile: $title" "no such case ran ($(grep '^BLKH-DONE' "$out" | tr -d '\r'))"
	elif grep -q ' BAD' <<<"$lines"; then
		fail "block-hostile: $title" "$(grep ' BAD' <<<"$lines")"
	else
		pass "block-hostile: $title ($(wc -l <<<"$lines") cases)"
	fi
}
group "well-formed reads and writes are served, data right, nothing outside the named sectors touched" \
	'connect|good-[a-z0-9-]+|event-on-response'
group "bad grants (out of range, read-only for a disk read, another domain's, revoked) get ERROR" \
	'read-into-ro-grant[a-z0-9-]*|[a-z]+-gref-[a-z0-9-]+|write-2nd-seg-bad-gref'
group "segment counts 0, 12, 255 and bad first/last sectors get ERROR" \
	'[a-z]+-nseg-[0-9]+|read-first-after-last|read-last-sect-8|read-sect-200-255|write-2nd-seg-first-after-last'
group "sectors at, across and wrapping past the end get ERROR" \
	'read-at-end|[a-z]+-straddling-end|[a-z]+-sector-wraps'
group "unknown operations (77, 4, 255) get ERROR or EOPNOTSUPP" \
	'unknown-op-[0-9]+|reserved-op-4'
group "indirect requests: too many segments, bad page or segment grants, bad inner op get ERROR" \
	'indirect-[a-z0-9-]+'
group "the read-only disk refuses write, flush, barrier, discard and indirect write" \
	'ro-[a-z0-9-]+'
group "a bogus ring-ref is refused (Closing) and the frontend can start over" \
	'connect-bad-ring-ref|connect-after-bad-ring-ref'
group "a full ring of mixed good and hostile requests: each answered once, own id, right status" \
	'burst-[a-z-]+'
group "garbage ring indices (ahead, behind) stop the ring (Closing, nothing more answered); a fresh connection works" \
	'garbage-ring-[a-z-]+|reconnect-after-garbage[a-z-]*'
summary=$(grep '^BLKH-DONE' "$out" | head -1 | tr -d '\r')
if [ -n "$summary" ] && [ -z "$bad" ] && [[ $summary == *" fail=0" ]]; then
	pass "block-hostile: every case ok ($summary)"
else
	fail "block-hostile: every case ok" "${summary:-no BLKH-DONE} $(head -5 <<<"$bad")"
fi

# The domain lives on after the garbage ring.
if grep -q '^BLKH-IDLE' "$out" && "$BUILD/bin/kxl" list 2>/dev/null | grep -qw "$name"; then
	pass "block-hostile: the guest and its domain process keep running after the hostile requests"
else
	fail "block-hostile: domain alive" "$("$BUILD/bin/kxl" list 2>&1 | tail -3) $(tail -3 "$out")"
fi

# The disks: the read-only one untouched, the read-write one changed only
# where the good write went.
if cmp -s "$tmp/ro.img" "$tmp/pattern.img"; then
	pass "block-hostile: the read-only disk is unchanged"
else
	fail "block-hostile: read-only disk" "$(cmp "$tmp/ro.img" "$tmp/pattern.img" 2>&1 | head -1)"
fi
if cmp -s "$tmp/rw.img" "$tmp/expected.img"; then
	pass "block-hostile: the read-write disk changed only where the good write went"
else
	fail "block-hostile: read-write disk" "$(cmp "$tmp/rw.img" "$tmp/expected.img" 2>&1 | head -1)"
fi

# One log line per fault kind and device (blk_ring.c's log_first_time),
# not one per request.  kxl -F puts the domain process's log in $out.
logbad=
for kind in "unknown or unsupported operation" "bad segment count" \
	"bad first/last sector in segment" "sectors beyond the end of the disk" \
	"write, flush or discard on a read-only disk" "grant refused" \
	"corrupted ring indices"; do
	n=$(grep -c "kxen-domain: blk: $kind" "$out")
	if [ "$n" -lt 1 ] || [ "$n" -gt 2 ]; then
		logbad+="'$kind': $n lines; "
	fi
done
nlog=$(grep -cE 'kxen-domain: .*(blk|vbd)' "$out")
if [ -z "$logbad" ] && [ "$nlog" -le 30 ]; then
	pass "block-hostile: one log line per fault kind and device ($nlog block lines in all)"
else
	fail "block-hostile: log lines" "${logbad}$nlog block lines: $(grep -E 'kxen-domain: .*(blk|vbd)' "$out" | head -3)"
fi

# And it still powers off cleanly when asked.
[ -n "$id" ] && timeout 10 xenstore-write "/local/domain/$id/control/shutdown" poweroff
if wait_bg 60 && grep -q 'reboot: Power down' "$out"; then
	pass "block-hostile: the guest powers off cleanly afterwards (kxl exit status 0)"
else
	fail "block-hostile: power-off" "$(tail -3 "$out")"
fi
mkdir -p "$BUILD/test-logs/guest" && cp "$out" "$BUILD/test-logs/guest/block_hostile-console.log"
finish
exit 0
