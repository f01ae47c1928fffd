# The guest's side of tests/guest/test_xenstore.sh: the xenstore clients
# talk to kxend through /dev/xen/xenbus (the guest's store ring).  The host
# side drives it through the console log markers.
id=$(xenstore-read domid)
echo "XS-DOMID=$id"
xenstore-write data/greeting "hello from $id" && echo "XS-WRITE-OWN-OK"
echo "XS-READ-OWN=$(xenstore-read data/greeting)"
xenstore-read /local/domain/0/kxen-test-secret >/dev/null 2>&1 || echo "XS-DOM0-DENIED rc=$?"
xenstore-write /local/domain/0/kxen-test-secret x >/dev/null 2>&1 || echo "XS-DOM0-WRITE-DENIED"
xenstore-read /local/domain/99/data/x >/dev/null 2>&1 || echo "XS-OTHER-DENIED"
# A watch on our own node: the host writes it when it sees XS-WATCH-SET.
xenstore-watch -n 2 "/local/domain/$id/data/poke" >/tmp/watch.out 2>&1 &
w=$!
sleep 1
echo "XS-WATCH-SET"
i=0
while [ $i -lt 60 ] && kill -0 $w 2>/dev/null; do sleep 1; i=$((i + 1)); done
sed 's/^/XS-WATCH-EVENT /' /tmp/watch.out
# Flood: create nodes until the store refuses.
n=0
while [ $n -lt 5000 ]; do
	xenstore-write "data/flood/$n" x 2>/tmp/flood.err || break
	n=$((n + 1))
done
echo "XS-FLOOD-STOPPED n=$n err=$(cat /tmp/flood.err)"
xenstore-rm data/flood && echo "XS-FLOOD-CLEANED"
# Then wait for the host to restart kxend and ask for a power-off through
# control/shutdown (Linux's own xenbus shutdown watch does the rest).
echo "XS-WAITING-FOR-SHUTDOWN"
sleep 300
echo "XS-NO-SHUTDOWN-CAME"
