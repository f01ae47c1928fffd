# The guest's side of tests/guest/test_block_hostile.sh: blkhostile (a
# xen-blkfront in user space, tests/guest/tools/blkhostile.c) drives the
# block backend with well-formed and malformed requests.  The kernel's
# xen-blkfront must not be loaded (kxen.noblk), or it would bind the devices
# first.
if grep -q '^xen_blkfront ' /proc/modules; then
	echo "BLKH-SETUP xen-blkfront is loaded (no kxen.noblk?): unloading it"
	rmmod xen_blkfront || echo "BLKH-SETUP cannot unload xen-blkfront"
fi
for m in xen-evtchn xen-gntalloc; do
	[ -e "/lib/modules/$m.ko" ] && insmod "/lib/modules/$m.ko"
done
for d in evtchn gntalloc xenbus; do
	[ -e "/dev/xen/$d" ] || echo "BLKH-SETUP no /dev/xen/$d"
done
echo "BLKH-DOMID=$(xenstore-read domid)"
echo "BLKH-READY"
# xvdh (51824, read-write) comes with the domain's config; the host then
# attaches xvdi (51840, read-only) and writes data/blkh-go: "ro" when it
# did, "none" when it could not.
i=0
go=
while [ $i -lt 600 ]; do
	go=$(xenstore-read data/blkh-go 2>/dev/null) && break
	sleep 0.2
	i=$((i + 1))
done
echo "BLKH-GO ${go:-timeout}"
if [ "$go" = ro ]; then
	blkhostile 51824 51840
else
	blkhostile 51824
fi
echo "BLKH-EXIT $?"
# The host checks that the domain lives on, then powers it off.
echo "BLKH-IDLE"
sleep 600
