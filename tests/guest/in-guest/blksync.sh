# Durability (tests/guest/test_block.sh): write 8 MiB to xvdb with fsync,
# report the checksum, then wait for the host to kill the domain process.
dd if=/dev/urandom of=/tmp/r bs=1M count=8 2>/dev/null
dd if=/tmp/r of=/dev/xvdb bs=1M conv=fsync 2>/dev/null && echo "BLK-SYNCED $(sha256sum /tmp/r | cut -d' ' -f1)"
sleep 600
