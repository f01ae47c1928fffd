#!/bin/bash
# kxend's guest transport without a guest: tests/host/xs_fake_guest.c plays the guest (memfd
# RAM with a ring page, kick and notify eventfds), introduced over the socket as kxen-domain
# introduces a domain; requests through the ring, permission denials, watches, the quota
# while a host client keeps working, hostile indexes, and a kill -9 of kxend survived.
. "$(dirname "$0")/lib.sh"

guest=$BUILD/host-tests/xs_fake_guest
if ! kxend_start; then
	fail "kxend: starts" "$(tail -3 "$XS_LOG")"
	exit 0
fi
# The tree as the toolstack lays it out before introducing a domain.
layout() {
	local id=$1
	xenstore-write "/local/domain/$id/name" "guest-$id" "/local/domain/$id/data" ""
	xenstore-chmod -r "/local/domain/$id" n0 "r$id"
	xenstore-chmod -r "/local/domain/$id/data" "n$id"
	xenstore-write "/local/domain/$id/control/shutdown" ""
	xenstore-chmod "/local/domain/$id/control" "n0" "r$id"
	xenstore-chmod "/local/domain/$id/control/shutdown" "n$id"
}
xenstore-write /local/domain/0/secret s3cret
xenstore-write /local/domain/99/x other
xenstore-chmod /local/domain/99/x n99
layout 5
"$guest" basic 5 || echo "# basic: status $?"

# Hostile guests: one log line each, the others unaffected.
layout 6
layout 7
lines_before=$(grep -c 'store ring disconnected' "$XS_LOG")
"$guest" hostile 6 || echo "# hostile: status $?"
"$guest" oversized 7 || echo "# oversized: status $?"
layout 9
"$guest" deaf 9 || echo "# deaf: status $?"
lines=$(($(grep -c 'store ring disconnected' "$XS_LOG") - lines_before))
if [ "$lines" -eq 3 ]; then
	pass "hostile: one log line per disconnected guest"
else
	fail "hostile: one log line per disconnected guest" "$lines lines: $(grep disconnected "$XS_LOG" | tr '\n' '|')"
fi

# kill -9 of kxend with a running guest; the guest re-introduces itself.
layout 8
out=$XS_TMP/restart.out
"$guest" restart 8 >"$out" 2>&1 &
gpid=$!
for _ in $(seq 100); do grep -q '^# ready' "$out" && break; sleep 0.05; done
kxend_stop KILL
t0=$(now_ms)
kxend_start
t1=$(now_ms)
wait "$gpid"
cat "$out"
echo "# restart: kxend answering $((t1 - t0)) ms after kill -9"
kxend_stop
