#!/usr/bin/env bash
# NAME
#	testbed.sh - a namespace test bed: a gateway and a client network
# SYNOPSIS
#	[TB_GATEWAYS=2] [TB_LAPI=1] scripts/testbed.sh up|down [PREFIX]
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
#
#	TB_GATEWAYS=2 adds a second gateway, B, in its own namespace,
#	joined to the same client namespace by a second veth pair:
#
#	  ${P}-cl  ${P}d <====> ${P}h  ${P}-gwb (gateway B)
#
#	B holds 198.18.2.1/24 and 2001:db8:3::1/64, the client side
#	198.18.2.10/24 and 2001:db8:3::10/64; each gateway then routes
#	back to any client address through the client side (default
#	routes via 198.18.0.10 / 2001:db8:1::10 and 198.18.2.10 /
#	2001:db8:3::10), so one client address (198.18.0.10, or one in
#	198.18.4.0/24 or 2001:db8:5::/64 added with tb_client_addr)
#	reaches both gateways on port 25.
#
#	TB_LAPI=1 adds a namespace ${P}-cs for a CrowdSec Local API
#	(scripts/crowdsec-ns.sh) holding 198.19.0.1 (TB_CS4) on its
#	loopback, with a link of its own to each gateway (${P}la/${P}sa:
#	198.19.1.1/30 on A, ${P}lb/${P}sb: 198.19.2.1/30 on B) and a
#	route to 198.19.0.1 on each: every gateway reaches LAPI at the
#	same address, outside the interface mxguard is attached to. The
#	client namespace has no way to it.

TB_P=${TB_P:-mxg}
TB_GATEWAYS=${TB_GATEWAYS:-1}
TB_LAPI=${TB_LAPI:-0}

tb_names() {
	TB_GW=${TB_P}-gw
	TB_CL=${TB_P}-cl
	TB_GW_IF=${TB_P}g
	TB_CL_IF=${TB_P}c
	TB_GW4=198.18.0.1
	TB_GW6=2001:db8:1::1
	TB_GWB=${TB_P}-gwb
	TB_GWB_IF=${TB_P}h
	TB_CLB_IF=${TB_P}d
	TB_GWB4=198.18.2.1
	TB_GWB6=2001:db8:3::1
	TB_CS=${TB_P}-cs
	TB_CS4=198.19.0.1
}

# tb_gw CMD... - run CMD in the gateway's network namespace, host mounts kept
tb_gw() { nsenter --net=/run/netns/"$TB_GW" "$@"; }
# tb_cl CMD... - run CMD in the clients' network namespace
tb_cl() { nsenter --net=/run/netns/"$TB_CL" "$@"; }
# tb_gwb CMD... - run CMD in gateway B's network namespace
tb_gwb() { nsenter --net=/run/netns/"$TB_GWB" "$@"; }
# tb_cs CMD... - run CMD in the CrowdSec LAPI's network namespace
tb_cs() { nsenter --net=/run/netns/"$TB_CS" "$@"; }

tb_down() {
	tb_names
	# Whatever still runs in the namespaces (listeners, clients) goes first.
	# Gateway B and LAPI's namespace go too, whatever TB_GATEWAYS and TB_LAPI say.
	for ns in "$TB_GW" "$TB_CL" "$TB_GWB" "$TB_CS"; do
		if [[ -e /run/netns/$ns ]]; then ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true; fi
	done
	for ns in "$TB_GW" "$TB_CL" "$TB_GWB" "$TB_CS"; do
		ip netns del "$ns" 2>/dev/null || true
	done
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
	tb_client_addr 2001:db8:1::10/64 || return 1
	if [[ $TB_GATEWAYS == 2 ]]; then tb_up_b || return 1; fi
	if [[ $TB_LAPI == 1 ]]; then tb_up_lapi || return 1; fi
	return 0
}

# tb_up_b - gateway B, and routes back to any client address on both gateways
tb_up_b() {
	ip netns add "$TB_GWB" || return 1
	ip link add "$TB_GWB_IF" netns "$TB_GWB" type veth peer name "$TB_CLB_IF" netns "$TB_CL" || return 1
	tb_gwb sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	tb_gwb ip addr add 198.18.2.1/24 dev "$TB_GWB_IF"
	tb_gwb ip addr add 2001:db8:3::1/64 dev "$TB_GWB_IF" nodad
	tb_gwb ip link set lo up
	tb_gwb ip link set "$TB_GWB_IF" up
	tb_cl ip addr add 198.18.2.10/24 dev "$TB_CLB_IF"
	tb_cl ip addr add 2001:db8:3::10/64 dev "$TB_CLB_IF" nodad
	tb_cl ip link set "$TB_CLB_IF" up
	tb_cl ethtool -K "$TB_CLB_IF" gro on >/dev/null 2>&1 || true
	tb_gw ip route add default via 198.18.0.10 || return 1
	tb_gw ip -6 route add default via 2001:db8:1::10 || return 1
	tb_gwb ip route add default via 198.18.2.10 || return 1
	tb_gwb ip -6 route add default via 2001:db8:3::10 || return 1
}

# tb_up_lapi - LAPI's namespace: 198.19.0.1, reached from each gateway by a link of its own
tb_up_lapi() {
	local gw n=1
	ip netns add "$TB_CS" || return 1
	tb_cs ip link set lo up
	tb_cs ip addr add "$TB_CS4"/32 dev lo
	for gw in a b; do
		[[ $gw == b && $TB_GATEWAYS != 2 ]] && break
		local ns=$TB_GW
		[[ $gw == b ]] && ns=$TB_GWB
		ip link add "${TB_P}l$gw" netns "$ns" type veth peer name "${TB_P}s$gw" netns "$TB_CS" || return 1
		nsenter --net=/run/netns/"$ns" ip addr add 198.19.$n.1/30 dev "${TB_P}l$gw"
		nsenter --net=/run/netns/"$ns" ip link set "${TB_P}l$gw" up
		tb_cs ip addr add 198.19.$n.2/30 dev "${TB_P}s$gw"
		tb_cs ip link set "${TB_P}s$gw" up
		nsenter --net=/run/netns/"$ns" ip route add "$TB_CS4"/32 via 198.19.$n.2 || return 1
		n=$((n + 1))
	done
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
	*) echo "usage: [TB_GATEWAYS=2] [TB_LAPI=1] $0 up|down [PREFIX]" >&2; exit 2 ;;
	esac
fi
