#!/usr/bin/env bash
# NAME
#	attack_lib.sh - spoofed floods and a probe of the agent, for tests and bench
# DESCRIPTION
#	Sourced after scripts/testbed.sh (tb_names done) with these set:
#	BUILD (the build directory), ATTACK_SOCK (the agent's control
#	socket), ATTACK_POLICY (its policy socket), ATTACK_LOG (where probe
#	writes its verdict).
#
#	attack_routes	routes the test ranges back into the client namespace,
#			where the gateway's SYN-ACKs to spoofed sources die
#	flood ARGS	tests/tools/synflood from the client namespace (its
#			options; the destination follows -s's family)
#	probe SECONDS	asks the control socket, the metrics endpoint and the
#			policy service in turn, every 20 ms, for SECONDS, from one
#			process (tests/tools/probe.py: no program started per
#			request); writes the slowest answer in ms (or why one
#			failed) to ATTACK_LOG, the 99th percentile to ATTACK_LOG.p99

attack_routes() {
	tb_gw ip route add 198.18.0.0/15 via 198.18.0.10 2>/dev/null
	tb_gw ip -6 route add 2001:db8::/32 via 2001:db8:1::10 2>/dev/null
	return 0
}

# gw_mac - the gateway interface's MAC address
gw_mac() { ip -n "$TB_GW" -br link show "$TB_GW_IF" | awk '{print $3}'; }

flood() {
	local dst=$TB_GW4
	[[ $* == *"-s 2001:"* ]] && dst=$TB_GW6
	tb_cl "$BUILD/tests/synflood" -i "$TB_CL_IF" -d "$(gw_mac)" -t $dst "$@"
}

# ms - milliseconds since the epoch
ms() { echo $(($(date +%s%N) / 1000000)); }

PROBE_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/tools/probe.py

probe() {
	local out
	out=$(tb_gw python3 "$PROBE_PY" "$1" "$ATTACK_SOCK" "$ATTACK_POLICY" 2>&1)
	if [[ $out =~ ^worst\ ([0-9]+)\ p99\ ([0-9]+) ]]; then
		echo "${BASH_REMATCH[1]}" >"$ATTACK_LOG"
		echo "${BASH_REMATCH[2]}" >"$ATTACK_LOG.p99"
		return 0
	fi
	echo "${out:-the probe said nothing}" >"$ATTACK_LOG"
	return 1
}
