# Arms Xen's watchdog (SCHEDOP_watchdog through xen_wdt) with a 3 s timeout,
# pets it once, then stops: the domain must be shut down with reason
# watchdog.  busybox's watchdog daemon pets it in the background until
# killed.
insmod /lib/modules/watchdog.ko
insmod /lib/modules/xen_wdt.ko timeout=3 nowayout=1 || echo "insmod xen_wdt failed"
watchdog -T 3 -t 1 /dev/watchdog && echo "WATCHDOG-ARMED"
sleep 4
echo "WATCHDOG-STILL-ALIVE"
killall -9 watchdog
echo "WATCHDOG-STOPPED-PETTING"
sleep 30
echo "WATCHDOG-DID-NOT-FIRE"
