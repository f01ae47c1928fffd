#!/bin/bash
# scripts/make-guest-disk.sh BUILD_DIR OUT.img [SIZE_MiB]: an ext4 disk image of the guest's
# root tree, for guests booted with their root file system on a disk (root=/dev/xvda or
# /dev/vda with the default kernel and initrd: see scripts/build-guest-image.sh).
#
# The tree is BUILD_DIR/images/rootfs, which scripts/build-guest-image.sh (make images) keeps
# beside initrd.cpio.gz: the same files as the initramfs, /init included, which notices that
# it runs on a disk root.  The image is a sparse file of SIZE_MiB (default 256), label
# "kxen-root", made with `mkfs.ext4 -d` without privileges; every file is owned by root in it
# (fixed with debugfs when the tree belongs to another user).  Written to OUT.img.tmp, then
# renamed over OUT.img.  Prints OUT.img's path, nothing else, on stdout.
#
# Takes about 0.1 s on the development machine (256 MiB, 11 MB of files, 355 inodes; the same
# as another user, with the ownership fix), so tests can make a fresh image each time.
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
[[ $SIZE =~ ^[0-9]+$ && $SIZE -ge 16 ]] || die "SIZE_MiB: expected a number of MiB >= 16, got '$SIZE'"
TREE=$BUILD/images/rootfs
[[ -x $TREE/init ]] || die "$TREE/init missing: run 'make images' (scripts/build-guest-image.sh)"
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 not installed (e2fsprogs)"
[[ -d $(dirname "$OUT") ]] || die "$(dirname "$OUT"): no such directory"

tmp=$OUT.tmp
trap 'rm -f "$tmp" "$tmp.cmds"' EXIT
rm -f "$tmp"
truncate -s "${SIZE}M" "$tmp"
mkfs.ext4 -q -F -b 4096 -L kxen-root -E root_owner=0:0 -d "$TREE" "$tmp" ||
	die "mkfs.ext4 -d $TREE $tmp failed"

# mkfs.ext4 -d copies owners as they are; an unprivileged build's files belong to its user.
(cd "$TREE" && find . -mindepth 1 \( ! -uid 0 -o ! -gid 0 \) -printf '%P\n') |
	while IFS= read -r f; do
		printf 'sif "/%s" uid 0\nsif "/%s" gid 0\n' "$f" "$f"
	done >"$tmp.cmds"
if [[ -s $tmp.cmds ]]; then
	debugfs -w -f "$tmp.cmds" "$tmp" >/dev/null 2>&1 || die "debugfs: cannot set owners in $tmp"
fi
mv -f "$tmp" "$OUT"
trap - EXIT
rm -f "$tmp.cmds"
echo "$OUT"
