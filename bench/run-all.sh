#!/bin/bash
# bench/run-all.sh BUILD_DIR: every benchmark, one after the other.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
for b in bench/*.sh; do
	[[ $b == bench/run-all.sh || $b == bench/lib.sh ]] && continue
	echo "== $b"
	"$b" "${1:-build}"
done
