#!/bin/bash
# Bash completion for kxl (scripts/completion/kxl), driven as bash drives it: COMP_WORDS and
# COMP_CWORD set, the completion function called, COMPREPLY read.  Subcommands come from the
# built kxl's command table, config files from the working directory, domains from a private
# registry.
. "$(dirname "$0")/lib.sh"

comp=$KXEN_ROOT/scripts/completion/kxl
reg=$XS_TMP/run

# complete WORDS...: what the completion offers for the last word, sorted, on one line; kxl is
# the built one.
complete_words() {
	KXEN_RUN_DIR=$reg XEN_DIR=$XS_TMP/etc-xen bash -c '
		source "$1"; shift
		_kxl_cfg_dir=$XEN_DIR
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_kxl
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"' \
		_ "$comp" "$BUILD/bin/kxl" "$@"
}

# A running domain "web" (id 3), kept alive by this shell's pid.
mkdir -p "$reg/domains"
echo "3 web $$ 256 1 0 -" >"$reg/domains/3"

if bash -c "source '$comp' && complete -p kxl" >/dev/null 2>&1; then
	pass "completion: sourcing scripts/completion/kxl registers kxl"
else
	fail "completion: sourcing scripts/completion/kxl registers kxl" "complete -p kxl failed"
fi
expect "completion: kxl cr -> create" "create" complete_words cr
expect "completion: kxl cr -> create, with no kxl to run (the built-in list)" "create" \
	env PATH=/usr/bin:/bin bash -c \
	'source scripts/completion/kxl; COMP_WORDS=(kxl cr); COMP_CWORD=1; _kxl; echo "${COMPREPLY[*]}"'
expect "completion: kxl block- -> the block commands" \
	"block-attach block-detach block-list" complete_words block-
expect "completion: kxl - -> global options" "--help -N -h -v" complete_words -
expect "completion: kxl -N cr -> create after a global option" "create" complete_words -N cr
expect "completion: kxl create -n tests/configs/files/sh -> a file" "tests/configs/files/shared.img" \
	complete_words create -n tests/configs/files/sh
mkdir -p "$XS_TMP/etc-xen"
touch "$XS_TMP/etc-xen/web.cfg" "$XS_TMP/etc-xen/db.cfg"
expect "completion: kxl create we -> a config in /etc/xen" "web.cfg" \
	complete_words create we
expect "completion: kxl create -q - -> create's options" "--defconfig -F -c -f -h -n -p -q" \
	complete_words create -q -
expect "completion: kxl create x.cfg ma -> key= overrides" "maxmem= maxvcpus=" \
	complete_words create x.cfg ma
expect "completion: kxl destroy w -> a running domain" "web" complete_words destroy w
expect "completion: kxl destroy web '' -> nothing more" "" complete_words destroy web ""
expect "completion: kxl list '' -> running domains, not Domain-0" "web" complete_words list ""
expect "completion: kxl domname '' -> domain ids" "3" complete_words domname ""
expect "completion: kxl help des -> destroy" "destroy" complete_words help des

# The list used when kxl cannot be run is the command table's.
table=$("$BUILD/bin/kxl" help | awk '/^ [a-z]/ { print $1 }' | tr '\n' ' ' | sed 's/ $//')
fallback=$(sed -n 's/.*echo "${out:-\(.*\)}"/\1/p' "$comp")
if [ "$table" = "$fallback" ]; then
	pass "completion: the fallback subcommand list is kxl's command table"
else
	fail "completion: the fallback subcommand list is kxl's command table" \
		"table '$table', fallback '$fallback'"
fi
exit 0
