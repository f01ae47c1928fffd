#!/bin/bash
# Fuzz smoke test: build/fuzz/xs_fuzz (fuzz/xs_fuzz.c: the wire decoder, every request over
# the store as dom0 and two guests, the journal decoder) runs for KXEN_FUZZ_SECONDS (default
# 60) with its corpus kept in build/fuzz/corpus; one result: PASS when nothing crashed.
# docs/testing.md says how to run it longer.
. "$(dirname "$0")/lib.sh"

fuzzer=$BUILD/fuzz/xs_fuzz
secs=${KXEN_FUZZ_SECONDS:-60}
corpus=$BUILD/fuzz/corpus
name="fuzz: xs_fuzz runs ${secs} s without a crash, leak or inconsistency"
if [ ! -x "$fuzzer" ]; then
	fail "$name" "$fuzzer missing (make fuzz; needs clang-14 and libclang-rt-14-dev)"
	exit 0
fi

# le32 N: N as 4 little-endian bytes (printf escapes).
le32() {
	printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) \
		$((($1 >> 16) & 255)) $((($1 >> 24) & 255))
}
# chunk CONN TYPE TX PAYLOAD(printf format): one request as a fuzzer input chunk.
chunk() {
	local conn=$1 type=$2 tx=$3 pl=$4 len
	len=$(printf "$pl" | wc -c)
	printf "\\x$(printf %02x "$conn")$(le32 $((16 + len)) | cut -c1-8)"
	printf "$(le32 "$type")$(le32 1)$(le32 "$tx")$(le32 "$len")"
	printf "$pl"
}
mkdir -p "$corpus"
if [ -z "$(ls -A "$corpus")" ]; then
	{ printf '\x00'; chunk 0 11 0 '/local/domain/5\x00'; chunk 0 14 0 '/local/domain/5\x00n5\x00'
	  chunk 1 11 0 'data/x\x00hello'; chunk 1 4 0 'data\x00tok\x00'; chunk 0 2 0 '/local/domain/5/data/x\x00'
	  chunk 0 13 0 '/local/domain/5\x00'; } >"$corpus/seed-write"
	{ printf '\x01'; chunk 0 6 0 '\x00'; chunk 0 11 1 '/a\x00v'; chunk 0 6 0 '\x00'
	  chunk 0 2 2 '/a\x00'; chunk 0 7 1 'T\x00'; chunk 0 7 2 'T\x00'; } >"$corpus/seed-txn"
	{ printf '\x00'; chunk 0 4 0 '@releaseDomain\x00r\x00'; printf '\xf0\x00\x00'
	  chunk 2 1 0 '/\x00'; chunk 0 0 0 'quota\x00'; chunk 0 22 0 '/\x000\x00'; } >"$corpus/seed-special"
fi
log=$XS_TMP/fuzz.log
"$fuzzer" -max_total_time="$secs" -dict=fuzz/xs_fuzz.dict -artifact_prefix="$BUILD/fuzz/" \
	-print_final_stats=1 "$corpus" >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
echo "# xs_fuzz: status $rc, ${runs:-?} inputs in ${secs} s, corpus $(ls "$corpus" | wc -l) files"
if [ $rc -eq 0 ]; then
	pass "$name"
else
	fail "$name" "status $rc; $(grep -m1 -E 'ERROR|SUMMARY|leaked|Test unit written' "$log") (full log in $BUILD/fuzz/last.log)"
	cp "$log" "$BUILD/fuzz/last.log"
fi
