# The guest's side of tests/guest/test_lifecycle.sh: one vCPU kept busy,
# so that the host sees the domain's CPU time grow (and stop while it is
# paused), until the host writes "off" to data/burn; then idle until the
# host shuts the domain down.
id=$(xenstore-read domid)
echo "LC-DOMID=$id"
xenstore-write data/burn on
(while :; do :; done) &
burner=$!
echo "LC-READY"
# A write before the watch is set is caught by the read on the next turn.
while [ "$(xenstore-read data/burn 2>/dev/null)" != off ]; do
	timeout 5 xenstore-watch -n 2 "/local/domain/$id/data/burn" >/dev/null 2>&1
done
kill $burner
echo "LC-IDLE"
sleep 600
echo "LC-TIMEOUT"
