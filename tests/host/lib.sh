# tests/host/lib.sh: helpers for host test scripts (tests/host/test_*.sh), which source it:
#     . "$(dirname "$0")/lib.sh"
#
# Host tests run on this machine, without a guest: a private kxend (its own socket and state
# directory under a temporary directory) against Debian's xenstore clients, libxenstore
# programs and a fake guest.  Like guest tests, each check is one line, "PASS: <name>" or
# "FAIL: <name>: <reason>", counted by tests/run.sh; a script that exits non-zero without a
# FAIL line counts as one failure.  tests/run.sh runs them in the repository root with BUILD
# and KXEN_ROOT set; sourcing this file supplies both when a script is run by hand.
# shellcheck shell=bash

# BUILD, KXEN_ROOT, the working directory, pass and fail.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# check NAME COMMAND...: PASS when COMMAND succeeds, else FAIL with its output.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$* -> $out"
	fi
}

# expect NAME WANT COMMAND...: PASS when COMMAND's stdout is exactly WANT.
expect() {
	local name=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1)
	if [ "$got" = "$want" ]; then
		pass "$name"
	else
		fail "$name" "$* printed '$got', expected '$want'"
	fi
}

# A private kxend: XS_TMP is its directory, XENSTORED_PATH (exported: every libxenstore client
# started from here uses it) its socket, XS_STATE its state directory, XS_LOG its output.
XS_TMP=$(mktemp -d /tmp/kxen-host-test.XXXXXX)
XS_STATE=$XS_TMP/state
XS_LOG=$XS_TMP/kxend.log
export XENSTORED_PATH=$XS_TMP/socket
KXEND_PID=

# kxend_start [ARGS...]: starts kxend -F with the private socket and state (and ARGS) in the
# background, KXEND_PID its pid; waits until it answers (at most 10 s).  0 or 1.
kxend_start() {
	local i
	"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$XS_STATE" "$@" \
		>>"$XS_LOG" 2>&1 &
	KXEND_PID=$!
	for i in $(seq 200); do
		if [ -S "$XENSTORED_PATH" ] && xenstore-exists / 2>/dev/null; then
			return 0
		fi
		kill -0 "$KXEND_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# kxend_stop [SIGNAL]: stops the kxend started by kxend_start (default SIGTERM) and waits.
kxend_stop() {
	[ -n "$KXEND_PID" ] || return 0
	kill "-${1:-TERM}" "$KXEND_PID" 2>/dev/null
	wait "$KXEND_PID" 2>/dev/null
	KXEND_PID=
}

# now_ms: monotonic-enough wall clock in milliseconds.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

_xs_cleanup() {
	kxend_stop KILL
	rm -rf "$XS_TMP"
	return 0
}
trap _xs_cleanup EXIT
