# Print the domain id and wait to be told to stop (control/shutdown from the
# host, handled by Linux's own xenbus shutdown watch), for tests that act on
# a running guest from outside.
echo "IDLE-DOMID=$(xenstore-read domid)"
echo "IDLE-READY"
sleep 600
echo "IDLE-TIMEOUT"
