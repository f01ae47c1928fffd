#!/bin/bash
# scripts/testhost/run.sh [--interactive] BUILD_DIR [-- COMMAND [ARG...]]
#
# Boots the test host (see scripts/testhost/build.sh) and runs COMMAND in it, as root, with
# this machine's file system read-only at the same paths, BUILD_DIR writable at the same path,
# tmpfs on /tmp, /run, /var/tmp, /var/log and /var/lib/misc, cwd the repository root,
# KXEN_IN_TESTHOST=1 and every KXEN_* variable of the caller (except KXEN_TESTHOST_*) set, and
# /dev/kvm with CONFIG_KVM_XEN loaded and checked (its "KVM_CAP_XEN_HVM=0x.." line comes first).
#
# COMMAND's stdout and stderr stream to this script's stdout as they are written (they travel
# on a serial port of their own, apart from the kernel's console, which goes to
# BUILD_DIR/testhost/last-console.log; the test host's dmesg after COMMAND goes to
# last-dmesg.log).  The exit status is COMMAND's, or:
#   125  the test host did not boot, or its KVM lacks Xen support (reason on stderr)
#   124  COMMAND did not finish within KXEN_TESTHOST_TIMEOUT seconds (default 2400)
#   123  the test host stopped responding: no heartbeat on its console (scripts/testhost/
#        inside.sh writes one a minute) for KXEN_TESTHOST_WEDGE seconds (default 300)
# With --interactive the console is this terminal (exit QEMU with Ctrl-A x) and COMMAND
# defaults to a shell.
#
# Environment: KXEN_TESTHOST_MEM (MiB, default 4096), KXEN_TESTHOST_CPUS (default 2),
# KXEN_TESTHOST_TIMEOUT (seconds; none by default in interactive mode), KXEN_TESTHOST_WEDGE.
set -uo pipefail

KVER=6.1.0-50-amd64
usage() {
	echo "usage: $0 [--interactive] BUILD_DIR [-- COMMAND [ARG...]]" >&2
	exit 2
}
die() {
	echo "testhost: error: $*" >&2
	exit 125
}

interactive=
if [[ ${1:-} == --interactive ]]; then
	interactive=1
	shift
fi
[[ $# -ge 1 && $1 != -* ]] || usage
build_arg=$1
shift
if [[ $# -gt 0 ]]; then
	[[ $1 == -- ]] || usage
	shift
fi
cmd=("$@")
if [[ ${#cmd[@]} -eq 0 ]]; then
	[[ -n $interactive ]] || usage
	cmd=(bash -il)
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "$build_arg" 2>/dev/null && pwd) || die "$build_arg: no such directory"
TH=$BUILD/testhost
for f in "$TH/kvm.ko" "$TH/kvm-amd.ko" "$TH/initrd.cpio.gz" "$BUILD/bin/kxen-kvm-check"; do
	[[ -e $f ]] || die "$f missing: run 'make testhost' first"
done
# The paths travel on the kernel command line, split at white space.
[[ $ROOT$BUILD != *[[:space:]]* ]] || die "paths with white space are not supported: $ROOT $BUILD"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not installed"

mkdir -p "$TH/runs"
RUN=$(mktemp -d "$TH/runs/run.XXXXXX") || die "cannot create a run directory in $TH/runs"
cleanup() {
	[[ -f $RUN/console.log ]] && cp -f "$RUN/console.log" "$TH/last-console.log"
	[[ -f $RUN/dmesg.log ]] && cp -f "$RUN/dmesg.log" "$TH/last-dmesg.log"
	rm -rf "$RUN"
}
trap cleanup EXIT

# The command, as a script the test host runs with bash in $ROOT.
{
	echo "# written by scripts/testhost/run.sh"
	echo "export KXEN_IN_TESTHOST=1"
	while IFS= read -r name; do
		[[ $name == KXEN_TESTHOST_* || $name == KXEN_IN_TESTHOST ]] && continue
		printf 'export %s=%q\n' "$name" "${!name}"
	done < <(compgen -e | grep '^KXEN_')
	if [[ -n $interactive ]]; then
		printf 'export TERM=%q\n' "${TERM:-vt100}"
		if size=$(stty size 2>/dev/null); then
			echo "stty rows ${size% *} cols ${size#* } 2>/dev/null"
		fi
	fi
	printf 'exec'
	printf ' %q' "${cmd[@]}"
	printf '\n'
} >"$RUN/cmd.sh"
[[ -n $interactive ]] && touch "$RUN/interactive"

# An AMD CPU with SVM and nested paging, emulated by TCG.  The features after them are ones TCG
# cannot emulate; QEMU drops them anyway, and switching them off silences its warnings.
cpu=EPYC,+svm,+npt,-rdseed,-sha-ni,-fxsr-opt,-misalignsse,-3dnowprefetch,-osvw,-topoext
cpu+=,-nrip-save,-xsavec
# shellcheck disable=SC2054 # QEMU options are comma-separated
qemu=(qemu-system-x86_64 -accel tcg,thread=multi -cpu "$cpu"
	-smp "${KXEN_TESTHOST_CPUS:-2}" -m "${KXEN_TESTHOST_MEM:-4096}"
	-nodefaults -display none -no-reboot
	-kernel "/boot/vmlinuz-$KVER" -initrd "$TH/initrd.cpio.gz"
	-append "console=ttyS0 quiet loglevel=3 panic=-1 kxen.root=$ROOT kxen.build=$BUILD kxen.run=$RUN"
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-virtfs "local,path=$BUILD,mount_tag=build,security_model=none,multidevs=remap")

timeout=${KXEN_TESTHOST_TIMEOUT:-}
[[ -z $interactive && -z $timeout ]] && timeout=2400
[[ -z $timeout || $timeout =~ ^[0-9]+$ ]] || die "KXEN_TESTHOST_TIMEOUT=$timeout: not a number"

start=$SECONDS
if [[ -n $interactive ]]; then
	# COM1 is the console, on this terminal together with QEMU's monitor (Ctrl-A c, Ctrl-A x).
	echo "testhost: booting; Ctrl-A x leaves QEMU" >&2
	if [[ -n $timeout ]]; then
		timeout --foreground -k 10 "$timeout" "${qemu[@]}" -serial mon:stdio -serial null
	else
		"${qemu[@]}" -serial mon:stdio -serial null
	fi
	qemu_rc=$?
else
	# COM1 (console) to a log, COM2 (the command's output) to our stdout.  QEMU gets no
	# terminal, so it never switches this one to raw mode.  It runs under timeout(1) in the
	# background so that a signal to this script can stop it.
	timeout -k 10 "$timeout" "${qemu[@]}" -serial "file:$RUN/console.log" \
		-chardev stdio,id=cmdout,signal=off -serial chardev:cmdout \
		</dev/null 2>"$RUN/qemu.log" &
	qemu_pid=$!
	# The wedge watchdog: inside.sh writes a heartbeat line to the console every minute.
	# When none comes for KXEN_TESTHOST_WEDGE seconds (default 300), the test host's kernel
	# has stopped (seen: TCG's nested SVM leaving a CPU in a guest with its own timer
	# interrupts lost, the other in a soft lockup); waiting for the overall timeout would
	# only waste the rest of it.
	wedge=${KXEN_TESTHOST_WEDGE:-300}
	(
		beats=0 since=$SECONDS
		while kill -0 "$qemu_pid" 2>/dev/null; do
			sleep 10
			n=$(grep -c '^kxen-testhost: heartbeat' "$RUN/console.log" 2>/dev/null)
			if [[ ${n:-0} -ne $beats ]]; then
				beats=${n:-0} since=$SECONDS
			elif ((SECONDS - since >= wedge)); then
				echo "$((SECONDS - since))" >"$RUN/wedged"
				kill -TERM "$qemu_pid" 2>/dev/null
				break
			fi
		done
	) &
	watchdog_pid=$!
	trap 'interrupted=1; kill -TERM $qemu_pid 2>/dev/null' INT TERM HUP
	interrupted=
	while :; do
		wait "$qemu_pid"
		qemu_rc=$?
		kill -0 "$qemu_pid" 2>/dev/null || break
	done
	trap - INT TERM HUP
	kill "$watchdog_pid" 2>/dev/null
	wait "$watchdog_pid" 2>/dev/null
	[[ -n $interrupted ]] && die "interrupted"
fi
elapsed=$((SECONDS - start))

show_console() {
	echo "testhost: last console lines ($TH/last-console.log):" >&2
	tail -n 40 "$RUN/console.log" 2>/dev/null | sed 's/^/  | /' >&2
	if [[ -s $RUN/qemu.log ]]; then
		echo "testhost: QEMU said:" >&2
		sed 's/^/  | /' "$RUN/qemu.log" >&2
	fi
}

if [[ -f $RUN/status ]]; then
	status=$(<"$RUN/status")
	if [[ $status == 125 && -f $RUN/error ]]; then
		echo "testhost: error: $(<"$RUN/error")" >&2
		show_console
		exit 125
	fi
	[[ $status =~ ^[0-9]+$ ]] || die "bad status '$status' from the test host"
	exit "$status"
fi
if [[ -f $RUN/wedged ]]; then
	echo "testhost: error: the test host stopped responding (no heartbeat for $(<"$RUN/wedged") s" \
		"after ${elapsed} s; KXEN_TESTHOST_WEDGE); its kernel said:" >&2
	grep -E 'soft lockup|rcu_preempt self-detected|timer handling|hung_task|blocked for more' \
		"$RUN/console.log" 2>/dev/null | head -n 6 | sed 's/^/  | /' >&2
	show_console
	exit 123
fi
if [[ $qemu_rc -eq 124 || $qemu_rc -eq 137 ]]; then
	echo "testhost: error: timed out after ${timeout} s (KXEN_TESTHOST_TIMEOUT)" >&2
	show_console
	exit 124
fi
echo "testhost: error: the test host stopped after ${elapsed} s without running the command" \
	"(QEMU exit status $qemu_rc)" >&2
show_console
exit 125
