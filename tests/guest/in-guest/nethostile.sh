# The guest's side of tests/guest/test_net_hostile.sh: nethostile (a
# xen-netfront in user space, tests/guest/tools/nethostile.c) drives the
# vif backend with good and malformed tx packets and two rx buffers.  The
# kernel's xen-netfront must not be loaded (kxen.nonet), or it would bind
# the vif first.
if grep -q '^xen_netfront ' /proc/modules; then
	echo "NETH-SETUP xen-netfront is loaded (no kxen.nonet?): unloading it"
	rmmod xen_netfront || echo "NETH-SETUP cannot unload xen-netfront"
fi
for m in xen-evtchn xen-gntalloc; do
	[ -e "/lib/modules/$m.ko" ] && insmod "/lib/modules/$m.ko"
done
for d in evtchn gntalloc xenbus; do
	[ -e "/dev/xen/$d" ] || echo "NETH-SETUP no /dev/xen/$d"
done
echo "NETH-DOMID=$(xenstore-read domid)"
echo "NETH-READY"
# The host starts capturing on the vif, then writes data/neth-go.
i=0
go=
while [ $i -lt 600 ]; do
	go=$(xenstore-read data/neth-go 2>/dev/null) && break
	sleep 0.2
	i=$((i + 1))
done
echo "NETH-GO ${go:-timeout}"
nethostile 0
echo "NETH-EXIT $?"
# The host checks that the domain lives on, then powers it off.
echo "NETH-IDLE"
sleep 600
