#!/bin/bash
# kxl list, vcpu-list and uptime show Domain-0 as xl does: the first row, ID 0, the host's
# memory in MiB (MemTotal), its online CPUs as VCPUs, state r-----, and the host's CPU seconds
# (/proc/stat: user, nice, system, irq, softirq, less the guests' share) as Time(s).  No guest:
# a private registry with one entry kept alive by this shell stands for a running domain.
. "$(dirname "$0")/lib.sh"

kxl=$BUILD/bin/kxl
export KXEN_RUN_DIR=$XS_TMP/run KXEN_LOG_DIR=$XS_TMP/log
mkdir -p "$KXEN_RUN_DIR/domains" "$KXEN_LOG_DIR"

mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
ncpu=$(getconf _NPROCESSORS_ONLN)
# host_secs: the host's busy CPU seconds not spent in guests, from /proc/stat's "cpu" line.
host_secs() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {
		printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 - $10 - $11) / hz; exit }' /proc/stat
}

# --- no domain: Domain-0 alone, in xl's exact layout ---
t0=$(host_secs)
out=$("$kxl" list 2>&1)
rc=$?
t1=$(host_secs)
header=$(printf 'Name                                        ID   Mem VCPUs\tState\tTime(s)')
row=$(echo "$out" | sed -n 2p)
read -r name id mem vcpus state secs <<<"$row"
if [ "$rc" = 0 ] && [ "$(echo "$out" | sed -n 1p)" = "$header" ] &&
	[ "$(echo "$out" | wc -l)" = 2 ] && [ "$name" = Domain-0 ]; then
	pass "kxl list: xl's header, then Domain-0 as the only row when no guest runs"
else
	fail "kxl list: header and Domain-0 row" "rc=$rc output: $out"
fi
if [ "$id" = 0 ] && [ "$mem" = "$mem_mb" ] && [ "$vcpus" = "$ncpu" ] && [ "$state" = r----- ]; then
	pass "kxl list: Domain-0 is ID 0, Mem $mem MiB (MemTotal), VCPUs $vcpus (online CPUs), r-----"
else
	fail "kxl list: Domain-0 fields" "got '$row', expected ID 0, Mem $mem_mb, VCPUs $ncpu, r-----"
fi
# One decimal in the output, so a margin of 0.1 s either side.
if awk -v a="$t0" -v b="$t1" -v t="$secs" 'BEGIN { exit !(t != "" && t >= a - 0.1 && t <= b + 0.1) }'; then
	pass "kxl list: Domain-0's Time(s) is the host's CPU seconds from /proc/stat ($t0 <= $secs <= $t1)"
else
	fail "kxl list: Domain-0's Time(s)" "got '$secs', /proc/stat said $t0 before and $t1 after"
fi
want=$(printf '%-40s %5d %5d %5d     %s  %8.1f' Domain-0 0 "$mem" "$vcpus" r----- "$secs")
if [ "$row" = "$want" ]; then
	pass "kxl list: Domain-0's row has xl's column widths"
else
	fail "kxl list: Domain-0's column widths" "got '$row', expected '$want'"
fi

# --- with a running domain: Domain-0 first, then the domain; selecting by 0 / Domain-0 ---
echo "7 web $$ 128 1 $(date +%s) -" >"$KXEN_RUN_DIR/domains/7"
out=$("$kxl" list 2>&1)
if [ "$(echo "$out" | awk 'NR > 1 { print $1 " " $2 }' | tr '\n' ',')" = "Domain-0 0,web 7," ]; then
	pass "kxl list: Domain-0 is the first row, before the running domains"
else
	fail "kxl list: Domain-0 first" "output: $out"
fi
a=$("$kxl" list 0 2>&1 | awk 'NR > 1 { print $1 }' | tr '\n' ,)
b=$("$kxl" list Domain-0 2>&1 | awk 'NR > 1 { print $1 }' | tr '\n' ,)
c=$("$kxl" list web 2>&1 | awk 'NR > 1 { print $1 }' | tr '\n' ,)
if [ "$a" = Domain-0, ] && [ "$b" = Domain-0, ] && [ "$c" = web, ]; then
	pass "kxl list 0 and kxl list Domain-0 show Domain-0 alone; kxl list web does not show it"
else
	fail "kxl list with names" "list 0 -> '$a', list Domain-0 -> '$b', list web -> '$c'"
fi
v=$("$kxl" list -v 0 2>&1 | sed -n 2p)
if echo "$v" | grep -qE '^Domain-0 +0 .* 00000000-0000-0000-0000-000000000000 +- +-$'; then
	pass "kxl list -v: Domain-0's UUID is all zeros, as xl shows it"
else
	fail "kxl list -v: Domain-0" "got '$v'"
fi

# --- vcpu-list and uptime ---
vl=$("$kxl" vcpu-list 0 2>&1)
n=$(echo "$vl" | awk '$1 == "Domain-0" && $2 == 0 && $3 == $4 && $5 == "r--" { n++ } END { print n + 0 }')
if [ "$n" = "$ncpu" ]; then
	pass "kxl vcpu-list: Domain-0 has one running vCPU per host CPU ($n)"
else
	fail "kxl vcpu-list: Domain-0" "$n rows of $ncpu: $vl"
fi
up=$(awk '{ print int($1) }' /proc/uptime)
u=$("$kxl" uptime 2>&1 | sed -n 2p)
if echo "$u" | grep -qE '^Domain-0 +0 ' && [ "$(echo "$u" | awk '{ print $1 }')" = Domain-0 ]; then
	pass "kxl uptime: Domain-0 first (host up ${up} s: $(echo "$u" | cut -c39-))"
else
	fail "kxl uptime: Domain-0" "got '$u'"
fi
exit 0
