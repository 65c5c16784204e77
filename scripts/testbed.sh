#!/usr/bin/env bash
# NAME
#	testbed.sh - a namespace test bed: a gateway and a client network
# SYNOPSIS
#	scripts/testbed.sh up|down [PREFIX]
#	source scripts/testbed.sh; tb_up; ...; tb_down
# DESCRIPTION
#	Two network namespaces joined by a veth pair:
#
#	  ${P}-cl (clients)  ${P}c <====> ${P}g  ${P}-gw (gateway, mxguard attached)
#
#	The gateway holds 198.18.0.1/24, 198.18.1.1/24, 2001:db8:1::1/64 and
#	2001:db8:2::1/64; the client side holds addresses in the same
#	networks, added with tb_client_addr, so that several "clients" are
#	several source addresses. Only RFC 2544 (198.18.0.0/15) and
#	documentation (2001:db8::/32) addresses are used.
#	PREFIX (default mxg) names everything, so beds can coexist.

TB_P=${TB_P:-mxg}

tb_names() {
	TB_GW=${TB_P}-gw
	TB_CL=${TB_P}-cl
	TB_GW_IF=${TB_P}g
	TB_CL_IF=${TB_P}c
	TB_GW4=198.18.0.1
	TB_GW6=2001:db8:1::1
}

# tb_gw CMD... - run CMD in the gateway's network namespace, host mounts kept
tb_gw() { nsenter --net=/run/netns/"$TB_GW" "$@"; }
# tb_cl CMD... - run CMD in the clients' network namespace
tb_cl() { nsenter --net=/run/netns/"$TB_CL" "$@"; }

tb_down() {
	tb_names
	# Whatever still runs in the namespaces (listeners, clients) goes first.
	for ns in "$TB_GW" "$TB_CL"; do
		if [[ -e /run/netns/$ns ]]; then ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true; fi
	done
	ip netns del "$TB_GW" 2>/dev/null || true
	ip netns del "$TB_CL" 2>/dev/null || true
	return 0
}

tb_up() {
	tb_names
	tb_down
	for cmd in ip nsenter; do
		command -v $cmd >/dev/null || { echo "testbed: $cmd is missing" >&2; return 1; }
	done
	ip netns add "$TB_GW" || { echo "testbed: cannot create network namespaces (needs root)" >&2; return 1; }
	ip netns add "$TB_CL" || return 1
	ip link add "$TB_GW_IF" netns "$TB_GW" type veth peer name "$TB_CL_IF" netns "$TB_CL" || return 1
	tb_gw sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	tb_cl sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	tb_gw ip addr add 198.18.0.1/24 dev "$TB_GW_IF"
	tb_gw ip addr add 198.18.1.1/24 dev "$TB_GW_IF"
	tb_gw ip addr add 2001:db8:1::1/64 dev "$TB_GW_IF" nodad
	tb_gw ip addr add 2001:db8:2::1/64 dev "$TB_GW_IF" nodad
	tb_gw ip link set lo up
	tb_gw ip link set "$TB_GW_IF" up
	tb_cl ip link set lo up
	tb_cl ip link set "$TB_CL_IF" up
	# Native XDP on a veth needs GRO on the peer for it to see frames in NAPI.
	tb_cl ethtool -K "$TB_CL_IF" gro on >/dev/null 2>&1 || true
	tb_client_addr 198.18.0.10/24
	tb_client_addr 2001:db8:1::10/64
}

# tb_client_addr ADDR/LEN - one more client source address
tb_client_addr() {
	tb_names
	if [[ $1 == *:* ]]; then
		tb_cl ip addr add "$1" dev "$TB_CL_IF" nodad
	else
		tb_cl ip addr add "$1" dev "$TB_CL_IF"
	fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	case ${1:-} in
	up) TB_P=${2:-$TB_P}; tb_up ;;
	down) TB_P=${2:-$TB_P}; tb_down ;;
	*) echo "usage: $0 up|down [PREFIX]" >&2; exit 2 ;;
	esac
fi
