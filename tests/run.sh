#!/bin/bash
# tests/run.sh --unit|--host|--guest|--all BUILD_DIR: kxen's test runner (make test,
# unit-test, host-test, guest-test).
#
# Unit tests: every executable BUILD_DIR/tests/test_* (cmocka), run in the repository root.
# Each test case is a result; a binary that crashes, times out or fails without saying which
# case failed counts as one failure.
#
# Host tests: every tests/host/test_*.sh (see tests/host/lib.sh), run on this machine, no guest
# needed (kxend against real xenstore clients, a fake guest ring, the fuzz smoke run), with
# BUILD and KXEN_ROOT set; counted like guest tests.
#
# Guest tests: every tests/guest/test_*.sh (see tests/guest/lib.sh), run with bash in the
# repository root with BUILD and KXEN_ROOT set; each "PASS: ..." or "FAIL: ...: ..." line they
# print is a result; a script that exits non-zero without a FAIL line, times out, or prints no
# result at all counts as one failure.  They all run in one boot of the test host
# (scripts/testhost/run.sh) unless scripts/testhost/detect.sh says this machine's KVM can run
# kxen directly; a test host that does not boot counts as one failure.
#
# Prints one line per result, then, as the very last line, "N passed, N failed"; exits 0 iff
# nothing failed.  Full output of each test binary and script: BUILD_DIR/test-logs/.
# Environment: KXEN_UNIT_TIMEOUT (seconds per unit binary, default 300),
# KXEN_HOST_TEST_TIMEOUT (seconds per host script, default 300),
# KXEN_GUEST_TEST_TIMEOUT (seconds per guest script, default 600), and those of
# scripts/testhost/run.sh (KXEN_TESTHOST_TIMEOUT for the whole test host run).
set -uo pipefail

usage() {
	echo "usage: $0 --unit|--host|--guest|--all BUILD_DIR" >&2
	exit 2
}
[[ $# -eq 2 ]] || usage
mode=$1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$2" || exit 2
BUILD=$(cd "$2" && pwd)
LOGS=$BUILD/test-logs
cd "$ROOT" || exit 2

passed=0
failed=0
pass() {
	echo "PASS: $1"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL: $1: $2"
	failed=$((failed + 1))
}

# --- unit tests -------------------------------------------------------------------------------

# cmocka_parse LOG: prints "PASS case", "FAIL case reason" per test case reported in a cmocka
# log, then "SUMMARY <passed> <failed> <seen>" from its "[  PASSED  ] N test(s)." and
# "[  FAILED  ] N test(s)" lines (summed over groups; <seen> is 0 when there was no summary).
cmocka_parse() {
	awk '
	/^\[  ERROR   \] --- / { sub(/^\[  ERROR   \] --- /, ""); reason = $0; next }
	/^\[   LINE   \] --- / { sub(/^\[   LINE   \] --- /, ""); where = $0; next }
	/^\[ RUN      \] / { reason = ""; where = ""; next }
	/^\[       OK \] / { sub(/^\[       OK \] /, ""); print "PASS " $0; next }
	/^\[  PASSED  \] [0-9]+ test\(s\)\./ { p += $4; seen = 1; next }
	/^\[  FAILED  \] [0-9]+ test\(s\)/ { f += $4; seen = 1; listing = 1; next }
	/^\[  FAILED  \] / {
		if (listing) next  # the summary lists failed cases again
		sub(/^\[  FAILED  \] /, "")
		r = reason
		if (where != "") r = r (r != "" ? " at " : "") where
		print "FAIL " $0 " " (r != "" ? r : "failed")
		next
	}
	/^\[==========\] .*Running/ { listing = 0 }
	END { print "SUMMARY " p + 0 " " f + 0 " " seen + 0 }' "$1"
}

run_unit() {
	local bin name log rc kind rest np nf seen shown_fail
	local limit=${KXEN_UNIT_TIMEOUT:-300}
	local -a bins=()
	mkdir -p "$LOGS/unit"
	for bin in "$BUILD"/tests/test_*; do
		[[ -f $bin && -x $bin ]] && bins+=("$bin")
	done
	if [[ ${#bins[@]} -eq 0 ]]; then
		echo "# unit: no test binaries in $BUILD/tests (make all builds them)"
		return
	fi
	for bin in "${bins[@]}"; do
		name=unit/${bin##*/}
		log=$LOGS/$name.log
		{ timeout -k 5 "$limit" "$bin" </dev/null >"$log" 2>&1; } 2>/dev/null
		rc=$?
		np=0 nf=0 seen=0 shown_fail=0
		while read -r kind rest; do
			case $kind in
			PASS) echo "PASS: $name: $rest" ;;
			FAIL) echo "FAIL: $name: ${rest%% *}: ${rest#* }"; shown_fail=$((shown_fail + 1)) ;;
			SUMMARY) read -r np nf seen <<<"$rest" ;;
			esac
		done < <(cmocka_parse "$log")
		if [[ $seen -eq 1 && $rc -lt 124 ]]; then
			passed=$((passed + np))
			failed=$((failed + nf))
			[[ $rc -ne 0 && $nf -eq 0 ]] &&
				fail "$name" "exited with status $rc although no test case failed (log: $log)"
		else
			# No summary: it crashed or hung.  The cases that passed before still count.
			passed=$((passed + $(grep -c '^\[       OK \] ' "$log")))
			failed=$((failed + shown_fail))
			if [[ $rc -eq 124 || $rc -eq 137 ]]; then
				fail "$name" "timed out after $limit s (log: $log)"
			elif [[ $rc -gt 128 ]]; then
				fail "$name" "crashed: $(kill -l $((rc - 128)) 2>/dev/null || echo signal) (log: $log)"
			else
				fail "$name" "exited with status $rc without a cmocka summary (log: $log)"
			fi
		fi
	done
}

# --- host tests -------------------------------------------------------------------------------

run_host() {
	local script name log rc nfail npass line
	local limit=${KXEN_HOST_TEST_TIMEOUT:-300}
	local -a scripts=()
	mkdir -p "$LOGS/host"
	for script in tests/host/test_*.sh; do
		[[ -f $script ]] && scripts+=("$script")
	done
	if [[ ${#scripts[@]} -eq 0 ]]; then
		echo "# host: no tests/host/test_*.sh"
		return
	fi
	for script in "${scripts[@]}"; do
		name=host/$(basename "$script" .sh)
		log=$LOGS/$name.log
		BUILD=$BUILD KXEN_ROOT=$ROOT timeout -k 10 "$limit" bash "$script" </dev/null \
			>"$log" 2>&1
		rc=$?
		while IFS= read -r line; do
			case $line in
			"PASS: "*) echo "$line"; passed=$((passed + 1)) ;;
			"FAIL: "*) echo "$line"; failed=$((failed + 1)) ;;
			esac
		done < <(grep -E '^(PASS|FAIL): ' "$log")
		npass=$(grep -c '^PASS: ' "$log")
		nfail=$(grep -c '^FAIL: ' "$log")
		if [[ $rc -eq 124 || $rc -eq 137 ]]; then
			fail "$name" "timed out after $limit s (log: $log)"
		elif [[ $rc -ne 0 && $nfail -eq 0 ]]; then
			fail "$name" "exited with status $rc; last output:\
 $(tail -n 3 "$log" | tr '\n' '|') (log: $log)"
		elif [[ $npass -eq 0 && $nfail -eq 0 ]]; then
			fail "$name" "printed no PASS or FAIL line (log: $log)"
		fi
	done
}

# --- guest tests ------------------------------------------------------------------------------

# guest_diag: what the test host is doing, for a script that ran out of time: every process
# with its state, CPU time and wait channel, and the kernel stacks of those in D state.
guest_diag() {
	local pid
	echo "== processes at $(cut -d' ' -f1 /proc/uptime) s of uptime, load $(cut -d' ' -f1-3 /proc/loadavg)"
	ps -eo pid,ppid,pgid,stat,etimes,time,wchan:24,args 2>&1
	for pid in $(ps -eo pid=,stat= | awk '$2 ~ /^D/ { print $1 }'); do
		echo "== kernel stack of $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)), in D state"
		cat "/proc/$pid/stack" 2>&1
	done
	echo "== last kernel messages"
	dmesg 2>&1 | tail -n 30
}

# guest_leftovers NAME: stop what a guest script left behind (domain processes, daemons it
# started) so that the next script starts from a clean test host, and say what there was.
guest_leftovers() {
	local name=$1 pids comm
	pids=$(pgrep -f "$BUILD/bin/" | grep -vx "$$")
	for comm in qemu-nbd dnsmasq kxend kxen-domain; do
		pids+=" $(pgrep -x "$comm")"
	done
	pids=$(echo $pids | tr ' ' '\n' | sort -un | tr '\n' ' ')
	[[ -n ${pids// /} ]] || return 0
	echo "$name left processes running; stopped:" \
		"$(ps -o pid=,args= -p "${pids// /,}" 2>/dev/null | cut -c1-100 | tr '\n' ';')"
	kill -TERM $pids 2>/dev/null
	sleep 2
	kill -KILL $pids 2>/dev/null
	return 0
}

# run_bounded LIMIT LOG SCRIPT: runs "bash SCRIPT" in a session of its own with its output in
# LOG; after LIMIT seconds, writes guest_diag to LOG and kills the whole session.  Returns the
# script's status, 124 when it was killed.  It does not wait for a process that a kill cannot
# end (stuck in the kernel): the next scripts still run.
run_bounded() {
	local limit=$1 log=$2 script=$3 pid deadline st
	BUILD=$BUILD KXEN_ROOT=$ROOT setsid bash "$script" </dev/null >"$log" 2>&1 &
	pid=$!
	deadline=$((SECONDS + limit))
	while :; do
		st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
		[[ -z $st || $st == Z ]] && break
		if [[ $SECONDS -ge $deadline ]]; then
			guest_diag >>"$log" 2>&1
			kill -TERM -- "-$pid" 2>/dev/null
			sleep 10
			kill -KILL -- "-$pid" 2>/dev/null
			sleep 5
			st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
			[[ -z $st || $st == Z ]] && wait "$pid" 2>/dev/null
			return 124
		fi
		sleep 1
	done
	wait "$pid"
}

# Runs every guest test script here and prints its result lines, then "# guest-tests-done".
# This is what runs inside the test host (tests/run.sh --guest-here).
guest_here() {
	local script name log rc nfail npass start
	local limit=${KXEN_GUEST_TEST_TIMEOUT:-600}
	mkdir -p "$LOGS/guest"
	for script in tests/guest/test_*.sh; do
		[[ -f $script ]] || continue
		name=guest/$(basename "$script" .sh)
		# KXEN_GUEST_SCRIPTS: only these (names), when a fresh test host takes over.
		[[ -z ${KXEN_GUEST_SCRIPTS:-} || " $KXEN_GUEST_SCRIPTS " == *" $name "* ]] || continue
		log=$LOGS/$name.log
		echo "guest-script-start $name"
		start=$SECONDS
		run_bounded "$limit" "$log" "$script"
		rc=$?
		grep -E '^(PASS|FAIL): ' "$log"
		npass=$(grep -c '^PASS: ' "$log")
		nfail=$(grep -c '^FAIL: ' "$log")
		if [[ $rc -eq 124 ]]; then
			echo "FAIL: $name: timed out after $limit s (log: $log)"
			sed -n '/^== processes at/,$p' "$log" | head -n 60
		elif [[ $rc -ne 0 && $nfail -eq 0 ]]; then
			echo "FAIL: $name: exited with status $rc; last output:" \
				"$(tail -n 3 "$log" | tr '\n' '|') (log: $log)"
		elif [[ $npass -eq 0 && $nfail -eq 0 ]]; then
			echo "FAIL: $name: printed no PASS or FAIL line (log: $log)"
		fi
		echo "$name: $((SECONDS - start)) s"
		guest_leftovers "$name"
	done
	echo "# guest-tests-done"
}

# run_guest_once WHERE: runs the guest scripts named in KXEN_GUEST_SCRIPTS (all when empty)
# directly or in one boot of the test host, prints their result lines and counts them; sets
# g_done (every script ran), g_rc (the driver's status), g_current (the script that was
# running when it stopped) and g_finished (the scripts that ended).
run_guest_once() {
	local where=$1 line
	g_done="" g_rc="" g_current="" g_started=""
	exec 3< <(
		if [[ $where == direct ]]; then
			"$ROOT/tests/run.sh" --guest-here "$BUILD"
		else
			scripts/testhost/run.sh "$BUILD" -- tests/run.sh --guest-here "$BUILD" 2>&1
		fi
		echo "# exit $?"
	)
	while IFS= read -r line <&3; do
		case $line in
		"PASS: "*) echo "$line"; passed=$((passed + 1)) ;;
		"FAIL: "*) echo "$line"; failed=$((failed + 1)) ;;
		"guest-script-start "*) g_current=${line#guest-script-start } g_started=1 ;;
		"# guest-tests-done") g_done=1 ;;
		"# exit "*) g_rc=${line#\# exit } ;;
		*)
			echo "# $line"
			if [[ -n $g_current && $line == "$g_current: "*" s" ]]; then
				g_finished+=" $g_current"
				g_current=""
			fi
			;;
		esac
	done
	exec 3<&-
}

run_guest() {
	local where reason line name todo boots=0
	local -a scripts=()
	local g_done g_rc g_current g_started g_finished=""
	for line in tests/guest/test_*.sh; do
		[[ -f $line ]] && scripts+=("$line")
	done
	if [[ ${#scripts[@]} -eq 0 ]]; then
		echo "# guest: no tests/guest/test_*.sh"
		return
	fi
	where=$(scripts/testhost/detect.sh "$BUILD" 2>"$LOGS/detect.txt")
	reason=$(<"$LOGS/detect.txt")
	echo "# guest: ${#scripts[@]} scripts, ${where:-testhost}: ${reason#detect: * }"
	while :; do
		boots=$((boots + 1))
		run_guest_once "$where"
		[[ -n $g_done ]] && return
		# A test host whose kernel stopped (run.sh status 123: no heartbeat) or died after
		# scripts had started (125: QEMU ended, a panic or reset; its console is printed
		# above) says nothing about the script it was running: a fresh one runs that script
		# again and the ones after it, twice at most.  Any other early end is a failure.
		if [[ $where != direct && $boots -lt 3 ]] &&
			[[ $g_rc == 123 || ($g_rc == 125 && -n $g_started) ]]; then
			todo=""
			for line in "${scripts[@]}"; do
				name=guest/$(basename "$line" .sh)
				[[ " $g_finished " == *" $name "* ]] || todo+=" $name"
			done
			echo "# guest: the test host stopped (status $g_rc) during ${g_current:-?}" \
				"(console: $BUILD/testhost/last-console.log); a fresh one runs:$todo"
			export KXEN_GUEST_SCRIPTS=${todo# }
			continue
		fi
		if [[ $where == direct ]]; then
			fail "guest" "the guest test driver stopped early (status ${g_rc:-?})"
		else
			fail "guest: test host" "did not run all guest tests (run.sh status ${g_rc:-?}\
 during ${g_current:-?}; console: $BUILD/testhost/last-console.log)"
		fi
		return
	done
}

case $mode in
--unit) run_unit ;;
--host) run_host ;;
--guest) mkdir -p "$LOGS"; run_guest ;;
--all) run_unit; run_host; mkdir -p "$LOGS"; run_guest ;;
--guest-here) guest_here; exit 0 ;;
*) usage ;;
esac
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
