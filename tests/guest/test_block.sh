#!/bin/bash
# Disks served by kxen's block backend to an unmodified xen-blkfront: root
# on an ext4 image (raw and qcow2) with data read back on the host, a
# read-only disk, hot-plug, and data fsync'd before a kill -9.
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
export XENSTORED_PATH=$tmp/xenstored.sock
export KXEN_RUN_DIR=$tmp/run KXEN_LOG_DIR=$tmp/log
"$BUILD/bin/kxend" -F --socket "$XENSTORED_PATH" --state-dir "$tmp/state" >"$tmp/kxend.log" 2>&1 &
KXEND_PID=$!
finish() {
	kill "$KXEND_PID" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$KXEND_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$KXEND_PID" 2>/dev/null
	wait "$KXEND_PID" 2>/dev/null
	rm -rf "$tmp"
}
trap finish EXIT
for _ in $(seq 50); do xenstore-ls / >/dev/null 2>&1 && break; sleep 0.1; done

sha() { sha256sum "$1" | cut -d' ' -f1; }
# The contents of file PATH in ext4 image IMG, read on the host (debugfs
# reads the image without mounting it).
ext4_cat() { debugfs -R "cat $2" "$1" 2>/dev/null; }
marker() { sed -n "s/^$2[= ]\\(.*\\)/\\1/p" "$1" | tr -d '\r' | head -1; }

# ---- root on an ext4 image, a read-only second disk ----
root=$tmp/root.img
if ! scripts/make-guest-disk.sh "$BUILD" "$root" 256 >"$tmp/mkdisk.log" 2>&1; then
	fail "block: make the root image" "$(tail -2 "$tmp/mkdisk.log" | tr '\n' '|')"
	exit 0
fi
rodisk=$tmp/ro.img
head -c 4194304 /dev/urandom >"$rodisk"
ro_before=$(sha "$rodisk")
out=$tmp/root.out
boot_guest "$out" 240 examples/demo.cfg name=blk-root \
	"disk=['$root,raw,xvda,rw', '$rodisk,raw,xvdb,ro']" \
	"extra=console=hvc0 quiet root=/dev/xvda rw kxen.test=blkroot"
rc=$?
guest_sha=$(marker "$out" BLK-ROOT-SHA)
if grep -q '^BLK-ROOT=/dev/xvda ext4 rw' "$out" && [ -n "$guest_sha" ]; then
	pass "block: the guest runs with its root on an ext4 image (xvda, rw)"
else
	fail "block: root on xvda" "rc=$rc $(grep -E '^BLK-|kxen-guest|error' "$out" | head -3 | tr '\n' '|')"
fi
host_sha=$(ext4_cat "$root" /data.bin | sha256sum | cut -d' ' -f1)
if [ -n "$guest_sha" ] && [ "$guest_sha" = "$host_sha" ] && grep -q 'reason code 0' "$out"; then
	pass "block: 32 MiB written in the guest read back from the image on the host (sha256 match), clean poweroff"
else
	fail "block: root data round trip" "guest=$guest_sha host=$host_sha"
fi
if grep -q '^BLK-RO-REFUSED' "$out" && [ "$(marker "$out" BLK-RO-RO)" = 1 ] &&
	[ "$(marker "$out" BLK-RO-SHA)" = "$ro_before" ] && [ "$(sha "$rodisk")" = "$ro_before" ]; then
	pass "block: a read-only disk reads right, refuses writes in the guest and is byte-identical afterwards"
else
	fail "block: read-only disk" "$(grep '^BLK-RO' "$out" | tr '\n' '|') after=$(sha "$rodisk" | cut -c1-12) before=${ro_before:0:12}"
fi
if [ -z "$(xenstore-list /local/domain/0/backend/vbd 2>/dev/null)" ]; then
	pass "block: the backend directories are gone with the domain"
else
	fail "block: backend directories left" "$(xenstore-ls /local/domain/0/backend/vbd 2>&1 | head -3 | tr '\n' '|')"
fi

# ---- qcow2: the same root, converted ----
qroot=$tmp/root.qcow2
qemu-img convert -f raw -O qcow2 "$root" "$qroot"
out=$tmp/qcow2.out
boot_guest "$out" 240 examples/demo.cfg name=blk-qcow2 \
	"disk=['format=qcow2, vdev=xvda, access=rw, target=$qroot']" \
	"extra=console=hvc0 quiet root=/dev/xvda rw kxen.test=blkroot"
guest_sha=$(marker "$out" BLK-ROOT-SHA)
qemu-img convert -f qcow2 -O raw "$qroot" "$tmp/back.img"
host_sha=$(ext4_cat "$tmp/back.img" /data.bin | sha256sum | cut -d' ' -f1)
if [ -n "$guest_sha" ] && [ "$guest_sha" = "$host_sha" ] && qemu-img check -q "$qroot"; then
	pass "block: a qcow2 image boots and its data round-trips (qemu-img check clean)"
else
	fail "block: qcow2" "guest=$guest_sha host=$host_sha $(grep -E '^BLK-|error' "$out" | head -3 | tr '\n' '|')"
fi
rm -f "$tmp/back.img" "$qroot"

# ---- a disk that cannot be opened stops the create, leaving nothing ----
head -c 1048576 /dev/urandom >"$tmp/bad.qcow2"
if ! "$BUILD/bin/kxl" create -F examples/demo.cfg name=blk-bad \
	"disk=['format=qcow2, vdev=xvda, access=rw, target=$tmp/bad.qcow2']" >"$tmp/bad.out" 2>&1 &&
	grep -q 'qcow2' "$tmp/bad.out" && ! "$BUILD/bin/kxl" domid blk-bad >/dev/null 2>&1 &&
	[ -z "$(xenstore-list /local/domain 2>/dev/null | grep -v '^0$')" ] &&
	[ -z "$(xenstore-list /local/domain/0/backend/vbd 2>/dev/null)" ] &&
	! pgrep -f 'kxen-domain --name blk-bad' >/dev/null; then
	pass "block: a qcow2 image qemu-nbd refuses stops the create with its reason; no domain, process or xenstore node left"
else
	fail "block: unopenable disk" "$(grep -v '^\[' "$tmp/bad.out" | tail -3 | tr '\n' '|')"
fi

# ---- hot-plug: attach, write, detach ----
hot=$tmp/hot.img
truncate -s 64M "$hot"
# Served as a block device (phy:, in xm's syntax) through a loop device.
modprobe loop 2>/dev/null
hotdev=$(losetup -f --show "$hot" 2>"$tmp/losetup.err")
if [ -z "$hotdev" ]; then
	fail "block: a loop device for the phy: disk" "$(cat "$tmp/losetup.err")"
	hotdev=$hot
fi
out=$tmp/hot.out
boot_guest_bg "$out" examples/demo.cfg name=blk-hot "extra=console=hvc0 quiet kxen.test=blkhotplug"
wait_for_line "$out" '^BLK-HOTPLUG-READY' 120
if "$BUILD/bin/kxl" block-attach blk-hot "phy:$hotdev,xvdc,w" 2>"$tmp/attach.err" &&
	wait_for_line "$out" '^BLK-HOTPLUG-SEEN sectors=131072' 60; then
	pass "block: a disk (phy:$hotdev) attached to a running guest appears there (64 MiB)"
else
	fail "block: hot-plug attach" "$(cat "$tmp/attach.err") $(grep '^BLK-HOTPLUG' "$out" | tr '\n' '|')"
fi
listed=$("$BUILD/bin/kxl" block-list blk-hot 2>&1)
if echo "$listed" | grep -q '^51744 .* 4 .*/local/domain/0/backend/vbd/[0-9]*/51744'; then
	pass "block: kxl block-list shows it connected"
else
	fail "block: block-list" "$(echo "$listed" | tr '\n' '|')"
fi
# Xen's rule: an image attached writable (without w!) to one domain is
# refused to any other; read-only users may share it.
if ! "$BUILD/bin/kxl" create examples/demo.cfg name=blk-clash "disk=['$hotdev,raw,xvdb,rw']" \
	>"$tmp/clash.out" 2>&1 && grep -q 'in use by domain' "$tmp/clash.out" &&
	! "$BUILD/bin/kxl" domid blk-clash >/dev/null 2>&1; then
	pass "block: the same image is refused writable to a second domain, before anything is created"
else
	fail "block: writable sharing refused" "$(tr '\n' '|' <"$tmp/clash.out")"
	"$BUILD/bin/kxl" destroy blk-clash 2>/dev/null
fi
wait_for_line "$out" '^BLK-HOTPLUG-WRITTEN' 60
written=$(marker "$out" BLK-HOTPLUG-WRITTEN)
if "$BUILD/bin/kxl" block-detach blk-hot xvdc 2>"$tmp/detach.err" &&
	wait_for_line "$out" '^BLK-HOTPLUG-GONE' 30 &&
	[ -z "$(xenstore-list "/local/domain/0/backend/vbd/$("$BUILD/bin/kxl" domid blk-hot)" 2>/dev/null)" ]; then
	pass "block: the disk detaches cleanly (gone in the guest and from xenstore)"
else
	fail "block: detach" "$(cat "$tmp/detach.err") $(grep '^BLK-HOTPLUG' "$out" | tr '\n' '|')"
fi
[ "$hotdev" != "$hot" ] && losetup -d "$hotdev"
if [ -n "$written" ] && [ "$(head -c 4194304 "$hot" | sha256sum | cut -d' ' -f1)" = "$written" ]; then
	pass "block: the detached image holds what the guest wrote"
else
	fail "block: hot-plug data" "guest=$written"
fi
"$BUILD/bin/kxl" destroy blk-hot
wait_bg 30

# ---- durability: fsync'd data survives kill -9 of the domain process ----
dur=$tmp/dur.img
truncate -s 16M "$dur"
out=$tmp/dur.out
boot_guest_bg "$out" examples/demo.cfg name=blk-dur \
	"disk=['$dur,raw,xvdb,rw']" "extra=console=hvc0 quiet kxen.test=blksync"
wait_for_line "$out" '^BLK-SYNCED' 120
synced=$(marker "$out" BLK-SYNCED)
pid=$(pgrep -f 'kxen-domain --name blk-dur' | head -1)
[ -n "$pid" ] && kill -9 "$pid"
wait_bg 30
if [ -n "$synced" ] && [ -n "$pid" ] && [ "$(head -c 8388608 "$dur" | sha256sum | cut -d' ' -f1)" = "$synced" ]; then
	pass "block: data the guest fsync'd before kill -9 of its domain process is in the image"
else
	fail "block: fsync then kill -9" "synced=$synced pid=$pid"
fi
