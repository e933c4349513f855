#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# install: `make install DESTDIR PREFIX` puts exactly the expected files
# under DESTDIR and nothing anywhere else; the unit passes systemd-analyze
# verify; the man pages render without warnings and their example policy
# passes fwctl check; the sysusers/tmpfiles snippets make the fwadm group
# and the directories; bash completion completes commands, options and
# *.json files; make uninstall removes it all. No daemon is started.
. "$(dirname "$0")/lib.sh"
R="$T_TMP/root"
cd "$TOP" || exit 1

make -s install DESTDIR="$R" PREFIX=/usr >"$T_TMP/make.out" 2>&1
same "$?" 0 "make install DESTDIR=... PREFIX=/usr succeeds"
(cd "$R" && find . ! -type d -printf '%m %p\n' | sort -k 2) >"$T_TMP/files"
same "$(cat "$T_TMP/files")" "755 ./usr/bin/fwctl
644 ./usr/lib/systemd/system/fwd.service
644 ./usr/lib/sysusers.d/fwd.conf
644 ./usr/lib/tmpfiles.d/fwd.conf
755 ./usr/sbin/fwd
644 ./usr/share/bash-completion/completions/fwctl
644 ./usr/share/fwd/schema.json
644 ./usr/share/man/man5/fwd-policy.5
644 ./usr/share/man/man8/fwctl.8
644 ./usr/share/man/man8/fwd.8" "make install installs exactly the expected files and modes"
UNIT="$R/usr/lib/systemd/system/fwd.service"
check "the unit runs the installed fwd" grep -qx 'ExecStart=/usr/sbin/fwd' "$UNIT"
check "the unit has no unfilled @PLACEHOLDER@" sh -c "! grep -q '@[A-Z]*@' '$UNIT'"

# Nothing outside DESTDIR: a PREFIX that does not exist stays absent.
P=/nonexistent-fwd-test-$$
make -s install DESTDIR="$T_TMP/r2" PREFIX=$P >"$T_TMP/make2.out" 2>&1
same "$?" 0 "make install with another PREFIX succeeds"
check "and creates nothing outside DESTDIR" test ! -e $P
check "the default layout follows PREFIX (unit in PREFIX/lib/systemd)" \
	grep -qx "ExecStart=$P/sbin/fwd" "$T_TMP/r2$P/lib/systemd/system/fwd.service"

# --- the unit, as systemd sees it ---
if command -v systemd-analyze >/dev/null; then
	# --root: look up ExecStart= and friends in the installed tree.
	install -D /bin/sh "$R/bin/sh"
	MANPATH="$R/usr/share/man" systemd-analyze --root="$R" verify \
		fwd.service >"$T_TMP/verify" 2>&1
	rc=$?
	same "$rc $(cat "$T_TMP/verify")" "0 " \
		"systemd-analyze verify passes the unit, without a warning"
	rm -f "$R/bin/sh"
	rmdir "$R/bin"
	MANPATH="$R/usr/share/man" systemd-analyze security --offline=yes \
		--root="$R" fwd.service >"$T_TMP/security" 2>&1
	echo "# $(grep 'Overall exposure' "$T_TMP/security" | tr -cd ' -~')"
else
	echo "ok - # SKIP systemd-analyze is missing: the unit is not verified"
fi
for k in 'Before=network-pre.target' 'Wants=network-pre.target' \
	'DefaultDependencies=no' 'Conflicts=shutdown.target' \
	'WantedBy=sysinit.target' 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_CHOWN' \
	'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
	'PrivateTmp=yes' 'StateDirectory=fwd' 'StateDirectoryMode=0700' \
	'RuntimeDirectory=fwd' 'RuntimeDirectoryMode=0755' \
	'RuntimeDirectoryPreserve=yes' 'Type=simple' \
	'RestrictAddressFamilies=AF_UNIX AF_NETLINK'; do
	check "the unit says $k" grep -qx "$k" "$UNIT"
done

# --- sysusers and tmpfiles snippets, applied to the DESTDIR tree ---
if [ "$(id -u)" -eq 0 ] && command -v systemd-sysusers >/dev/null; then
	mkdir -p "$R/etc"
	systemd-sysusers --root="$R" >/dev/null 2>&1
	check "sysusers.d creates the fwadm group" grep -q '^fwadm:' "$R/etc/group"
	systemd-tmpfiles --root="$R" --create >/dev/null 2>&1
	same "$(stat -c '%a %U' "$R/run/fwd" "$R/var/lib/fwd" | tr '\n' ' ')" \
		"755 root 700 root " "tmpfiles.d creates /run/fwd 0755 and /var/lib/fwd 0700"
	rm -rf "$R/etc" "$R/run" "$R/var"
else
	echo "ok - # SKIP sysusers/tmpfiles need root and systemd"
fi

# --- man pages ---
if command -v man >/dev/null; then
	for m in man8/fwd.8 man8/fwctl.8 man5/fwd-policy.5; do
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 \
			-Z "$R/usr/share/man/$m" >/dev/null 2>"$T_TMP/manerr"
		same "$? $(cat "$T_TMP/manerr")" "0 " "$m renders without warnings"
	done
	LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$R/usr/share/man/man5/fwd-policy.5" \
		2>/dev/null >"$T_TMP/policy.txt"
	for w in 'count new connections' '"path": "input.rules[3].port"' \
		'log_drops' 'baseline' 'reject'; do
		check "fwd-policy(5) covers $w" grep -qF "$w" "$T_TMP/policy.txt"
	done
else
	echo "ok - # SKIP man is missing: the man pages are not rendered"
fi
# The example of fwd-policy(5): groups.json and db.json, as the page
# shows them, pass fwctl check and compile like rules/db.json.
mkdir -p "$T_TMP/ex"
awk -v dir="$T_TMP/ex" '
	/^\.EX/ { inex = 1; n++; next }
	/^\.EE/ { inex = 0; next }
	inex { gsub(/\\-/, "-"); print > (dir "/ex" n) }' doc/fwd-policy.5
g=$(grep -l '"groups": {$' "$T_TMP"/ex/ex*)
d=$(grep -l '"host": "db1"' "$T_TMP"/ex/ex*)
cp "$g" "$T_TMP/ex/groups.json" 2>/dev/null
cp "$d" "$T_TMP/ex/db.json" 2>/dev/null
"$TOP/$BUILD/fwctl" check "$T_TMP/ex/db.json" "$T_TMP/ex/groups.json" \
	>"$T_TMP/ex/check" 2>&1
same "$?" 0 "the example policy of fwd-policy(5) passes fwctl check"
"$TOP/$BUILD/fwctl" compile "$T_TMP/ex/db.json" >"$T_TMP/ex/db.nft" 2>&1
"$TOP/$BUILD/fwctl" compile rules/db.json >"$T_TMP/ex/rules.nft" 2>&1
check "and compiles to the ruleset of rules/db.json" \
	cmp -s "$T_TMP/ex/db.nft" "$T_TMP/ex/rules.nft"

# --- bash completion ---
BC=/usr/share/bash-completion/bash_completion
if command -v bash >/dev/null && [ -f $BC ]; then
	mkdir -p "$T_TMP/comp/sub"
	: >"$T_TMP/comp/db.json"
	: >"$T_TMP/comp/notes.txt"
	complete_words() { # LINE: what <Tab> offers after LINE, sorted
		(cd "$T_TMP/comp" && bash -c '
			. "$1"; . "$2"
			read -ra COMP_WORDS <<<"$3"
			case $3 in *" ") COMP_WORDS+=("") ;; esac
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
			COMP_LINE=$3 COMP_POINT=${#3}
			_fwctl fwctl "${COMP_WORDS[COMP_CWORD]}" \
				"${COMP_WORDS[COMP_CWORD - 1]}"
			[ ${#COMPREPLY[@]} -eq 0 ] ||
				printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
			_ $BC "$R/usr/share/bash-completion/completions/fwctl" "$1")
	}
	same "$(complete_words 'fwctl ')" "apply check compile confirm diff metrics rollback show status version " \
		"completion offers the commands"
	same "$(complete_words 'fwctl --')" "--help --json --socket --version " \
		"completion offers the global options"
	same "$(complete_words 'fwctl apply --')" "--confirm --dry-run --force --json " \
		"completion offers apply's options"
	same "$(complete_words 'fwctl apply ')" "db.json sub " \
		"completion offers policy files (*.json) and directories"
	same "$(complete_words 'fwctl -s /run/fwd/fwd.sock check db.json ')" "db.json sub " \
		"check takes more files, after -s SOCKET"
	same "$(complete_words 'fwctl apply db.json ')" "" \
		"apply takes one file"
	same "$(complete_words 'fwctl status --')" "--json --watch " \
		"completion offers status's options"
else
	echo "ok - # SKIP bash-completion is missing: completion is not tried"
fi

# --- uninstall ---
make -s uninstall DESTDIR="$R" PREFIX=/usr >"$T_TMP/make3.out" 2>&1
same "$?" 0 "make uninstall succeeds"
same "$(cd "$R" && find . ! -type d)" "" "and leaves no file behind"
exit 0
