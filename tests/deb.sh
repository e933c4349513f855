#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# deb: `make deb` builds the Debian package with dpkg-buildpackage and
# lintian finds no error in it (packaging/deb.sh fails on one); the package
# holds the programs, man pages, completion, unit and snippets; its
# maintainer scripts create the fwadm group and /var/lib/fwd, enable the
# service, and never touch the ruleset. Nothing is installed.
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1
for t in dpkg-buildpackage dh lintian; do
	if ! command -v $t >/dev/null; then
		echo "ok - # SKIP $t is missing (tests/deps.sh installs it)"
		exit 0
	fi
done

make -s deb >"$T_TMP/deb.out" 2>&1
rc=$?
same "$rc" 0 "make deb builds the package and lintian finds no error"
[ $rc -eq 0 ] || tail -n 30 "$T_TMP/deb.out" | sed 's/^/# /'
grep '^deb: lintian' "$T_TMP/deb.out" | sed 's/^/# /'
grep '^[EW]: ' "$T_TMP/deb.out" | sed 's/^/# /'
DEB=$(ls build/deb/fwd_*.deb 2>/dev/null | head -n 1)
check "the .deb exists" test -f "$DEB"
[ -f "$DEB" ] || exit 0

dpkg-deb -c "$DEB" | awk '{print $6}' >"$T_TMP/files"
for f in ./usr/sbin/fwd ./usr/bin/fwctl ./lib/systemd/system/fwd.service \
	./usr/lib/sysusers.d/fwd.conf ./usr/lib/tmpfiles.d/fwd.conf \
	./usr/share/man/man8/fwd.8.gz ./usr/share/man/man8/fwctl.8.gz \
	./usr/share/man/man5/fwd-policy.5.gz ./usr/share/fwd/schema.json \
	./usr/share/bash-completion/completions/fwctl \
	./usr/share/doc/fwd/examples/ansible/roles/fwd/tasks/main.yml; do
	check "the package ships $f" grep -qx "$f" "$T_TMP/files"
done
dpkg-deb -e "$DEB" "$T_TMP/ctl"
check "postinst creates the fwadm group (systemd-sysusers fwd.conf)" \
	grep -q 'systemd-sysusers.* fwd.conf' "$T_TMP/ctl/postinst"
check "postinst creates /var/lib/fwd (0700)" \
	grep -q 'install -d -m 0700 /var/lib/fwd' "$T_TMP/ctl/postinst"
check "postinst enables fwd.service" \
	grep -q "deb-systemd-helper enable 'fwd.service'" "$T_TMP/ctl/postinst"
check "the package depends on a systemd-sysusers" \
	sh -c "dpkg-deb -f '$DEB' Depends | grep -q systemd-sysusers"
cat "$T_TMP"/ctl/p* | grep -v '^[[:space:]]*#' >"$T_TMP/scripts"
check "no maintainer script touches the ruleset (no nft, no fwctl)" \
	sh -c "! grep -qw 'nft\\|fwctl' '$T_TMP/scripts'"
check "purge removes the saved policies" \
	grep -q 'rm -rf /var/lib/fwd' "$T_TMP/ctl/postrm"
dpkg-deb -x "$DEB" "$T_TMP/x"
same "$(grep '^ExecStart=' "$T_TMP/x/lib/systemd/system/fwd.service")" \
	"ExecStart=/usr/sbin/fwd" "the packaged unit runs /usr/sbin/fwd"
check "the packaged fwctl runs" sh -c "'$T_TMP/x/usr/bin/fwctl' check rules/db.json >/dev/null"
exit 0
