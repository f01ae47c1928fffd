# Root on a disk (tests/guest/test_block.sh): say what / is, write 32 MiB of
# random data to it and print its checksum, check that the read-only disk
# xvdb refuses writes, then power off.
echo "BLK-ROOT=$(awk '$2 == "/" { print $1, $3, $4 }' /proc/mounts)"
dd if=/dev/urandom of=/data.bin bs=1M count=32 2>/dev/null
sync
echo "BLK-ROOT-SHA=$(sha256sum /data.bin | cut -d' ' -f1)"
if [ -b /dev/xvdb ]; then
	echo "BLK-RO-SHA=$(sha256sum /dev/xvdb | cut -d' ' -f1)"
	if dd if=/dev/zero of=/dev/xvdb bs=4096 count=1 conv=fsync 2>/tmp/ro.err; then
		echo "BLK-RO-WRITE-ACCEPTED"
	else
		echo "BLK-RO-REFUSED $(head -1 /tmp/ro.err)"
	fi
	echo "BLK-RO-RO=$(cat /sys/block/xvdb/ro)"
fi
