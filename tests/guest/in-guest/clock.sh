# Wall clock and elapsed time as the guest sees them; the host stamps
# each console line as it arrives and compares.
echo "GUEST-EPOCH=$(date +%s)"
echo "SLEEP-START"
sleep 3
echo "SLEEP-END"
