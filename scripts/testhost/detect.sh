#!/bin/bash
# scripts/testhost/detect.sh BUILD_DIR: can kxen run guests directly on this machine?
#
# Prints "direct" when this machine's CPU has hardware virtualization (vmx or svm in
# /proc/cpuinfo) and its /dev/kvm passes BUILD_DIR/bin/kxen-kvm-check (KVM with the Xen
# support kxen needs); otherwise "testhost": guests must run inside the test host
# (scripts/testhost/run.sh).  A one-line reason goes to stderr.  Always exits 0.
set -uo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
check=$1/bin/kxen-kvm-check

verdict() {
	echo "$1"
	echo "detect: $1: $2" >&2
	exit 0
}

grep -qwE 'vmx|svm' /proc/cpuinfo ||
	verdict testhost "no hardware virtualization (no vmx/svm in /proc/cpuinfo)"
[[ -e /dev/kvm ]] || verdict testhost "no /dev/kvm (kvm modules not loaded?)"
[[ -x $check ]] || verdict testhost "$check not built (make all), cannot check /dev/kvm"
if out=$("$check" 2>&1); then
	verdict direct "/dev/kvm has Xen support ($(head -n 1 <<<"$out"))"
fi
verdict testhost "$(tail -n 1 <<<"$out")"
