#!/bin/bash
# scripts/make-guest-disk.sh BUILD_DIR OUT.img [SIZE_MiB]: an ext4 disk image of the guest's
# root tree, for guests booted with their root file system on a disk (root=/dev/xvda or
# /dev/vda with the default kernel and initrd: see scripts/build-guest-image.sh).
#
# The image holds the same files as the initramfs (/init included, which notices that it runs
# on a disk root), label "kxen-root", a fresh UUID, every file owned by root: a copy of
# BUILD_DIR/images/rootfs.ext4.zst (made by scripts/build-guest-image.sh, `make images`, with
# mkfs.ext4 -d from the tree it keeps in BUILD_DIR/images/rootfs/) grown with resize2fs to
# SIZE_MiB (default 256), a sparse file.  No privileges needed.  Written to OUT.img.tmp, then
# renamed over OUT.img.  Prints OUT.img's path, nothing else, on stdout.
#
# Takes 0.05-0.4 s on the development machine; in the test host about 1 s when the machine is
# quiet, 3-5 s when it is busy (load 7 on 2 cores: reading the 4 MB template over 9p and the
# tools' first start dominate), so tests can make a fresh image each time.  (mkfs.ext4 -d
# there, reading the 354 files of the tree over 9p, took 7-30 s.)
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin

die() {
	echo "make-guest-disk: error: $*" >&2
	exit 1
}
[[ $# -eq 2 || $# -eq 3 ]] || die "usage: $0 BUILD_DIR OUT.img [SIZE_MiB]"
BUILD=$1
OUT=$2
SIZE=${3:-256}
[[ $SIZE =~ ^[0-9]+$ ]] || die "SIZE_MiB: expected a number of MiB, got '$SIZE'"
TEMPLATE=$BUILD/images/rootfs.ext4.zst
[[ -f $TEMPLATE ]] || die "$TEMPLATE missing: run 'make images' (scripts/build-guest-image.sh)"
for c in zstd resize2fs tune2fs; do
	command -v "$c" >/dev/null || die "$c not installed (zstd, e2fsprogs)"
done
[[ -d $(dirname "$OUT") ]] || die "$(dirname "$OUT"): no such directory"

tmp=$OUT.tmp
trap 'rm -f "$tmp"' EXIT
zstd -q -d -f --sparse "$TEMPLATE" -o "$tmp" || die "cannot unpack $TEMPLATE into $tmp"
min=$((($(stat -c %s "$tmp") + 1048575) / 1048576))
[[ $SIZE -ge $min ]] || die "SIZE_MiB $SIZE is too small: the files need $min MiB"
truncate -s "${SIZE}M" "$tmp"
resize2fs -f "$tmp" >/dev/null 2>&1 || die "resize2fs $tmp to $SIZE MiB failed"
tune2fs -U random "$tmp" >/dev/null 2>&1 || die "tune2fs -U random $tmp failed"
chmod 644 "$tmp"
mv -f "$tmp" "$OUT"
trap - EXIT
echo "$OUT"
