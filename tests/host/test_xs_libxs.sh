#!/bin/bash
# libxenstore (Debian's libxenstore4) programs against a private kxend: overlapping
# transactions (one commits, the other gets EAGAIN), watches (path and token), the domain
# requests a toolstack makes.
. "$(dirname "$0")/lib.sh"

if ! kxend_start; then
	fail "kxend: starts" "$(tail -3 "$XS_LOG")"
	exit 0
fi
for what in txn watch special; do
	"$BUILD/host-tests/xs_client" "$what" || echo "# xs_client $what: status $?"
done
kxend_stop
