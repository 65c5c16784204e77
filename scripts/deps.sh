#!/usr/bin/env bash
# NAME
#	deps.sh - install every Debian package mxguard's build, tests and demo need
# DESCRIPTION
#	Idempotent: when everything is installed it does nothing; otherwise
#	it runs apt-get update once and installs what is missing. Needs root.
set -euo pipefail

PACKAGES=(
	make gcc clang llvm pkg-config
	libbpf-dev libxdp-dev xdp-tools bpftool libelf-dev zlib1g-dev
	libcmocka-dev libclang-rt-14-dev dnsmasq-base libspf2-dev rbldnsd bind9-dnsutils libjson-c-dev
	libcurl4-openssl-dev gnuplot-nox
	iproute2 nftables ethtool socat netcat-openbsd procps util-linux
	postfix swaks systemd man-db prometheus curl python3 rspamd
	crowdsec
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} == 0 ]] && exit 0

if [[ $(id -u) != 0 ]]; then
	echo "deps: missing packages: ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix as a package only: the tests run private instances of it.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# CrowdSec's post-install registers with its online Central API, which these
# machines cannot reach, unless this file exists and is not empty: the tests
# run a Local API of their own, offline (scripts/crowdsec-ns.sh).
CAPI=/etc/crowdsec/online_api_credentials.yaml
if [[ " ${missing[*]} " == *" crowdsec "* && ! -s $CAPI ]]; then
	mkdir -p /etc/crowdsec
	printf '# offline: no Central API (written by mxguard scripts/deps.sh)\nurl: https://api.crowdsec.net/\nlogin: offline\npassword: offline\n' >"$CAPI"
	chmod 0600 "$CAPI"
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# rspamd as a package only too: the tests run private instances of it. Where
# the package just started the system's (no policy-rc.d to stop it), stop it
# and keep it from starting at boot; an rspamd that was here before is left alone.
if [[ " ${missing[*]} " == *" rspamd "* ]]; then
	systemctl disable --now rspamd.service >/dev/null 2>&1 || true
	[[ -x /etc/init.d/rspamd ]] && /etc/init.d/rspamd stop >/dev/null 2>&1 || true
	update-rc.d rspamd disable >/dev/null 2>&1 || true
fi
# The same for crowdsec: the tests run private Local APIs, not the system's.
if [[ " ${missing[*]} " == *" crowdsec "* ]]; then
	systemctl disable --now crowdsec.service >/dev/null 2>&1 || true
	[[ -x /etc/init.d/crowdsec ]] && /etc/init.d/crowdsec stop >/dev/null 2>&1 || true
	update-rc.d crowdsec disable >/dev/null 2>&1 || true
fi
