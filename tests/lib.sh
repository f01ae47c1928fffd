# tests/lib.sh: what every test script shares, sourced by tests/guest/lib.sh and
# tests/host/lib.sh: BUILD and KXEN_ROOT (set by tests/run.sh, or derived here when a script
# is run by hand), the repository root as working directory, and the result lines that
# tests/run.sh counts: "PASS: <name>" and "FAIL: <name>: <reason>".

: "${KXEN_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${BUILD:=$KXEN_ROOT/build}"
export KXEN_ROOT BUILD
cd "$KXEN_ROOT" || exit 1

# pass NAME: report a passed check.
pass() {
	echo "PASS: $1"
}

# fail NAME REASON: report a failed check; REASON is flattened to one line.
fail() {
	local reason=${2:-no reason given}
	echo "FAIL: $1: ${reason//$'\n'/ | }"
}
