# tests/guest/lib.sh: helpers for guest test scripts (tests/guest/test_*.sh), which source it:
#     . "$(dirname "$0")/lib.sh"
#
# A guest test script reports each check as one line, "PASS: <name>" or
# "FAIL: <name>: <reason>" (see pass and fail), and tests/run.sh counts those lines; a script
# that exits non-zero without a FAIL line counts as one failure.  tests/run.sh runs the scripts
# in the repository root with BUILD (absolute build directory) and KXEN_ROOT (repository
# root) set, inside the test host unless this machine can run kxen directly.  Sourcing this
# file supplies both when a script is run by hand, and changes to KXEN_ROOT.
# shellcheck shell=bash

# BUILD, KXEN_ROOT, the working directory, pass and fail.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# _stamp: copy stdin to stdout, each line prefixed with the host's time of arrival in seconds
# since the epoch, with microseconds ("1795317559.377123 line").
_stamp() {
	local line
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line"
	done
}

# boot_guest OUTFILE TIMEOUT CFG [key=value...] [--stamp STAMPFILE]
# Runs "$BUILD/bin/kxl create -F CFG key=value..." (the guest's life in the foreground), for
# at most TIMEOUT seconds, with its stdout and stderr (the guest console and kxl's messages)
# in OUTFILE, replaced.  With --stamp, STAMPFILE also gets each line stamped with the host
# time it arrived (see _stamp).  Returns kxl's exit status, 124 if it timed out.
boot_guest() {
	local out=$1 limit=$2 cfg=$3 stamp="" rc
	local -a args=()
	shift 3
	while [ $# -gt 0 ]; do
		case $1 in
		--stamp)
			stamp=$2
			shift 2
			;;
		*)
			args+=("$1")
			shift
			;;
		esac
	done
	if [ -n "$stamp" ]; then
		timeout -k 10 "$limit" "$BUILD/bin/kxl" create -F -c "$cfg" "${args[@]}" 2>&1 |
			tee "$out" | _stamp >"$stamp"
		rc=${PIPESTATUS[0]}
	else
		timeout -k 10 "$limit" "$BUILD/bin/kxl" create -F -c "$cfg" "${args[@]}" >"$out" 2>&1
		rc=$?
	fi
	[ "$rc" = 124 ] && echo "boot_guest: kxl create -F $cfg timed out after $limit s" >>"$out"
	return "$rc"
}

# boot_guest_bg OUTFILE CFG [key=value...]
# Like boot_guest, in the background: returns at once, with the pid in KX_BG_PID.  The guest is
# stopped after KXEN_BG_TIMEOUT seconds (default 600) at the latest; wait_bg collects it.
KX_BG_PID=
boot_guest_bg() {
	local out=$1 cfg=$2
	shift 2
	timeout -k 10 "${KXEN_BG_TIMEOUT:-600}" "$BUILD/bin/kxl" create -F -c "$cfg" "$@" \
		>"$out" 2>&1 &
	KX_BG_PID=$!
}

# wait_bg [TIMEOUT]: wait at most TIMEOUT seconds (default 60) for the guest started by
# boot_guest_bg to end; returns its exit status, or 124 after stopping it when it did not end.
wait_bg() {
	local limit=${1:-60} pid=$KX_BG_PID rc
	[ -n "$pid" ] || return 0
	KX_BG_PID=
	local deadline=$((SECONDS + limit))
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"
	rc=$?
	return "$rc"
}

# wait_for_count FILE REGEX COUNT TIMEOUT: wait at most TIMEOUT seconds until FILE has at
# least COUNT lines matching the extended regular expression REGEX; 0 if it did, 1 if not.
wait_for_count() {
	local file=$1 re=$2 want=$3 limit=$4 n
	local deadline=$((SECONDS + limit))
	while :; do
		n=$(grep -cE -- "$re" "$file" 2>/dev/null)
		[ "${n:-0}" -ge "$want" ] && return 0
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.2
	done
}

# wait_for_line FILE REGEX TIMEOUT: wait_for_count FILE REGEX 1 TIMEOUT.
wait_for_line() {
	wait_for_count "$1" "$2" 1 "$3"
}

# A guest left running in the background when the script ends is stopped.
_kx_cleanup() {
	[ -n "$KX_BG_PID" ] && kill -TERM "$KX_BG_PID" 2>/dev/null
	return 0
}
trap _kx_cleanup EXIT
