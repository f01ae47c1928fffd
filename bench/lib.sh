# bench/lib.sh: what the benchmarks that boot guests share, sourced first thing:
#     . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#     bench_testhost NAME "$@"      # re-runs the script inside the test host when needed
#     [[ ${1:-} == --inner ]] && shift
#     BUILD=$(cd "${1:-build}" && pwd) || exit 1
# Sourcing it changes to the repository root (ROOT).
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

# bench_testhost NAME ARGS...: unless ARGS start with --inner (the script already runs where
# guests can run), when this machine's KVM cannot run kxen (scripts/testhost/detect.sh), runs
# bench/NAME.sh --inner ARGS inside the test host instead of this script, and does not return.
# ARGS[0] is the build directory (default build).
bench_testhost() {
	local name=$1 build
	shift
	[[ ${1:-} == --inner ]] && return 0
	build=$(cd "${1:-build}" && pwd) || exit 1
	if [[ $(scripts/testhost/detect.sh "$build" 2>/dev/null) == testhost ]]; then
		echo "bench/$name: running inside the test host"
		exec scripts/testhost/run.sh "$build" -- "bench/$name.sh" --inner "$@"
	fi
}

# bench_need NAME FILE...: every FILE exists, else a message naming what to build and exit 1.
bench_need() {
	local name=$1 f
	shift
	for f in "$@"; do
		[[ -e $f ]] || { echo "bench/$name: $f missing (make all images)" >&2; exit 1; }
	done
}

# bench_kxend DIR: a private kxend (socket, state, KXEN_RUN_DIR and KXEN_LOG_DIR under DIR,
# exported for the kxl and xenstore clients started from here), as tests/guest/test_*.sh start
# one; BENCH_KXEND_PID its pid.  Waits at most 5 s for it to answer.  bench_kxend_stop ends it.
BENCH_KXEND_PID=
bench_kxend() {
	local dir=$1
	export KXEN_RUN_DIR=$dir/run KXEN_LOG_DIR=$dir/log XENSTORED_PATH=$dir/xenstored.sock
	mkdir -p "$KXEN_RUN_DIR" "$KXEN_LOG_DIR"
	"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$dir/xs-state" \
		>"$dir/kxend.log" 2>&1 &
	BENCH_KXEND_PID=$!
	for _ in $(seq 50); do
		xenstore-ls / >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 0
}

# bench_kxend_stop: ends the kxend of bench_kxend, waiting at most 5 s before SIGKILL.
bench_kxend_stop() {
	[[ -n $BENCH_KXEND_PID ]] || return 0
	kill "$BENCH_KXEND_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$BENCH_KXEND_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$BENCH_KXEND_PID" 2>/dev/null
	wait "$BENCH_KXEND_PID" 2>/dev/null
	BENCH_KXEND_PID=
}

# bench_stats DECIMALS VALUE...: "median min max" of the values, with DECIMALS decimals;
# nothing when there is no value.
bench_stats() {
	local dec=$1
	shift
	[[ $# -gt 0 ]] || return 0
	printf '%s\n' "$@" | sort -g | awk -v d="$dec" '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		f = "%." d "f %." d "f %." d "f\n"
		printf f, m, v[1], v[NR] }'
}
