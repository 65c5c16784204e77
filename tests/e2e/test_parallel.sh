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

# live SRC - the live count of a source as conn show reports it
live() {
	mx -j conn show "$1" | tr '{' '\n' | grep "\"prefix\":\"$1\"" |
		sed -n 's/.*"live":\([0-9]*\).*/\1/p'
}

# wait_live SRC N [SECONDS] - until the source's live count is N
wait_live() {
	local got
	for _ in $(seq 1 $((${3:-10} * 10))); do
		got=$(live "$1"); got=${got:-0}
		[[ $got == "$2" ]] && return 0
		sleep 0.1
	done
	fail "live count of $1 is $got, expected $2"
}

# no_corrections - reconciliation never had to fix a count
no_corrections() {
	local n
	n=$(mx -j stats | sed -n 's/.*"conn_corrections":\([0-9]*\).*/\1/p')
	[[ $n == 0 ]] || fail "reconciliation corrected $n counts"
}

# burst SRC DST KEY - 20 at once from SRC: exactly 15 banners, 5 x 421;
# close 5, 5 more get in; the 16th gets 421; SIGKILL frees all. KEY is
# the source as counted (IPv6 sources count per /64).
burst() {
	local src=$1 dst=$2 key=$3 out
	ch_start "$src" "$dst" || return 1
	out=$(ch_cmd "open 20")
	[[ $out == *"220=15 421=5 "* ]] || fail "burst of 20 from $src: $out" || return 1
	wait_live "$key" 15 || return 1
	out=$(ch_cmd "close 5")
	wait_live "$key" 10 || return 1
	out=$(ch_cmd "open 5")
	[[ $out == *"220=5 421=0 "* ]] || fail "after closing 5, 5 more: $out" || return 1
	wait_live "$key" 15 || return 1
	out=$(ch_cmd "open 1")
	[[ $out == *"421=1 "* ]] || fail "the 16th connection: $out" || return 1
	ch_kill
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

run_tests
