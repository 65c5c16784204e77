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
#			policy service in turn, every 20 ms, for SECONDS; writes
#			the slowest answer in ms (or why one failed) to ATTACK_LOG

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

probe() {
	local end=$(($(ms) + $1 * 1000)) worst=0 t0 t q
	q='request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=198.18.0.10\nsender=a@client.test\nrecipient=user@gw.test\n\n'
	while (($(ms) < end)); do
		t0=$(ms)
		"$BUILD/mxguard" -s "$ATTACK_SOCK" -j stats >/dev/null ||
			{ echo "stats failed" >"$ATTACK_LOG"; return 1; }
		t=$(($(ms) - t0)); ((t > worst)) && worst=$t
		t0=$(ms)
		tb_gw curl -sf -m 5 -o /dev/null http://127.0.0.1:9489/metrics ||
			{ echo "metrics failed" >"$ATTACK_LOG"; return 1; }
		t=$(($(ms) - t0)); ((t > worst)) && worst=$t
		t0=$(ms)
		[[ $(printf "$q" | timeout 5 socat -t2 - UNIX-CONNECT:"$ATTACK_POLICY") == action=DUNNO ]] ||
			{ echo "policy failed" >"$ATTACK_LOG"; return 1; }
		t=$(($(ms) - t0)); ((t > worst)) && worst=$t
		sleep 0.02
	done
	echo "$worst" >"$ATTACK_LOG"
}
