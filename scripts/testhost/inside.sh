#!/bin/bash
# scripts/testhost/inside.sh ROOT BUILD RUN: the test host's second stage.
#
# The test host's /init (scripts/testhost/build.sh) runs this with Debian's bash, chrooted into
# this machine's root as seen over 9p, on the kernel console.  It loads the rebuilt kvm modules,
# checks KVM_CAP_XEN_HVM with kxen-kvm-check, runs RUN/cmd.sh (written by run.sh) in ROOT and
# leaves its exit status in RUN/status; 125 and a reason in RUN/error when the test host itself
# is unusable.  The command's output goes to the second serial port (COM2), which run.sh
# connects to its own stdout, so it never mixes with kernel messages; in interactive mode
# (RUN/interactive exists) the command runs on the console instead.
ROOT=$1 BUILD=$2 RUN=$3
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8

# devtmpfs has no /dev/fd and friends (udev makes them on a full system):
# bash's process substitution needs them.
[[ -e /dev/fd ]] || ln -s /proc/self/fd /dev/fd
for i in 0 1 2; do
	n=(stdin stdout stderr)
	[[ -e /dev/${n[i]} ]] || ln -s "/proc/self/fd/$i" "/dev/${n[i]}"
done

fail() {
	echo "kxen-testhost: error: $*" >/dev/console
	echo "$*" >"$RUN/error"
	echo 125 >"$RUN/status"
	exit 125
}

if [[ -e $RUN/interactive ]]; then
	out=/dev/ttyS0
else
	out=/dev/ttyS1
	# Raw: the bytes the command writes reach run.sh's stdout unchanged (no CR added).
	stty -F "$out" raw -echo 115200 || fail "cannot set up $out"
fi

KVER=$(uname -r)
for m in $(modinfo -F depends "$BUILD/testhost/kvm.ko" "$BUILD/testhost/kvm-amd.ko" |
	tr ',' '\n' | sort -u); do
	[[ $m == kvm ]] && continue
	modprobe "$m" || fail "modprobe $m (from /lib/modules/$KVER) failed"
done
insmod "$BUILD/testhost/kvm.ko" || fail "insmod $BUILD/testhost/kvm.ko failed"
insmod "$BUILD/testhost/kvm-amd.ko" || fail "insmod $BUILD/testhost/kvm-amd.ko failed" \
	"(is the CPU emulated with +svm?)"
[[ -c /dev/kvm ]] || fail "/dev/kvm missing after loading kvm-amd.ko"
"$BUILD/bin/kxen-kvm-check" >"$out" 2>&1 ||
	fail "kxen-kvm-check: /dev/kvm lacks the Xen support kxen needs"

cd "$ROOT" || fail "cannot cd to $ROOT"

# Evidence for a run that hangs: kernel errors (soft lockups, hung tasks, RCU stalls) reach
# the console log, and every minute a heartbeat there says how long the test host has been up
# and which processes use the CPU or wait in the kernel.  A console log whose heartbeats stop
# means the test host itself stopped, not a test.
dmesg -n 5 2>/dev/null
[[ -w /proc/sys/kernel/hung_task_timeout_secs ]] && echo 120 >/proc/sys/kernel/hung_task_timeout_secs
# The heartbeat uses bash builtins and /proc only: it keeps beating when the 9p shares (every
# program and the build directory) stop answering, and then says so.
hb_proc() { # pid: "state cputicks wchan command" of one process, from /proc
	local line rest a
	local -a f args
	read -r line 2>/dev/null <"/proc/$1/stat" || return 1
	rest=${line##*) }
	read -ra f <<<"$rest"
	mapfile -d '' -t args 2>/dev/null <"/proc/$1/cmdline"
	a=${args[*]}
	[[ -n $a ]] || a="[${line#*(}" a=${a%%)*}]
	read -r line 2>/dev/null <"/proc/$1/wchan"
	echo "${f[0]} $((f[11] + f[12])) ${line:-0} ${a:0:120}"
}
heartbeat() {
	local up load pid p i best probe="" probe_t=0
	local -a pids info
	coproc HB_WAIT { read -r; }
	while ! read -r -t 60 -u "${HB_WAIT[0]}"; do
		read -r up _ </proc/uptime
		read -r load </proc/loadavg
		echo "kxen-testhost: heartbeat: up ${up} s, load ${load% * *}" >/dev/console
		# A write to the build share that has not returned since the last beat.
		if [[ -n $probe ]] && kill -0 "$probe" 2>/dev/null; then
			echo "  build share (9p): a write has not returned for $((${up%.*} - probe_t)) s" >/dev/console
		else
			(echo "${up}" >"$BUILD/testhost/.heartbeat") 2>/dev/null &
			probe=$! probe_t=${up%.*}
		fi
		pids=() info=()
		for p in /proc/[0-9]*; do
			pid=${p#/proc/}
			i=$(hb_proc "$pid") || continue
			pids+=("$pid") info+=("$i")
		done
		# The 6 processes with the most CPU time, then every one in D state.
		for _ in 1 2 3 4 5 6; do
			best=-1
			for i in "${!info[@]}"; do
				[[ -n ${info[i]} ]] || continue
				read -r _ p _ <<<"${info[i]}"
				((best < 0)) && best=$i
				read -r _ pid _ <<<"${info[best]}"
				((p > pid)) && best=$i
			done
			((best < 0)) && break
			echo "  ${pids[best]} ${info[best]}" >/dev/console
			info[best]=""
		done
		for i in "${!info[@]}"; do
			[[ ${info[i]} == D* ]] && echo "  ${pids[i]} ${info[i]}" >/dev/console
		done
	done
}
heartbeat &
heartbeat_pid=$!
if [[ -e $RUN/interactive ]]; then
	# A session with the console as controlling terminal, so job control and ^C work.
	setsid --ctty --wait bash "$RUN/cmd.sh" <>/dev/ttyS0 >&0 2>&0
	status=$?
else
	bash "$RUN/cmd.sh" </dev/null >"$out" 2>&1
	status=$?
	stty -F "$out" raw # tcsetattr(TCSADRAIN): wait until the output has left the UART
fi
kill "$heartbeat_pid" 2>/dev/null
rm -f "$BUILD/testhost/.heartbeat"
dmesg >"$RUN/dmesg.log" 2>&1
echo "$status" >"$RUN/status.tmp" && mv -f "$RUN/status.tmp" "$RUN/status"
exit 0
