#!/bin/bash
# Bad kernels and configs get a clear error and leave nothing behind;
# Xen's watchdog shuts a guest down that stops petting it.
. "$(dirname "$0")/lib.sh"

export KXEN_RUN_DIR=$(mktemp -d) KXEN_LOG_DIR=$(mktemp -d)
tmp=$(mktemp -d)
out=$tmp/out

head -c 4000000 build/images/vmlinuz >"$tmp/truncated"
boot_guest "$out" 60 examples/demo.cfg name=bad-kernel "kernel=$tmp/truncated"
rc=$?
if [ "$rc" != 0 ] && grep -q "kernel $tmp/truncated: bzImage payload truncated" "$out"; then
	pass "errors: a truncated kernel is refused with a clear message"
else
	fail "errors: truncated kernel" "rc=$rc: $(tail -3 "$out" | tr '\n' '|')"
fi
printf '#!/bin/sh\necho I am not a kernel\n' >"$tmp/script"
boot_guest "$out" 60 examples/demo.cfg name=bad-kernel "kernel=$tmp/script"
rc=$?
if [ "$rc" != 0 ] && grep -q "kernel $tmp/script: not a kernel" "$out"; then
	pass "errors: a file that is not a kernel is refused: $(grep "kernel $tmp/script" "$out" | head -1)"
else
	fail "errors: non-kernel file" "rc=$rc: $(tail -3 "$out" | tr '\n' '|')"
fi
if [ -z "$(ls "$KXEN_RUN_DIR/domains" 2>/dev/null)" ] && ! pgrep -f 'kxen-domain --name bad-kernel' >/dev/null; then
	pass "errors: a failed create leaves no domain process or registry entry"
else
	fail "errors: leftovers" "$(ls "$KXEN_RUN_DIR/domains") $(pgrep -af kxen-domain)"
fi
printf 'name = "x"\nkernel = "build/images/vmlinuz"\nmemory = 12q\n' >"$tmp/bad.cfg"
if ! "$BUILD/bin/kxl" create -n "$tmp/bad.cfg" >"$out" 2>&1 &&
	grep -q "$tmp/bad.cfg:3: memory: expected a number" "$out"; then
	pass "errors: a broken config line names file, line and key"
else
	fail "errors: config error" "$(cat "$out" | tr '\n' '|')"
fi

# Disk specs (xl and xm syntax) are checked before anything is created.
truncate -s 16M "$tmp/disk.img"
printf 'name = "d"\nkernel = "build/images/vmlinuz"\ndisk = [ %s,\n  %s ]\n' \
	"'file:$tmp/disk.img,xvda,w'" "'tap:qcow2:$tmp/missing.qcow2,xvdb,r'" >"$tmp/disk.cfg"
if ! "$BUILD/bin/kxl" create -n "$tmp/disk.cfg" >"$out" 2>&1 &&
	grep -q "$tmp/disk.cfg:3: disk: '$tmp/missing.qcow2': No such file or directory" "$out"; then
	pass "errors: a missing disk image is refused, naming file, line and key"
else
	fail "errors: missing disk image" "$(cat "$out" | tr '\n' '|')"
fi
printf 'name = "d"\nkernel = "build/images/vmlinuz"\ndisk = [ %s, %s ]\n' \
	"'phy:$tmp/disk.img,sda1,w'" "'vdev=xvdb,access=ro,target=$tmp/disk.img'" >"$tmp/disk.cfg"
if ! "$BUILD/bin/kxl" create -n "$tmp/disk.cfg" >"$out" 2>&1 && grep -q "opens it writable without w!" "$out"; then
	pass "errors: the same image writable twice without w! is refused"
else
	fail "errors: shared writable image" "$(cat "$out" | tr '\n' '|')"
fi

boot_guest "$out" 120 examples/demo.cfg name=wdt-test on_watchdog=destroy \
	"extra=console=hvc0 quiet kxen.test=watchdog"
if grep -q '^WATCHDOG-STILL-ALIVE' "$out" && grep -q 'has shut down, reason code 4 0x4' "$out" &&
	! grep -q '^WATCHDOG-DID-NOT-FIRE' "$out"; then
	pass "errors: a watchdog that is no longer petted shuts the domain down (reason watchdog)"
else
	fail "errors: watchdog" "$(grep -E 'WATCHDOG|reason code' "$out" | tr '\n' '|')"
fi
rm -rf "$tmp" "$KXEN_RUN_DIR" "$KXEN_LOG_DIR"
