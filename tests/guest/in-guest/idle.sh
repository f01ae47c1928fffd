# Print the domain id and wait to be told to stop (control/shutdown from the
# host, handled by Linux's own xenbus shutdown watch), for tests that act on
# a running guest from outside.  kxen.idle_secs=N: wait N seconds (default
# 600), then print IDLE-TIMEOUT and power off.
secs=600
for arg in $(cat /proc/cmdline); do
	case $arg in
	kxen.idle_secs=*) secs=${arg#kxen.idle_secs=} ;;
	esac
done
echo "IDLE-DOMID=$(xenstore-read domid)"
echo "IDLE-READY"
sleep "$secs"
echo "IDLE-TIMEOUT"
