#!/bin/bash
# Debian's xenstore-utils against a private kxend: every tool (read, write, exists, list, ls,
# rm, chmod, watch, control) behaves as it does against xenstored, permissions shown by
# xenstore-ls -p, a guest's tree laid out the way xl lays it out.
. "$(dirname "$0")/lib.sh"

if ! kxend_start; then
	fail "kxend: starts with a private socket and state directory" "$(tail -3 "$XS_LOG")"
	exit 0
fi
pass "kxend: starts with a private socket and state directory"

expect "xenstore-ls: the initial tree of xenstored" \
	"$(printf 'tool = ""\n xenstored = ""')" xenstore-ls /

check "xenstore-write: several keys at once" xenstore-write /t/a 1 /t/b "two words" /t/c/d deep
expect "xenstore-read: values" "$(printf '1\ntwo words\ndeep')" xenstore-read /t/a /t/b /t/c/d
expect "xenstore-read -p: path and value" "/t/a: 1" xenstore-read -p /t/a
expect "xenstore-read: a parent created on the way is empty" "" xenstore-read /t/c
if ! xenstore-read /t/missing 2>/dev/null; then
	pass "xenstore-read: a missing key fails"
else
	fail "xenstore-read: a missing key fails" "it succeeded"
fi
expect "xenstore-exists: yes and no" "0 1" \
	bash -c 'xenstore-exists /t/a; a=$?; xenstore-exists /t/nope; echo "$a $?"'
expect "xenstore-list: children in creation order" "$(printf 'a\nb\nc')" xenstore-list /t
expect "xenstore-ls: a subtree" "$(printf 'a = "1"\nb = "two words"\nc = ""\n d = "deep"')" \
	xenstore-ls /t
expect "xenstore-ls -f: full paths" "$(printf '/t/a = "1"\n/t/b = "two words"\n/t/c = ""\n/t/c/d = "deep"')" \
	xenstore-ls -f /t

# A directory whose list exceeds 4096 bytes: libxenstore gets E2BIG for DIRECTORY and pages
# through DIRECTORY_PART.
args=()
for i in $(seq 400); do args+=("/many/child-with-a-rather-long-name-$i" "$i"); done
xenstore-write "${args[@]}"
expect "xenstore-list: 400 children (over 4096 bytes, through DIRECTORY_PART)" \
	"400 child-with-a-rather-long-name-1 child-with-a-rather-long-name-400" \
	bash -c 'l=$(xenstore-list /many); echo "$(echo "$l" | wc -l) $(echo "$l" | head -1) $(echo "$l" | tail -1)"'

# The guest's part of the tree as xl builds it: /local/domain/<id> readable by the guest,
# some subdirectories writable by it.
check "xenstore-write: /local/domain/7 as the toolstack writes it" \
	xenstore-write /local/domain/7/name demo /local/domain/7/data/x 1
check "xenstore-chmod: dom0 owns, the guest reads" xenstore-chmod -r /local/domain/7 n0 r7
check "xenstore-chmod: the guest owns data/" xenstore-chmod -r /local/domain/7/data n7
perms=$(xenstore-ls -p /local/domain/7 | sed 's/ *[. ]*(/ (/')
want=$(printf 'name = "demo" (n0,r7)\ndata = "" (n7)\n x = "1" (n7)')
if [ "$perms" = "$want" ]; then
	pass "xenstore-ls -p: owner and access of each node"
else
	fail "xenstore-ls -p: owner and access of each node" "got '$perms'"
fi
check "xenstore-chmod: several modes" xenstore-chmod /t/a n0 r1 w2 b3
expect "xenstore-ls -p: b/r/w/n" 'a = "1" (n0,r1,w2,b3)' \
	bash -c 'xenstore-ls -p /t | head -1 | sed "s/ *[. ]*(/ (/"'
if ! xenstore-chmod /t/a q1 2>/dev/null; then
	pass "xenstore-chmod: a bad mode is refused"
else
	fail "xenstore-chmod: a bad mode is refused" "accepted"
fi

check "xenstore-rm: a subtree" xenstore-rm /t/c
expect "xenstore-list: after rm" "$(printf 'a\nb')" xenstore-list /t
check "xenstore-rm: a missing key under an existing parent is fine" xenstore-rm /t/none
check "xenstore-write: a lone chain" xenstore-write /u/v/w/x 1
check "xenstore-rm -t: the key and its now-empty parents" xenstore-rm -t /u/v/w/x
if ! xenstore-exists /u 2>/dev/null; then
	pass "xenstore-rm -t: the empty parents are gone"
else
	fail "xenstore-rm -t: the empty parents are gone" "$(xenstore-ls /u)"
fi

# xenstore-watch: the initial event, then one per change below the path.
watch_out=$XS_TMP/watch.out
xenstore-watch -n 3 /w >"$watch_out" 2>&1 &
wpid=$!
for _ in $(seq 50); do [ -s "$watch_out" ] && break; sleep 0.05; done
xenstore-write /w/x 1
xenstore-write /other 1
xenstore-rm /w
for _ in $(seq 100); do kill -0 "$wpid" 2>/dev/null || break; sleep 0.05; done
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null
expect "xenstore-watch: initial event, a write below, the removal" \
	"$(printf '/w\n/w/x\n/w')" cat "$watch_out"

# kxend's CONTROL commands, sent as xenstore-control sends them (Debian's xenstore-control is
# a wrapper that needs the Xen utilities, so through xs_control_command()).
xsctl() {
	"$BUILD/host-tests/xs_client" control "$@"
}
expect "CONTROL quota: the settings" "nodes            :     1000 Nodes per domain" \
	bash -c "$BUILD/host-tests/xs_client control quota | sed -n 2p"
check "CONTROL quota set" xsctl quota set nodes 2000
expect "CONTROL quota: changed" "nodes            :     2000 Nodes per domain" \
	bash -c "$BUILD/host-tests/xs_client control quota | sed -n 2p"
expect "CONTROL quota <domid>: nodes owned by dom0" "nodes           :      412" \
	bash -c "$BUILD/host-tests/xs_client control quota 0 | sed -n 2p"
check "CONTROL log on" xsctl log on
check "CONTROL log off" xsctl log off

expect "GET_DOMAIN_PATH through libxenstore" "/local/domain/7" \
	"$BUILD/host-tests/xs_client" domain-path 7

kxend_stop
if grep -q 'request tracing on' "$XS_LOG"; then
	pass "kxend: CONTROL log reaches the log"
else
	fail "kxend: CONTROL log reaches the log" "$(tail -3 "$XS_LOG")"
fi
