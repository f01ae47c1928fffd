# In-guest half of tests/guest/test_rootdisk.sh, run on a disk root (root=... ro or rw): what
# / and /tmp are, who PID 1 is, and whether / takes a write (a file the host reads back).
echo "ROOTDISK-ROOT=$(awk '$2 == "/" { l = $1 " " $3 } END { print l }' /proc/mounts)"
echo "ROOTDISK-TMP=$(awk '$2 == "/tmp" { t = $3 } END { print t }' /proc/mounts)"
echo "ROOTDISK-PID1=$(tr '\0' ' ' </proc/1/cmdline)"
echo "ROOTDISK-FIO=$(fio --version 2>&1)"
if dd if=/dev/urandom of=/rootdisk-probe bs=4096 count=256 2>/dev/null; then
	sync
	echo "ROOTDISK-WROTE=$(sha256sum /rootdisk-probe | cut -d' ' -f1)"
else
	echo "ROOTDISK-WROTE=refused"
fi
