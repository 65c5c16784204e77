#!/usr/bin/env bash
# NAME
#	test_parallel.sh - the parallel-connection limit against a real Postfix
# DESCRIPTION
#	Postfix listens on port 25 in the gateway's namespace; mxguardd is
#	attached to the gateway's interface with its sk_lookup and sock_ops
#	programs; connhold (tests/tools/connhold.c) opens connections in
#	bursts from the client namespace and holds them. Limits are the
#	defaults (15 per source) unless a test sets them.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pf_lib.sh"

C1=198.18.0.10
C6=2001:db8:1::10

# burst SRC DST KEY - 20 at once from SRC: exactly 15 banners, 5 x 421;
# close 5, 5 more get in; the 16th gets 421; SIGKILL frees all. KEY is
# the source as counted (IPv6 sources count per /64).
burst() {
	local src=$1 dst=$2 key=$3 out
	ch_start 1 "$src" "$dst" || return 1
	out=$(ch_cmd 1 "open 20")
	[[ $out == *"220=15 421=5 "* ]] || fail "burst of 20 from $src: $out" || return 1
	wait_live "$key" 15 || return 1
	out=$(ch_cmd 1 "close 5")
	wait_live "$key" 10 || return 1
	out=$(ch_cmd 1 "open 5")
	[[ $out == *"220=5 421=0 "* ]] || fail "after closing 5, 5 more: $out" || return 1
	wait_live "$key" 15 || return 1
	out=$(ch_cmd 1 "open 1")
	[[ $out == *"421=1 "* ]] || fail "the 16th connection: $out" || return 1
	ch_kill 1
	wait_live "$key" 0 || return 1
	no_corrections
}

test_burst_ipv4() {
	pf_start && agent_start || return 1
	burst $C1 $TB_GW4 $C1
}

test_burst_ipv6() {
	pf_start && agent_start || return 1
	burst $C6 $TB_GW6 2001:db8:1::/64
}

test_halfopen_storm_gives_slots_back() {
	# Request sockets die after two SYN-ACK retransmissions (about 7 s).
	tb_gw sysctl -qw net.ipv4.tcp_synack_retries=2
	pf_start && agent_start || return 1
	# 55 SYNs from one source: out of the way of the new-connection limit.
	mx limit set default burst 1000 || return 1
	# The client's ACKs never leave: no handshake completes.
	tb_cl nft -f - <<'NFT' || fail "nft rule failed" || return 1
table inet storm {
	chain out {
		type filter hook output priority 0;
		tcp dport 25 tcp flags & (syn | ack) == ack drop
	}
}
NFT
	ch_start 1 $C1 $TB_GW4 1000 || return 1
	local out
	out=$(ch_cmd 1 "open 40")
	[[ $out == *"220=0 "* ]] || fail "a handshake completed: $out" || return 1
	# While their request sockets live, half-open connections hold slots...
	sleep 2
	local n=$(live $C1)
	[[ $n == 15 ]] || fail "half-open connections hold $n slots, expected 15 (the limit)" || return 1
	# ...and give them back when the kernel drops them.
	wait_live $C1 0 20 || return 1
	(( $(counter_of conn_halfopen_released) >= 15 )) ||
		fail "half-open releases not counted: $(counter_of conn_halfopen_released)" || return 1
	tb_cl nft delete table inet storm
	ch_start 2 $C1 $TB_GW4 || return 1
	out=$(ch_cmd 2 "open 15")
	[[ $out == *"220=15 "* ]] || fail "after the storm, 15 connects: $out" || return 1
	ch_kill 1
	ch_kill 2
	wait_live $C1 0 || return 1
	no_corrections
}

test_resets_and_idle_timeouts_give_slots_back() {
	PF_SMTPD_TIMEOUT=3s pf_start && agent_start || return 1
	ch_start 1 $C1 $TB_GW4 || return 1
	local out
	out=$(ch_cmd 1 "open 15")
	[[ $out == *"220=15 "* ]] || fail "15 connects: $out" || return 1
	out=$(ch_cmd 1 "reset 10")
	wait_live $C1 5 || return 1
	# Postfix drops idle sessions after smtpd_timeout: the MTA closes first.
	wait_live $C1 0 15 || return 1
	out=$(ch_cmd 1 "open 15")
	[[ $out == *"220=15 "* ]] || fail "after resets and timeouts, 15 connects: $out" || return 1
	ch_kill 1
	wait_live $C1 0 || return 1
	no_corrections
}

test_prefix_limit_across_sources() {
	tb_client_addr 198.18.0.11/24
	tb_client_addr 198.18.0.12/24
	tb_client_addr 198.18.1.13/24
	pf_start && agent_start || return 1
	mx limit set default prefix-parallel 10 || return 1
	local out
	ch_start 1 198.18.0.10 $TB_GW4 && ch_start 2 198.18.0.11 $TB_GW4 &&
		ch_start 3 198.18.0.12 $TB_GW4 && ch_start 4 198.18.1.13 $TB_GW4 || return 1
	out=$(ch_cmd 1 "open 5"); [[ $out == *"220=5 "* ]] || fail "source 1: $out" || return 1
	out=$(ch_cmd 2 "open 5"); [[ $out == *"220=5 "* ]] || fail "source 2: $out" || return 1
	out=$(ch_cmd 3 "open 5")
	[[ $out == *"220=0 421=5 "* ]] || fail "third source in a full /24: $out" || return 1
	out=$(ch_cmd 4 "open 5")
	[[ $out == *"220=5 "* ]] || fail "a source in another /24: $out" || return 1
	mx conn show 198.18.0.0/24 | grep -q "198.18.0.0/24 *prefix *10" ||
		fail "conn show: $(mx conn show)" || return 1
	out=$(ch_cmd 1 "close 5")
	wait_live 198.18.0.0/24 5 || return 1
	out=$(ch_cmd 3 "open 5"); [[ $out == *"220=5 "* ]] || fail "after room was made: $out" || return 1
	for i in 1 2 3 4; do ch_kill $i; done
	wait_live 198.18.0.11 0 && wait_live 198.18.0.12 0 || return 1
	no_corrections
}

test_retransmitted_syn_counted_once() {
	pf_start && agent_start || return 1
	# The first SYN-ACKs are lost: the client retransmits its SYN.
	tb_cl nft -f - <<'NFT' || fail "nft rule failed" || return 1
table inet lossy {
	chain in {
		type filter hook input priority 0;
		tcp sport 25 tcp flags & (syn | ack) == syn | ack drop
	}
}
NFT
	( sleep 1.5; tb_cl nft delete table inet lossy ) &
	ch_start 1 $C1 $TB_GW4 8000 || return 1
	local out
	out=$(ch_cmd 1 "open 1")
	[[ $out == *"220=1 "* ]] || fail "connect through lost SYN-ACKs: $out" || return 1
	(( $(counter_of pass_within_limits) >= 2 )) || fail "the SYN was not retransmitted" || return 1
	[[ $(live $C1) == 1 ]] || fail "one connection counted as $(live $C1)" || return 1
	[[ $(counter_of conn_admitted) == 1 ]] || fail "conn_admitted $(counter_of conn_admitted)" || return 1
	ch_kill 1
	wait_live $C1 0 || return 1
	no_corrections
}

test_allowlisted_not_limited() {
	pf_start && agent_start || return 1
	mx allow add 198.18.0.0/24 || return 1
	ch_start 1 $C1 $TB_GW4 || return 1
	local out
	out=$(ch_cmd 1 "open 25")
	[[ $out == *"220=25 "* ]] || fail "allowlisted source limited: $out" || return 1
	[[ -z $(live $C1) ]] || fail "allowlisted connections counted: $(live $C1)"
}

test_connections_open_before_start_count() {
	pf_start || return 1
	ch_start 1 $C1 $TB_GW4 || return 1
	local out
	out=$(ch_cmd 1 "open 10")
	[[ $out == *"220=10 "* ]] || fail "10 connects without mxguard: $out" || return 1
	agent_start || return 1
	wait_live $C1 10 || return 1
	out=$(ch_cmd 1 "open 10")
	[[ $out == *"220=5 421=5 "* ]] || fail "10 more on top of 10 open: $out" || return 1
	out=$(ch_cmd 1 "close 15")
	wait_live $C1 0 || return 1
	[[ $(counter_of conn_adopted) == 10 && $(counter_of conn_adopted_closed) == 10 ]] ||
		fail "adopted $(counter_of conn_adopted), closed $(counter_of conn_adopted_closed)" || return 1
	no_corrections
}

test_stray_segments_take_no_slot() {
	# connrate aborts each connection with a reset right after the
	# handshake: late segments of closed connections reach no socket, and
	# sk_lookup runs for them too. Only SYNs may be counted.
	nsenter --net=/run/netns/"$TB_GW" "$BUILD/tests/connrate" serve $TB_GW4 25 &
	LISTENERS+=" $!"
	agent_start || return 1
	for k in "burst 1000000" "rate 1000000/s" "prefix-burst 1000000" "prefix-rate 1000000/s" \
		 "parallel 1000000" "prefix-parallel 1000000"; do
		mx limit set default $k || return 1
	done
	sleep 0.3
	tb_cl "$BUILD/tests/connrate" run $C1 $TB_GW4 25 5000 64 >/dev/null || { fail "connrate failed"; return 1; }
	# Each connection is counted once: at its SYN, or (when another SYN of
	# the same receive batch took its note's slot, rarely) at its handshake.
	local syns=$(counter_of pass_within_limits) admitted=$(counter_of conn_admitted)
	local late=$(counter_of conn_late)
	[[ $syns == 5000 && $((admitted + late)) == 5000 ]] ||
		{ fail "5000 connects: $syns SYNs passed, $admitted + $late connections counted"; return 1; }
	wait_live $C1 0 || return 1
	sleep 2.5	# a sweep: a stray segment's pending entry would be released now
	[[ $(counter_of conn_halfopen_released) == 0 ]] ||
		{ fail "$(counter_of conn_halfopen_released) slots were taken by stray segments"; return 1; }
	no_corrections
}

test_over_limit_drop_mode() {
	pf_start && agent_start --over-limit drop || return 1
	ch_start 1 $C1 $TB_GW4 1500 || return 1
	local out
	out=$(ch_cmd 1 "open 15")
	[[ $out == *"220=15 "* ]] || fail "15 connects: $out" || return 1
	wait_live $C1 15 || return 1
	# At the limit the SYN is dropped at XDP: the client times out, no 421.
	out=$(ch_cmd 1 "open 3")
	[[ $out == *"220=0 421=0 554=0 timeout=3 "* ]] || fail "over the limit in drop mode: $out" || return 1
	(( $(counter_of drop_parallel) >= 3 )) || fail "drop_parallel: $(counter_of drop_parallel)" || return 1
	out=$(ch_cmd 1 "close 2")
	wait_live $C1 13 || return 1
	out=$(ch_cmd 1 "open 2")
	[[ $out == *"220=2 "* ]] || fail "after closing 2: $out" || return 1
	ch_kill 1
	wait_live $C1 0 || return 1
	no_corrections
}

run_tests
