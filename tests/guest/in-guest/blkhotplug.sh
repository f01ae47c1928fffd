# Hot-plug (tests/guest/test_block.sh): wait for xvdc to be attached, write
# 4 MiB to it with a flush, report the checksum, wait for it to be
# detached, then wait to be powered off.
echo "BLK-HOTPLUG-READY"
i=0
while [ ! -b /dev/xvdc ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/xvdc ] || { echo "BLK-HOTPLUG-NEVER-CAME"; sleep 600; }
echo "BLK-HOTPLUG-SEEN sectors=$(cat /sys/block/xvdc/size)"
dd if=/dev/urandom of=/tmp/r bs=1M count=4 2>/dev/null
dd if=/tmp/r of=/dev/xvdc bs=1M conv=fsync 2>/dev/null && echo "BLK-HOTPLUG-WRITTEN $(sha256sum /tmp/r | cut -d' ' -f1)"
i=0
while [ -b /dev/xvdc ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/xvdc ] || echo "BLK-HOTPLUG-GONE"
sleep 600
