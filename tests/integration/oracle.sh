#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# oracle: every golden ruleset of tests/cases/good is loaded by nft -f (an
# independent loader) into a throwaway namespace; nft lists it back
# unchanged, and real TCP/UDP probes from a neighbouring namespace get the
# verdicts that the policy implies (NAME.probes).
. "$(dirname "$0")/../lib.sh"
need_root

lab_up
for nftf in "$TOP"/tests/cases/good/*.nft; do
	name=$(basename "$nftf" .nft)
	nsx srv nft flush ruleset
	if ! nsx srv nft -f "$nftf" 2>"$T_TMP/err"; then
		not_ok "oracle $name: nft -f loads the golden ruleset"
		sed 's/^/# /' "$T_TMP/err"
		continue
	fi
	ok "oracle $name: nft -f loads the golden ruleset"
	nsx srv nft list table inet fwd_filter >"$T_TMP/list" 2>&1
	check "oracle $name: nft lists it back unchanged" \
		cmp -s "$T_TMP/list" "$nftf"
	probes="$TOP/tests/cases/good/$name.probes"
	[ -f "$probes" ] || continue
	lab_probes "$probes"
	lab_run_probes "oracle $name"
	kill "$BG_PID" 2>/dev/null
	wait "$BG_PID" 2>/dev/null
done

# The same goldens through fwd: a fresh namespace per case, the real fwd,
# fwctl apply -- and nft must list exactly what fwctl compile printed.
for json in "$TOP"/tests/cases/good/[!_]*.json; do
	name=$(basename "$json" .json)
	ns_add "f-$name"
	mkdir -p "$T_TMP/f-$name"
	sock="$T_TMP/f-$name/sock"
	ns_bg "f-$name" ${FWD_WRAP:-} "$TOP/$BUILD/fwd" -f -s "$sock" -d "$T_TMP/f-$name/state" \
		2>"$T_TMP/f-$name/log"
	wait_for 10 test -S "$sock"
	FWD_SOCKET="$sock" nsx "f-$name" "$TOP/$BUILD/fwctl" apply "$json" >/dev/null
	fwd_list "f-$name" >"$T_TMP/list" 2>&1
	check "fwd $name: the kernel holds exactly the compiled ruleset" \
		cmp -s "$T_TMP/list" "$TOP/tests/cases/good/$name.nft"
	kill "$BG_PID"
	wait "$BG_PID" 2>/dev/null
done
