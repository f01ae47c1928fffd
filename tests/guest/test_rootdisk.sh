#!/bin/bash
# Root file system on a disk: the guest image's /init with root= (scripts/build-guest-image.sh)
# on an ext4 image from scripts/make-guest-disk.sh, the disk served by QEMU's virtio-blk with
# KVM (root=/dev/vda) in the same test host: the image's side of it, apart from kxen's block
# backend (test_block.sh boots the same image under kxen, root=/dev/xvda).
#   read-only:   the root is mounted ro, /init runs again from it once (no loop), /tmp is a
#                tmpfs, fio runs from the disk, writes to / are refused
#   read-write:  root=LABEL=kxen-root rw; a file written in the guest is on the image after
#                power-off, with the same sha256, and the file system is clean (remounted ro)
#   no device:   root=/dev/vdz: a clear error after kxen.rootwait=2 seconds and a power-off
. "$(dirname "$0")/lib.sh"

KERNEL=$BUILD/images/vmlinuz
INITRD=$BUILD/images/initrd.cpio.gz
dir=$(mktemp -d /tmp/kxen-rootdisk.XXXXXX)
trap 'rm -rf "$dir"' EXIT
export PATH=$PATH:/usr/sbin:/sbin

# qemu_boot OUT IMG APPEND: boot the guest kernel and initrd under QEMU with KVM, IMG as a
# virtio-blk disk, console on ttyS0 into OUT (CRs removed); returns QEMU's status (124: killed
# after 180 s).
qemu_boot() {
	timeout -k 5 180 qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 2 -nodefaults \
		-nographic -no-reboot -serial stdio -kernel "$KERNEL" -initrd "$INITRD" \
		-drive "file=$2,format=raw,if=virtio" -append "console=ttyS0 quiet $3" \
		</dev/null 2>&1 | tr -d '\r' >"$1"
	return "${PIPESTATUS[0]}"
}

# has OUT LINE: OUT has LINE, whole.
has() { grep -qxF -- "$2" "$1"; }
last_lines() { tail -5 "$1" | tr '\n' '|'; }

img=$dir/root.img
start=$EPOCHREALTIME
if ! scripts/make-guest-disk.sh "$BUILD" "$img" >"$dir/mk.out" 2>&1; then
	fail "rootdisk: make-guest-disk.sh" "$(cat "$dir/mk.out")"
	exit 0
fi
secs=$(echo "$EPOCHREALTIME - $start" | bc)
if [ "$(cat "$dir/mk.out")" = "$img" ] && [ -f "$img" ]; then
	pass "rootdisk: make-guest-disk.sh makes a 256 MiB ext4 image in ${secs} s"
else
	fail "rootdisk: make-guest-disk.sh prints the image path" "$(cat "$dir/mk.out")"
fi

# Read-only root.
out=$dir/ro.out
qemu_boot "$out" "$img" "root=/dev/vda ro kxen.test=rootdisk"
rc=$?
if has "$out" "kxen-guest: root /dev/vda mounted (ext4, ro), switching to it" &&
	has "$out" "KXEN-GUEST-ROOT: /dev/vda ext4 ro" &&
	[ "$(grep -c '^KXEN-GUEST-INIT-OK$' "$out")" = 1 ] &&
	has "$out" "ROOTDISK-ROOT=/dev/vda ext4" && has "$out" "ROOTDISK-TMP=tmpfs"; then
	pass "rootdisk: root=/dev/vda ro: switched to the disk, /init ran there once"
else
	fail "rootdisk: root=/dev/vda ro: switched to the disk" "rc=$rc, $(last_lines "$out")"
fi
if grep -q '^ROOTDISK-FIO=fio-3' "$out" && has "$out" "ROOTDISK-WROTE=refused" &&
	has "$out" "kxen-guest: test rootdisk exited with status 0" && [ "$rc" = 0 ]; then
	pass "rootdisk: root=/dev/vda ro: fio runs from the disk, / refuses writes, power-off"
else
	fail "rootdisk: root=/dev/vda ro: fio, refused write, power-off" \
		"rc=$rc, $(grep -E '^ROOTDISK-(FIO|WROTE)' "$out" | tr '\n' '|')"
fi

# Read-write root, found by its label; the file written in the guest is on the image.
out=$dir/rw.out
qemu_boot "$out" "$img" "root=LABEL=kxen-root rw kxen.test=rootdisk"
rc=$?
want=$(sed -n 's/^ROOTDISK-WROTE=\([0-9a-f]\{64\}\)$/\1/p' "$out")
got=$(debugfs -R "dump /rootdisk-probe $dir/probe" "$img" >/dev/null 2>&1 &&
	sha256sum "$dir/probe" | cut -d' ' -f1)
if has "$out" "KXEN-GUEST-ROOT: /dev/vda ext4 rw" && [ -n "$want" ] && [ "$want" = "$got" ] &&
	[ "$rc" = 0 ]; then
	pass "rootdisk: root=LABEL=kxen-root rw: a 1 MiB file written in the guest is on the image"
else
	fail "rootdisk: root=LABEL=kxen-root rw: write persists" \
		"rc=$rc, guest sha256 '$want', image '$got', $(last_lines "$out")"
fi
if fsck=$(e2fsck -fn "$img" 2>&1); then
	pass "rootdisk: the file system is clean after the guest's power-off"
else
	fail "rootdisk: the file system is clean after power-off" "$(echo "$fsck" | tail -3)"
fi

# No such device: a clear message and a power-off, not a hang.
out=$dir/none.out
start=$SECONDS
qemu_boot "$out" "$img" "root=/dev/vdz kxen.rootwait=2"
rc=$?
if grep -q '^kxen-guest: error: root device /dev/vdz did not appear within 2 s' "$out" &&
	[ "$rc" = 0 ] && ! grep -q '^KXEN-GUEST-INIT-OK' "$out"; then
	pass "rootdisk: root=/dev/vdz: error message and power-off ($((SECONDS - start)) s)"
else
	fail "rootdisk: root=/dev/vdz: error and power-off" "rc=$rc, $(last_lines "$out")"
fi

