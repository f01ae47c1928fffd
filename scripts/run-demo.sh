#!/bin/bash
# scripts/run-demo.sh BUILD_DIR: what `make run` shows.  Boots the default
# guest (examples/demo.cfg) with kxl, shows its console up to its init
# marker and the demo's own lines, prints how long the boot took, and lets
# the guest power itself off.  Inside the test host when this machine's KVM
# cannot run Xen guests, and says so.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
inner=
if [[ ${1:-} == --inner ]]; then
	inner=1
	shift
fi
BUILD=$(cd "${1:-build}" && pwd) || exit 1

if [[ -z $inner ]]; then
	if [[ $(scripts/testhost/detect.sh "$BUILD" 2>/tmp/kxen-detect.$$) == testhost ]]; then
		echo "kxen: this machine's KVM cannot run Xen guests ($(sed 's/^detect: testhost: //' /tmp/kxen-detect.$$)); booting the demo inside the test host (QEMU TCG, nested AMD SVM, KVM with CONFIG_KVM_XEN)"
		rm -f /tmp/kxen-detect.$$
		exec scripts/testhost/run.sh "$BUILD" -- scripts/run-demo.sh --inner "$BUILD"
	fi
	rm -f /tmp/kxen-detect.$$
	echo "kxen: this machine's KVM runs Xen guests directly"
fi

# Private run and log directories: nothing of the host's /run or /var/log
# is needed or touched.
export KXEN_RUN_DIR=${KXEN_RUN_DIR:-$BUILD/run}
export KXEN_LOG_DIR=${KXEN_LOG_DIR:-$BUILD/log}
mkdir -p "$KXEN_RUN_DIR" "$KXEN_LOG_DIR"

echo "kxen: $BUILD/bin/kxl create -c examples/demo.cfg"
start=$EPOCHREALTIME
seen=
"$BUILD/bin/kxl" create -c examples/demo.cfg 2>&1 | while IFS= read -r line; do
	printf '%s\n' "$line"
	if [[ -z $seen && $line == KXEN-GUEST-INIT-OK* ]]; then
		seen=1
		printf 'kxen: the guest reached its init %.2f s after kxl create\n' \
			"$(echo "$EPOCHREALTIME - $start" | bc)"
	fi
done
rc=${PIPESTATUS[0]}
if [[ $rc -eq 0 ]]; then
	echo "kxen: the demo guest powered itself off cleanly"
else
	echo "kxen: kxl create failed (exit $rc)" >&2
fi
exit "$rc"
