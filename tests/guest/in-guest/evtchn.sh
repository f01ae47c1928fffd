# Event channels end to end through /dev/xen/evtchn (see evtchn-loop.c).
insmod /lib/modules/xen-evtchn.ko || echo "insmod xen-evtchn failed"
evtchn-loop
