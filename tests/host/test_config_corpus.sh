#!/bin/bash
# The config corpus (tests/configs, see its README): every NAME.cfg there, in xl's syntax and
# the xm-era Python style of the Xen books, good ones and broken ones, goes through
# `kxl create -n`; its exit status, stderr and stdout must be those in NAME.expected.
# create -n must also create nothing: no registry entry, no log directory.
#
# Each config is copied into a scratch directory with @FILES@ replaced by the absolute path of
# tests/configs/files (disk targets must be absolute), and kxl runs there, where files/ leads
# to tests/configs/files, so that relative kernel paths resolve against the working
# directory as xl resolves them.  Output is normalised: the checkout's path becomes @ROOT@,
# and the UUID of a config that sets none (drawn at random) becomes @RANDOM-UUID@.
#
#   tests/host/test_config_corpus.sh --update    rewrites every NAME.expected from kxl's
#                                               output (review the diff before committing)
. "$(dirname "$0")/lib.sh"

corpus=$KXEN_ROOT/tests/configs
root_p=$(cd "$KXEN_ROOT" && pwd -P)
files=$root_p/tests/configs/files
work=$XS_TMP/corpus
update=
[ "${1:-}" = --update ] && update=1
mkdir -p "$work"
ln -s "$files" "$work/files"

# normalise FILE: the output as the .expected files hold it.
normalise() {
	sed -e "s|$root_p|@ROOT@|g" -e "s|$KXEN_ROOT|@ROOT@|g" "$1"
}

# run_case REL: runs one config (REL relative to tests/configs) and checks the result.
run_case() {
	local rel=$1 name=${1%.cfg} n=$2 run out rc want got msg id dom
	local -a args=()

	mkdir -p "$work/$(dirname "$rel")"
	sed "s|@FILES@|$files|g" "$corpus/$rel" >"$work/$rel"
	[ -f "$corpus/$name.args" ] && mapfile -t args <"$corpus/$name.args"
	# A fresh registry, holding the domains NAME.running says are running (this shell's pid
	# keeps them alive for kxl).
	run=$work/run-$n
	mkdir -p "$run/domains"
	id=1
	if [ -f "$corpus/$name.running" ]; then
		while read -r dom; do
			echo "$id $dom $$ 256 1 0 -" >"$run/domains/$id"
			id=$((id + 1))
		done <"$corpus/$name.running"
	fi
	out=$work/out-$n
	(cd "$work" && KXEN_RUN_DIR=$run KXEN_LOG_DIR=$work/log-$n \
		"$BUILD/bin/kxl" create -n "$rel" "${args[@]}" >"$out.stdout" 2>"$out.stderr")
	rc=$?
	if ! grep -qE '^[[:space:]]*uuid[[:space:]]*=' "$corpus/$rel" &&
		! printf '%s\n' "${args[@]}" | grep -q '^uuid='; then
		sed -i -E 's/"uuid": "[0-9a-f-]{36}"/"uuid": "@RANDOM-UUID@"/' "$out.stdout"
	fi
	{
		echo "exit $rc"
		echo "--- stderr"
		normalise "$out.stderr"
		echo "--- stdout"
		normalise "$out.stdout"
	} >"$out.got"
	want=$corpus/$name.expected
	if [ -n "$update" ]; then
		cp "$out.got" "$want"
	fi
	msg=$(grep -v '^Parsing config from' "$out.stderr" | tail -n 1)
	if [ ! -f "$want" ]; then
		fail "corpus: $rel" "no $name.expected"
	elif ! got=$(diff -u "$want" "$out.got"); then
		fail "corpus: $rel" "output differs from $name.expected: $(echo "$got" | head -n 30)"
	elif [ "$(ls "$run/domains" | wc -l)" != $((id - 1)) ] || [ -e "$work/log-$n" ]; then
		fail "corpus: $rel" "create -n left something behind: $(ls "$run/domains" "$work/log-$n" 2>&1)"
	elif [ "$rc" = 0 ] && command -v python3 >/dev/null && ! python3 -m json.tool "$out.stdout" >/dev/null 2>&1; then
		fail "corpus: $rel" "the JSON printed does not parse: $(python3 -m json.tool "$out.stdout" 2>&1 | tail -1)"
	else
		pass "corpus: $rel: exit $rc${msg:+: ${msg//$root_p/@ROOT@}}"
	fi
}

n=0
while IFS= read -r rel; do
	n=$((n + 1))
	run_case "$rel" "$n"
done < <(cd "$corpus" && find . -name '*.cfg' -printf '%P\n' | sort)
if [ "$n" -lt 25 ]; then
	fail "corpus: at least 25 configs" "found $n in $corpus"
fi
orphans=$(cd "$corpus" && for e in $(find . -name '*.expected' -printf '%P\n'); do
	[ -f "${e%.expected}.cfg" ] || echo "$e"
done)
if [ -z "$orphans" ]; then
	pass "corpus: every .expected file has its config ($n configs)"
else
	fail "corpus: every .expected file has its config" "orphans: $orphans"
fi

# A config found nowhere, neither as given nor in /etc/xen.
if out=$(cd "$work" && "$BUILD/bin/kxl" create -n -q no-such-domain.cfg 2>&1); then
	fail "create -n: a missing config file is an error" "it succeeded: $out"
elif [ "$out" = "kxl: no-such-domain.cfg: No such file or directory" ]; then
	pass "create -n: a missing config file is an error: $out"
else
	fail "create -n: a missing config file is an error" "printed: $out"
fi
# -q: no "Parsing config from" line.
out=$(cd "$work" && KXEN_RUN_DIR=$work/run-q "$BUILD/bin/kxl" create -n -q xl-minimal.cfg 2>&1 >/dev/null)
if [ -z "$out" ]; then
	pass "create -n -q: nothing on stderr for a good config"
else
	fail "create -n -q: nothing on stderr for a good config" "printed: $out"
fi
# The global -N is create -n.
if (cd "$work" && KXEN_RUN_DIR=$work/run-N "$BUILD/bin/kxl" -N create xl-minimal.cfg 2>/dev/null |
	grep -q '"name": "minimal"'); then
	pass "kxl -N create: a dry run like create -n"
else
	fail "kxl -N create: a dry run like create -n" "no JSON with the domain's name"
fi
# A vif's generated MAC is the same from one run to the next (it follows name and devid).
mac1=$(cd "$work" && KXEN_RUN_DIR=$work/run-m "$BUILD/bin/kxl" create -n -q xm-builder-linux.cfg 2>/dev/null |
	grep '"mac"')
mac2=$(cd "$work" && KXEN_RUN_DIR=$work/run-m "$BUILD/bin/kxl" create -n -q xm-builder-linux.cfg 2>/dev/null |
	grep '"mac"')
if [ -n "$mac1" ] && [ "$mac1" = "$mac2" ]; then
	pass "create -n: generated MAC addresses are stable:$(echo "$mac1" | tr -d '",' | sed 's/ *mac://')"
else
	fail "create -n: generated MAC addresses are stable" "'$mac1' then '$mac2'"
fi
exit 0
