#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian packages that building and testing need, if missing.
set -e
PKGS="build-essential pkg-config libnftnl-dev libmnl-dev libcjson-dev
clang libclang-rt-dev nftables iproute2 hping3 jq procps util-linux curl
prometheus prometheus-node-exporter"
# Packaging and config management (tests/schema.sh, install.sh, deb.sh,
# integration/ansible.sh): the schema validator, systemd-analyze, man, bash
# completion, the Debian package tool chain, Ansible.
PKGS="$PKGS python3-jsonschema systemd man-db bash-completion dpkg-dev
debhelper lintian ansible-core"
# "deps.sh bench": also the alternatives that bench/run.sh measures fwd
# against, and strace for the kernel's part of their loads.
[ "${1:-}" = bench ] && PKGS="$PKGS iptables ipset iperf3 strace"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
