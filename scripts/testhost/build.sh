#!/bin/bash
# scripts/testhost/build.sh BUILD_DIR: build the test host into BUILD_DIR/testhost/.
#
# The test host is Debian's generic 6.1 kernel booted under QEMU TCG with an emulated AMD SVM
# CPU (see scripts/testhost/run.sh, and ARCHITECTURE.md section 3).  It needs:
#   kvm.ko, kvm-amd.ko   Debian's KVM rebuilt with CONFIG_KVM_XEN (Debian builds without it)
#   initrd.cpio.gz       busybox + the 9p/virtio modules + /init, which mounts this machine's
#                        root read-only over 9p, chroots into it, loads the modules above and
#                        runs the command that run.sh left in the build directory
# plus BUILD_DIR/bin/kxen-kvm-check, which verifies KVM_CAP_XEN_HVM in the test host.
# Each output is rebuilt only when missing, older than its inputs, or when the part of this
# script that makes it has changed.
set -euo pipefail

KVER=6.1.0-50-amd64
KSRC_TAR=/usr/src/linux-source-6.1.tar.xz
KHDR=/usr/src/linux-headers-$KVER
MODDIR=/lib/modules/$KVER
# Modules the initramfs loads, by name, to mount the host's root over virtio 9p.
INITRD_MODULES="virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
	netfs fscache 9pnet 9pnet_virtio 9p"

die() { echo "testhost/build: error: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: $0 BUILD_DIR"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib/initramfs.sh
source "$ROOT/scripts/lib/initramfs.sh"
mkdir -p "$1"
BUILD=$(cd "$1" && pwd)
OUT=$BUILD/testhost
mkdir -p "$OUT"

for f in "$KSRC_TAR" "$KHDR/Module.symvers" "$MODDIR/modules.dep" /boot/vmlinuz-$KVER \
	/bin/busybox; do
	[[ -e $f ]] || die "$f missing (run scripts/install-deps.sh)"
done

# kvm's sources must be exactly the running image's version: struct layouts in the headers
# (kvm_host.h) change between stable releases.
src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
hdr_ver=$(dpkg-query -W -f='${Version}' "linux-headers-$KVER" 2>/dev/null || true)
[[ -n $src_ver && $src_ver == "$hdr_ver" ]] ||
	die "linux-source-6.1 is version '$src_ver' but linux-headers-$KVER is '$hdr_ver';" \
		"they must match (run scripts/install-deps.sh)"

# --- 1. kvm.ko and kvm-amd.ko with CONFIG_KVM_XEN -------------------------------------------
#
# arch/x86/kvm and virt/kvm are unpacked side by side as in the kernel tree, because
# virt/kvm/Makefile.kvm names its objects "../../../virt/kvm/*.o" relative to arch/x86/kvm.
# The headers package has neither directory, so the Makefile's $(srctree) references are
# pointed at the unpacked copy.  CONFIG_KVM_XEN is not in the headers' autoconf.h: it goes in
# as -D for the C code (kvm_host.h's struct layout included, which kvm.ko and kvm-amd.ko share)
# and as a make variable for "kvm-$(CONFIG_KVM_XEN) += xen.o".
build_kvm() {
	local src=$OUT/kvm-src tree kdir jobs
	tree=$src/linux-source-6.1
	kdir=$tree/arch/x86/kvm
	echo "testhost/build: kvm.ko, kvm-amd.ko with CONFIG_KVM_XEN (about a minute)"
	rm -rf "$src"
	mkdir -p "$src"
	tar -C "$src" -xJf "$KSRC_TAR" linux-source-6.1/arch/x86/kvm linux-source-6.1/virt/kvm ||
		die "cannot unpack arch/x86/kvm and virt/kvm from $KSRC_TAR"
	sed -i -e 's|\$(srctree)/virt/kvm/Makefile.kvm|$(src)/../../../virt/kvm/Makefile.kvm|' \
		-e 's|-I \$(srctree)/arch/x86/kvm|-I $(src)|' "$kdir/Makefile"
	printf '\n# kxen: Xen HVM support, which Debian does not enable.\nccflags-y += -DCONFIG_KVM_XEN=1\n' \
		>>"$kdir/Makefile"
	# define_trace.h includes "TRACE_INCLUDE_PATH/TRACE_INCLUDE_FILE.h".  trace.h's path is
	# relative to the kernel tree (../../arch/x86/kvm), which an external build lacks.  An
	# absolute path is no cure: it goes through the preprocessor, where a directory named
	# "linux" or "unix" (as in linux-source-6.1) becomes "1".  So use ".", found through the
	# "-I $(src)" above, as in samples/trace_events; mmu/mmutrace.h's "mmu" resolves the same way.
	sed -i 's|^#define TRACE_INCLUDE_PATH .*|#define TRACE_INCLUDE_PATH .|' "$kdir/trace.h"
	grep -q '^#define TRACE_INCLUDE_PATH \.$' "$kdir/trace.h" || die "trace.h: patch failed"
	grep -q '^#define TRACE_INCLUDE_PATH mmu$' "$kdir/mmu/mmutrace.h" ||
		die "mmu/mmutrace.h: unexpected TRACE_INCLUDE_PATH"
	jobs=$(nproc)
	if ! make -s -C "$KHDR" M="$kdir" -j"$jobs" CONFIG_KVM=m CONFIG_KVM_AMD=m \
		CONFIG_KVM_INTEL= CONFIG_KVM_XEN=y modules >"$src/build.log" 2>&1; then
		tail -n 40 "$src/build.log" >&2
		die "kvm module build failed (full log: $src/build.log)"
	fi
	grep -q ' T kvm_xen_hvm_config$' < <(nm "$kdir/kvm.ko") ||
		die "kvm.ko was built without xen.o (CONFIG_KVM_XEN not picked up)"
	strip --strip-debug -o "$OUT/kvm-amd.ko.tmp" "$kdir/kvm-amd.ko"
	strip --strip-debug -o "$OUT/kvm.ko.tmp" "$kdir/kvm.ko"
	mv -f "$OUT/kvm-amd.ko.tmp" "$OUT/kvm-amd.ko"
	mv -f "$OUT/kvm.ko.tmp" "$OUT/kvm.ko"
	rm -rf "$src"
}

kvm_recipe="$src_ver $(declare -f build_kvm)"
if stale "$OUT/kvm.ko" "$KSRC_TAR" "$KHDR/Module.symvers" ||
	stale "$OUT/kvm-amd.ko" "$KSRC_TAR" "$KHDR/Module.symvers" ||
	recipe_changed "$OUT/.kvm.recipe" "$kvm_recipe"; then
	build_kvm
	recipe_record "$OUT/.kvm.recipe" "$kvm_recipe"
fi

# --- 2. kxen-kvm-check, which the test host's init runs -------------------------------------
# Named as "make all" names it (BUILD relative to the checkout when inside it), so that both
# share one rule instance and one dependency file.
mk_build=$BUILD
[[ $BUILD == "$ROOT"/* ]] && mk_build=${BUILD#"$ROOT"/}
make -s -C "$ROOT" --no-print-directory BUILD="$mk_build" "$mk_build/bin/kxen-kvm-check" ||
	die "cannot build $BUILD/bin/kxen-kvm-check"

# --- 3. the initramfs ---------------------------------------------------------------------
#
# /init (busybox sh) mounts this machine's root read-only at /mnt over 9p (tag "hostroot"),
# BUILD_DIR read-write over /mnt/BUILD_DIR (tag "build") and scratch tmpfs, then chroots into
# /mnt to run scripts/testhost/inside.sh from the checkout, which loads kvm, checks it and runs
# the command.  run.sh passes the paths on the kernel command line:
#   kxen.root=REPO_ROOT kxen.build=BUILD_DIR kxen.run=RUN_DIR (the run's files, under BUILD_DIR)
write_init() {
	cat <<'EOF'
#!/bin/sh
# /init of the kxen test host, generated by scripts/testhost/build.sh.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
hostname kxen-testhost

halt() {
	echo "kxen-testhost: error: $*" >/dev/console
	echo o >/proc/sysrq-trigger
	poweroff -f
}

ROOT= BUILD= RUN=
for arg in $(cat /proc/cmdline); do
	case $arg in
	kxen.root=*) ROOT=${arg#*=} ;;
	kxen.build=*) BUILD=${arg#*=} ;;
	kxen.run=*) RUN=${arg#*=} ;;
	esac
done
[ -n "$ROOT" ] && [ -n "$BUILD" ] && [ -n "$RUN" ] ||
	halt "kxen.root=, kxen.build= and kxen.run= must be on the kernel command line"

for m in $(cat /lib/modules/load-order); do
	insmod "/lib/modules/$m" || halt "insmod $m failed"
done

opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$opts,ro,cache=loose" hostroot /mnt || halt "cannot mount 9p tag hostroot"
# Scratch space where Debian expects to write.  Where that would hide the checkout (one under
# /tmp, say), the checkout is set aside and put back on top of the tmpfs.
mkdir -p /saved
for d in /tmp /run /var/tmp /var/log /var/lib/misc; do
	[ -d "/mnt$d" ] || continue
	case $ROOT/ in
	"$d"/*)
		mount --bind "/mnt$ROOT" /saved || halt "cannot keep $ROOT visible"
		mount -t tmpfs -o mode=1777 tmpfs "/mnt$d"
		mkdir -p "/mnt$ROOT" && mount --move /saved "/mnt$ROOT" ||
			halt "cannot keep $ROOT visible"
		;;
	*) mount -t tmpfs -o mode=1777 tmpfs "/mnt$d" ;;
	esac
done
mkdir -p "/mnt$BUILD" 2>/dev/null
# cache=mmap: uncached like the default, but MAP_SHARED writable mappings work (disk images).
mount -t 9p -o "$opts,cache=mmap" build "/mnt$BUILD" || halt "cannot mount 9p tag build at $BUILD"
mount -t proc proc /mnt/proc
mount -t sysfs sysfs /mnt/sys
mount -t devtmpfs devtmpfs /mnt/dev
mkdir -p /mnt/dev/pts /mnt/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /mnt/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /mnt/dev/shm

inside=$ROOT/scripts/testhost/inside.sh
[ -f "/mnt$inside" ] || halt "$inside not found in the test host"
chroot /mnt /bin/bash "$inside" "$ROOT" "$BUILD" "$RUN" </dev/console >/dev/console 2>&1
echo "kxen-testhost: done (inside.sh exit $?)" >/dev/console
sync
poweroff -f
EOF
}

initrd=$OUT/initrd.cpio.gz
initrd_recipe="$INITRD_MODULES $(declare -f write_init mods_resolve mod_install busybox_install cpio_pack)"
if stale "$initrd" /bin/busybox "$MODDIR/modules.dep" ||
	recipe_changed "$OUT/.initrd.recipe" "$initrd_recipe"; then
	echo "testhost/build: initrd.cpio.gz"
	stage=$OUT/initrd.d
	rm -rf "$stage"
	mkdir -p "$stage"/{dev,proc,sys,mnt,lib/modules}
	busybox_install "$stage"
	mods=$(mods_resolve "$MODDIR" $INITRD_MODULES) || die "module dependencies"
	for m in $mods; do
		mod_install "$MODDIR" "$m" "$stage/lib/modules"
	done >"$stage/lib/modules/load-order"
	write_init >"$stage/init"
	chmod 755 "$stage/init"
	cpio_pack "$stage" "$initrd"
	rm -rf "$stage"
	recipe_record "$OUT/.initrd.recipe" "$initrd_recipe"
fi
echo "testhost/build: $OUT ready"
