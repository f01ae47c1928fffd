#!/bin/bash
# The systemd units in scripts/systemd/ (kxend.service, kxendomains.service).  systemd does not
# run in the test host, so their checks are static: systemd-analyze verify on copies whose
# /usr/local/bin paths point at this checkout's programs (verify wants them to exist), when
# systemd-analyze is installed (skipped otherwise; it is not a dependency); and, always, the
# parts kxendomains relies on: what they run, their order, and that stopping waits for guests
# longer than kxendomains does.
. "$(dirname "$0")/lib.sh"

units=$KXEN_ROOT/scripts/systemd
dir=$XS_TMP/units
mkdir -p "$dir"
for u in kxend kxendomains; do
	sed -e "s|/usr/local/bin/kxendomains|$KXEN_ROOT/scripts/kxendomains|g" \
		-e "s|/usr/local/bin/kxend |$BUILD/bin/kxend |g" "$units/$u.service" >"$dir/$u.service"
done

# key UNIT KEY: the value of KEY= in the unit (the last one).
key() { sed -n "s/^$2=//p" "$units/$1.service" | tail -1; }

if [ "$(key kxend ExecStart)" = "/usr/local/bin/kxend -F" ] &&
	[ "$(key kxendomains ExecStart)" = "/usr/local/bin/kxendomains start" ] &&
	[ "$(key kxendomains ExecStop)" = "/usr/local/bin/kxendomains stop" ] &&
	[ "$(key kxendomains Type)" = oneshot ] && [ "$(key kxendomains RemainAfterExit)" = yes ]; then
	pass "systemd: kxend.service runs kxend -F; kxendomains.service is a oneshot that stays active, start and stop"
else
	fail "systemd: what the units run" "$(grep -h '^Exec\|^Type\|^Remain' "$units"/*.service | tr '\n' ' ')"
fi
maxwait=$(sed -n 's/^maxwait=\${KXEN_DOMAINS_STOP_MAXWAIT:-\([0-9]*\)}$/\1/p' scripts/kxendomains)
stopsec=$(key kxendomains TimeoutStopSec)
if [[ $(key kxendomains After) == *kxend.service* && $(key kxendomains Requires) == kxend.service ]] &&
	[ -n "$maxwait" ] && [ "${stopsec:-0}" -gt "$maxwait" ] &&
	[[ $(key kxend ExecStartPost) == *"-S /var/run/xenstored/socket"* ]]; then
	pass "systemd: kxendomains starts after kxend has its socket; systemd waits ${stopsec} s at stop, kxendomains ${maxwait} s"
else
	fail "systemd: order and stop timeout" "After=$(key kxendomains After) TimeoutStopSec=$stopsec maxwait=$maxwait ExecStartPost=$(key kxend ExecStartPost)"
fi

if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd: systemd-analyze verify (systemd-analyze is not installed)"
	exit 0
fi
# --man=no: the man page named by Documentation= is not installed from a checkout.
if out=$(cd "$dir" && systemd-analyze --man=no verify ./kxend.service ./kxendomains.service 2>&1) &&
	[ -z "$out" ]; then
	pass "systemd: systemd-analyze verify finds nothing to say about kxend.service and kxendomains.service"
else
	fail "systemd: systemd-analyze verify" "$out"
fi
# The check itself can fail: a copy with a wrong Type= (verify warns, status 0) and one whose
# ExecStop names no program (status 1) do not pass it.
sed 's/^Type=oneshot/Type=oneshoot/' "$dir/kxendomains.service" >"$dir/broken1.service"
sed 's|^ExecStop=.*|ExecStop=/nonexistent/kxendomains stop|' "$dir/kxendomains.service" \
	>"$dir/broken2.service"
o1=$(cd "$dir" && systemd-analyze --man=no verify ./kxend.service ./broken1.service 2>&1) && [ -z "$o1" ]
r1=$?
o2=$(cd "$dir" && systemd-analyze --man=no verify ./kxend.service ./broken2.service 2>&1) && [ -z "$o2" ]
r2=$?
if [ "$r1" != 0 ] && [ "$r2" != 0 ]; then
	pass "systemd: the verify check rejects units with an error (Type=oneshoot; a missing ExecStop program)"
else
	fail "systemd: the verify check rejects errors" "Type=oneshoot: '$o1'; missing program: '$o2'"
fi
exit 0
