#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tablenames: the table names fwd refuses (fwd -t, fwctl compile --table)
# against nft itself: for each of some 2,300 words (those of nft(8), and
# more), "nft -c add table inet WORD" in a namespace of this test's. fwd
# must refuse every word nft refuses; with the nft that fwd's list was
# made from (1.0.6, Debian 12's), exactly those.
. "$(dirname "$0")/../lib.sh"
need_root

ns_add nft
printf '{"version": 1}\n' >"$T_TMP/p.json"
strict=no
nft --version 2>/dev/null | grep -q 'v1\.0\.6 ' && strict=yes
# One word at a time (in a file, nft's parser recovers from an error in a
# state that refuses words it would take), in one shell in the namespace.
nsx nft sh -c 'while read -r w; do
	nft -c "add table inet $w" >/dev/null 2>&1 || echo "$w"
done' <"$TOP/tests/cases/nft-words.txt" >"$T_TMP/refused"
missed="" extra="" n=0
while read -r w; do
	n=$((n + 1))
	grep -qx -- "$w" "$T_TMP/refused"
	nft_ok=$?
	"$TOP/$BUILD/fwctl" compile --table "$w" "$T_TMP/p.json" >/dev/null 2>&1
	fwd_ok=$?
	if [ "$nft_ok" -eq 0 ] && [ "$fwd_ok" -eq 0 ]; then
		missed="$missed $w"
	elif [ "$nft_ok" -ne 0 ] && [ "$fwd_ok" -ne 0 ]; then
		extra="$extra $w"
	fi
done <"$TOP/tests/cases/nft-words.txt"
check "nft refused some ($(wc -l <"$T_TMP/refused" | tr -d ' ')), so it read them" \
	test -s "$T_TMP/refused"
same "$missed" "" "of $n words, fwd takes none that nft refuses as a table name"
if [ "$strict" = yes ]; then
	same "$extra" "" "and refuses none that nft 1.0.6 takes"
else
	ok "# SKIP the converse needs nft 1.0.6 (refused here, taken by this nft:$extra)"
fi
same "$("$TOP/$BUILD/fwctl" compile --table "$(printf 'a%.0s' $(seq 65))" "$T_TMP/p.json" 2>&1 >/dev/null)" \
	"fwctl: --table $(printf 'a%.0s' $(seq 65)): a table name has 1 to 64 characters" \
	"a name of 65 characters is refused, with the limit"
