#!/bin/bash
# bench/xenstore.sh BUILD_DIR [RUNS] [SECONDS]: xenstore operations per second
# and latency percentiles over the Unix socket (read, write, directory, a
# transaction round trip; 1 and 16 clients, each with its own connection),
# measured by bench/xs-bench.c through Debian's libxenstore against:
#   kxend       a private instance of $BUILD/bin/kxend, when it is built;
#   xenstored   Debian's C xenstored (xen-utils-4.17), when it can serve
#               here: a private instance in its own run directory.  On a
#               host without Xen it cannot (see docs/performance.md,
#               "Xenstore"); the script tries and says why;
#   peer        an already running daemon, if XS_BENCH_PEER_SOCKET names its
#               socket (label XS_BENCH_PEER_LABEL), e.g. xenstored in a real
#               Xen dom0.
# The daemons run side by side, alternating, RUNS times (default 5) for
# SECONDS (default 1) per kind and client count; prints the median ops/s with
# min..max, the medians of the latency percentiles, and kxend/other per row.
# Needs no KVM, so it runs on the machine itself, not in the test host.
# XENSTORED_BIN overrides the C xenstored binary.  Not part of make test.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
BUILD=$(cd "${1:-build}" && pwd) || exit 1
RUNS=${2:-5}
SECS=${3:-1}
XSB=$BUILD/bench/xs-bench
XSD_DEB=xen-utils-4.17
XSD_REL=usr/lib/xen-4.17/bin/xenstored

mkdir -p "$BUILD/bench" || exit 1
gcc -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -D_GNU_SOURCE -pthread \
	-o "$XSB" bench/xs-bench.c -lxenstore || exit 1

# Short socket paths (sun_path holds 108 bytes), whatever the checkout.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kxen-xs-bench.XXXXXX") || exit 1
declare -A PID=() SOCK=()
LABELS=()
cleanup() {
	local l i
	for l in "${!PID[@]}"; do
		kill "${PID[$l]}" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "${PID[$l]}" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "${PID[$l]}" 2>/dev/null
	done
	wait
	rm -rf "$WORK"
}
trap cleanup EXIT

# wait_socket PID PATH: 0 once PATH is a socket, 1 if PID ended or 5 s passed.
wait_socket() {
	local i
	for i in $(seq 50); do
		[[ -S $2 ]] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# ended LABEL: sets ENDED to how the daemon that serve started ended, or to
# "still running".  The daemon runs under a subshell that records its exit
# status, so that a crash is told here (and in its log), not by this shell.
ended() {
	local i
	for i in $(seq 10); do
		[[ -s $WORK/$1.rc ]] && break
		sleep 0.1
	done
	if [[ ! -s $WORK/$1.rc ]]; then
		ENDED="still running"
		return
	fi
	i=$(<"$WORK/$1.rc")
	if ((i > 128)); then
		ENDED="killed by signal $((i - 128)) (SIG$(kill -l $((i - 128))))"
	else
		ENDED="exit status $i"
	fi
}

# serve LABEL SOCKET CMD...: starts CMD, which must listen on SOCKET, and
# keeps it if a probe (write, read back, remove) works; log in $WORK/LABEL.log.
serve() {
	local label=$1 sock=$2 log=$WORK/$1.log pid i why
	shift 2
	rm -f "$WORK/$label.pid" "$WORK/$label.rc"
	: >"$log"
	("$@" </dev/null &
		echo $! >"$WORK/$label.pid"
		wait $!
		echo $? >"$WORK/$label.rc") >>"$log" 2>&1 &
	for i in $(seq 100); do
		[[ -s $WORK/$label.pid ]] && break
		sleep 0.01
	done
	pid=$(<"$WORK/$label.pid")
	if ! wait_socket "$pid" "$sock"; then
		ended "$label"
		why="no socket; $ENDED"
	elif XENSTORED_PATH=$sock timeout 10 "$XSB" -P >>"$log" 2>&1; then
		PID[$label]=$pid
		SOCK[$label]=$sock
		LABELS+=("$label")
		echo "$label: serving on $sock"
		return 0
	else
		ended "$label"
		why="probe failed; $ENDED"
		kill "$pid" 2>/dev/null
	fi
	echo "$label: cannot serve: $* -> $why"
	sed 's/^/    | /' "$log" | tail -4
	return 1
}

# find_xenstored: path of Debian's C xenstored; fetches the package with
# apt-get download and unpacks it under $BUILD/bench if not installed (its
# libraries come with libxen-dev, a build dependency).
find_xenstored() {
	local d=$BUILD/bench/$XSD_DEB deb p
	for p in "${XENSTORED_BIN:-}" "/$XSD_REL" "$d/$XSD_REL"; do
		[[ -n $p && -x $p ]] && { echo "$p"; return 0; }
	done
	mkdir -p "$d/deb" || return 1
	(cd "$d/deb" && apt-get download "$XSD_DEB" >/dev/null 2>&1) || return 1
	for deb in "$d/deb/${XSD_DEB}"_*.deb; do
		[[ -f $deb ]] && dpkg-deb -x "$deb" "$d" && break
	done
	[[ -x $d/$XSD_REL ]] && echo "$d/$XSD_REL"
}

# try_xenstored: a private C xenstored, if it can serve here.
try_xenstored() {
	local xsd rundir=$WORK/xenstored

	if ! xsd=$(find_xenstored); then
		echo "xenstored: $XSD_DEB not installed, apt-get download" \
			"failed: skipped"
		return
	fi
	# -N: stay in the foreground.  -D: do not take over dom0's xenstore
	# ring, which needs the hypervisor; in 4.17 -D also leaves the node
	# database uncreated (it is made when dom0 is introduced), so on a
	# host without Xen the first request crashes it: tried and reported.
	# XENSTORED_RUNDIR puts its socket in $WORK.
	mkdir -p "$rundir"
	serve xenstored "$rundir/socket" \
		env XENSTORED_RUNDIR="$rundir" "$xsd" -N -D && return
	# Without -D it needs Xen's privcmd, evtchn and gntdev devices and
	# dom0's xenstore page; where there is no Xen, show what it says.
	if [[ ! -e /dev/xen/privcmd && ! -e /proc/xen/privcmd ]]; then
		rm -f "$rundir/socket"
		serve xenstored "$rundir/socket" \
			env XENSTORED_RUNDIR="$rundir" "$xsd" -N && return
	fi
	echo "xenstored: not measured (docs/performance.md, Xenstore, says why)"
}

if [[ -x $BUILD/bin/kxend ]]; then
	mkdir -p "$WORK/kxend/state"
	serve kxend "$WORK/kxend/socket" "$BUILD/bin/kxend" -F \
		--socket "$WORK/kxend/socket" --state-dir "$WORK/kxend/state"
else
	echo "kxend: not built ($BUILD/bin/kxend), skipped"
fi
try_xenstored

if [[ -n ${XS_BENCH_PEER_SOCKET:-} ]]; then
	l=${XS_BENCH_PEER_LABEL:-peer}
	if XENSTORED_PATH=$XS_BENCH_PEER_SOCKET timeout 10 "$XSB" -P; then
		SOCK[$l]=$XS_BENCH_PEER_SOCKET
		LABELS+=("$l")
		echo "$l: serving on $XS_BENCH_PEER_SOCKET (not started here)"
	else
		echo "$l: no answer on $XS_BENCH_PEER_SOCKET, skipped"
	fi
fi

if ((${#LABELS[@]} == 0)); then
	echo "bench/xenstore: no xenstore daemon could serve, nothing measured"
	exit 1
fi

fail=0
limit=$(awk -v s="$SECS" 'BEGIN { print int(8 * s + 30) }')
: >"$WORK/raw"
for r in $(seq "$RUNS"); do
	line="run $r/$RUNS:"
	for l in "${LABELS[@]}"; do
		if XENSTORED_PATH=${SOCK[$l]} timeout "$limit" \
			"$XSB" -r -l "$l" -c 1,16 -d "$SECS" >>"$WORK/raw"; then
			line+=" $l ok"
		else
			line+=" $l FAILED"
			fail=1
		fi
	done
	echo "$line"
done

echo "xenstore over a Unix socket, $RUNS runs x $SECS s per kind and client" \
	"count; ops/s: median (min..max);"
echo "latency in us: medians of the runs' p50/p90/p99, max: largest seen;" \
	"retries: sum of the runs; ratio: kxend ops/s / this row's"
awk -v order="${LABELS[*]}" '
function sorted(s, a,   n, i, j, t) { # splits s into a, ascending
	n = split(s, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n
}
function median(s,   a, n) {
	n = sorted(s, a)
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function lo(s,   a) { sorted(s, a); return a[1] }
function hi(s,   a, n) { n = sorted(s, a); return a[n] }
$1 == "xsb" {
	k = $3 SUBSEP $4 SUBSEP $2
	ops[k] = ops[k] " " $5; p50[k] = p50[k] " " $6
	p90[k] = p90[k] " " $7; p99[k] = p99[k] " " $8
	if (!(k in mx) || $9 + 0 > mx[k] + 0) mx[k] = $9
	rt[k] += $10
}
END {
	nl = split(order, labels, " ")
	printf "%-12s %3s %-10s %8s %-17s %8s %8s %8s %9s %7s %7s\n", "kind",
	       "cl", "daemon", "ops/s", "(min..max)", "p50", "p90", "p99",
	       "max", "retries", "ratio"
	split("read write directory transaction", kinds, " ")
	split("1 16", cls, " ")
	for (i = 1; i <= 4; i++) for (j = 1; j <= 2; j++) for (d = 1; d <= nl; d++) {
		k = kinds[i] SUBSEP cls[j] SUBSEP labels[d]
		if (!(k in ops)) continue
		m = median(ops[k])
		kk = kinds[i] SUBSEP cls[j] SUBSEP "kxend"
		ratio = "      -"
		if (labels[d] != "kxend" && (kk in ops) && m > 0)
			ratio = sprintf("%7.2f", median(ops[kk]) / m)
		printf "%-12s %3s %-10s %8.0f %-17s %8.1f %8.1f %8.1f %9.1f %7d %s\n",
		       kinds[i], cls[j], labels[d], m,
		       sprintf("(%.0f..%.0f)", lo(ops[k]), hi(ops[k])),
		       median(p50[k]), median(p90[k]), median(p99[k]), mx[k],
		       rt[k], ratio
	}
}' "$WORK/raw"
exit $fail
