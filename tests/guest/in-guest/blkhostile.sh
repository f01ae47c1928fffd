# The guest's side of tests/guest/test_block_hostile.sh: blkhostile (a
# xen-blkfront in user space, tests/guest/tools/blkhostile.c) drives the
# block backend with well-formed and malformed requests.  The kernel's
# xen-blkfront must not be loaded, or it would bind the devices first.
if grep -q '^xen_blkfront ' /proc/modules; then
	rmmod xen_blkfront || echo "BLKH-SETUP cannot unload xen-blkfront"
fi
grep -q '^xen_blkfront ' /proc/modules && echo "BLKH-SETUP xen-blkfront still loaded"
for m in xen-evtchn xen-gntalloc; do
	[ -e "/lib/modules/$m.ko" ] && insmod "/lib/modules/$m.ko"
done
for d in evtchn gntalloc xenbus; do
	[ -e "/dev/xen/$d" ] || echo "BLKH-SETUP no /dev/xen/$d"
done
echo "BLKH-DOMID=$(xenstore-read domid)"
echo "BLKH-READY"
# The host attaches xvdh (51824, read-write) and xvdi (51840, read-only).
i=0
while [ $i -lt 600 ]; do
	xenstore-read device/vbd/51824/backend >/dev/null 2>&1 &&
		xenstore-read device/vbd/51840/backend >/dev/null 2>&1 && break
	sleep 0.2
	i=$((i + 1))
done
blkhostile 51824 51840
echo "BLKH-EXIT $?"
# The host checks that the domain lives on, then powers it off.
echo "BLKH-IDLE"
sleep 600
