#!/usr/bin/env bash
# NAME
#	test_cookie.sh - the parallel-connection limit when the listener sends SYN cookies
# DESCRIPTION
#	A listener in cookie mode (net.ipv4.tcp_syncookies = 2 in the
#	gateway's namespace, or a full SYN queue) keeps nothing for a
#	connection until its final ACK, which may come up to two minutes
#	after the SYN-ACK. The limit must hold however late it comes: at most
#	15 connections from one source reach Postfix, the others read the
#	responder's 421. lateack (tests/tools/lateack.c) sends the final ACKs
#	3.5 s late from a raw socket, after the agent has released the SYNs'
#	pending entries; the client kernel's own resets for those flows are
#	dropped in the client namespace (nft), lateack's pass by their mark.
#	connhold (real kernel clients) checks a prompt burst in cookie mode,
#	synflood sends bogus ACKs that must take no slot.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pf_lib.sh"

C1=198.18.0.10
C6=2001:db8:1::10
MARK=0x4c41
LA_PID=

# cookies_on - the gateway's listeners answer every SYN with a cookie
cookies_on() { tb_gw sysctl -qw net.ipv4.tcp_syncookies=2; }

# cookies_sent - TcpExtSyncookiesSent of the gateway's namespace
cookies_sent() {
	tb_gw awk '$1 == "TcpExt:" { if (!n) { for (i = 2; i <= NF; i++) if ($i == "SyncookiesSent") n = i }
		else print $n }' /proc/net/netstat
}

# judge_is N [SECONDS] - until the agent says the ACK judge is (1) or is not (0) attached
judge_is() {
	local got
	for _ in $(seq 1 $((${2:-5} * 10))); do
		got=$(counter_of conn_cookie_judge)
		[[ $got == "$1" ]] && return 0
		sleep 0.1
	done
	fail "conn_cookie_judge is $got, expected $1"
}

# quiet_client_resets - the client kernel knows nothing of lateack's flows:
# keep its resets from reaching the gateway (lateack's own carry MARK)
quiet_client_resets() {
	tb_cl nft -f - <<NFT || fail "nft rule failed"
table inet lateack {
	chain out {
		type filter hook output priority 0;
		tcp dport 25 tcp flags & rst == rst meta mark != $MARK drop
	}
}
NFT
}

# late SRC DST N - N handshakes from SRC whose final ACKs come 3.5 s after
# the SYN-ACKs; lateack's result line in LA_OUT. The flows stay open until
# late_end (so not in a subshell: its end would end them).
late() {
	rm -f "$E2E_DIR/la.in" "$E2E_DIR/la.out"
	mkfifo "$E2E_DIR/la.in"
	tb_cl "$BUILD/tests/lateack" -s "$1" -d "$2" -n "$3" -a 3500 -w 3000 -m $MARK \
		<"$E2E_DIR/la.in" >"$E2E_DIR/la.out" 2>&1 &
	LA_PID=$!
	exec {LA_W}>"$E2E_DIR/la.in"
	for _ in $(seq 1 150); do
		grep -q "^late \|lateack:" "$E2E_DIR/la.out" && break
		sleep 0.1
	done
	LA_OUT=$(cat "$E2E_DIR/la.out")
}

# late_end - lateack resets its flows and exits
late_end() {
	[[ -n $LA_PID ]] || return 0
	exec {LA_W}>&-
	wait "$LA_PID" 2>/dev/null
	LA_PID=
}

eval "pf_$(declare -f cleanup)"
cleanup() {
	late_end
	pf_cleanup
}

# late_acks SRC DST KEY - the issue's case: 25 handshakes, final ACKs 3.5 s
# late: exactly 15 reach Postfix, 10 read 421, and the counts stay exact.
# KEY is the source as counted (IPv6 sources count per /64).
late_acks() {
	local src=$1 dst=$2 key=$3
	cookies_on
	pf_start && agent_start || return 1
	judge_is 1 || return 1
	quiet_client_resets || return 1
	late "$src" "$dst" 25
	[[ $LA_OUT == *"synack=25 220=15 421=10 "* ]] || fail "25 late final ACKs from $src: $LA_OUT" || return 1
	wait_live "$key" 15 || return 1
	[[ $(counter_of conn_cookie_admitted) == 15 && $(counter_of conn_cookie_over_limit) == 10 ]] ||
		fail "cookie ACKs admitted $(counter_of conn_cookie_admitted)," \
			"over the limit $(counter_of conn_cookie_over_limit)" || return 1
	[[ $(counter_of conn_late) == 0 ]] || fail "conn_late $(counter_of conn_late)" || return 1
	late_end
	wait_live "$key" 0 || return 1
	no_corrections
}

test_late_final_acks_ipv4() {
	late_acks $C1 $TB_GW4 $C1
}

test_late_final_acks_ipv6() {
	late_acks $C6 $TB_GW6 2001:db8:1::/64
}

# The usual burst from real kernel clients, whose ACKs come at once.
test_burst_with_cookies() {
	cookies_on
	pf_start && agent_start || return 1
	judge_is 1 || return 1
	local out
	ch_start 1 $C1 $TB_GW4 || return 1
	out=$(ch_cmd 1 "open 20")
	[[ $out == *"220=15 421=5 "* ]] || fail "burst of 20: $out" || return 1
	wait_live $C1 15 || return 1
	out=$(ch_cmd 1 "close 5")
	wait_live $C1 10 || return 1
	out=$(ch_cmd 1 "open 6")
	[[ $out == *"220=5 421=1 "* ]] || fail "after closing 5, 6 more: $out" || return 1
	wait_live $C1 15 || return 1
	ch_kill 1
	wait_live $C1 0 || return 1
	[[ $(counter_of conn_late) == 0 ]] || fail "conn_late $(counter_of conn_late)" || return 1
	no_corrections
}

# ACKs that carry no valid cookie (spoofed, stray) never take a slot.
test_bogus_acks_take_no_slot() {
	cookies_on
	pf_start && agent_start || return 1
	judge_is 1 || return 1
	local out mac
	mac=$(ip -n "$TB_GW" -br link show "$TB_GW_IF" | awk '{print $3}')
	tb_cl "$BUILD/tests/synflood" -i "$TB_CL_IF" -d "$mac" -t $TB_GW4 -s $C1 -n 1 -c 5000 -f ack \
		>/dev/null || fail "synflood failed" || return 1
	tb_cl "$BUILD/tests/synflood" -i "$TB_CL_IF" -d "$mac" -t $TB_GW4 -s 198.18.0.20 -n 200 -c 5000 \
		-f ack >/dev/null || fail "synflood failed" || return 1
	sleep 0.5
	[[ $(counter_of conn_cookie_admitted) == 0 && $(counter_of conn_cookie_over_limit) == 0 ]] ||
		fail "bogus ACKs judged as cookies: admitted $(counter_of conn_cookie_admitted)," \
			"over $(counter_of conn_cookie_over_limit)" || return 1
	[[ -z $(live $C1) ]] || fail "bogus ACKs hold $(live $C1) slots" || return 1
	ch_start 1 $C1 $TB_GW4 || return 1
	out=$(ch_cmd 1 "open 20")
	[[ $out == *"220=15 421=5 "* ]] || fail "after 10,000 bogus ACKs, a burst of 20: $out" || return 1
	ch_kill 1
	wait_live $C1 0 || return 1
	no_corrections
}

# The judge is attached only while cookies are sent, survives a crash of
# the agent (pinned), and goes with a normal stop.
test_judge_follows_cookie_mode() {
	local pin=$PIN_DIR/link_cookie id
	pf_start && agent_start || return 1
	sleep 1.5
	judge_is 0 1 || return 1
	[[ ! -e $pin ]] || fail "judge pinned without cookies" || return 1
	cookies_on
	judge_is 1 3 || return 1
	id=$(bpftool -j link show pinned "$pin" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
	[[ -n $id ]] || fail "no pinned judge link" || return 1
	agent_stop KILL
	bpftool link show id "$id" >/dev/null 2>&1 || fail "the judge went with a crashed agent" || return 1
	agent_start || return 1
	judge_is 1 1 || return 1
	grep -q "cannot update the pinned link $pin" "$AGENT_LOG" && fail "the pinned judge was not adopted" &&
		return 1
	tb_gw sysctl -qw net.ipv4.tcp_syncookies=1
	judge_is 0 3 || return 1
	[[ ! -e $pin ]] || fail "pin left after detaching" || return 1
	bpftool link show id "$id" >/dev/null 2>&1 && fail "the judge's link outlived its detach" && return 1
	cookies_on
	judge_is 1 3 || return 1
	id=$(bpftool -j link show pinned "$pin" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
	agent_stop
	[[ ! -e $pin ]] || fail "pin left after a normal stop" || return 1
	bpftool link show id "$id" >/dev/null 2>&1 && fail "the judge stayed after a normal stop" && return 1
	return 0
}

# The kernel sends cookies by itself when a listener's SYN queue is full
# (tcp_syncookies = 1): the agent sees SyncookiesSent rise and attaches.
test_judge_attaches_when_the_kernel_sends_cookies() {
	# A short SYN queue (fixed when Postfix listens).
	tb_gw sysctl -qw net.ipv4.tcp_max_syn_backlog=16 net.core.somaxconn=16
	pf_start && agent_start || return 1
	tb_gw ip route add 198.18.2.0/24 via $C1
	mx limit set default prefix-burst 1000000 && mx limit set default prefix-rate 1000000/s &&
		mx limit set default prefix-parallel 1000000 || return 1
	sleep 1.5
	judge_is 0 1 || return 1
	local mac
	mac=$(ip -n "$TB_GW" -br link show "$TB_GW_IF" | awk '{print $3}')
	tb_cl "$BUILD/tests/synflood" -i "$TB_CL_IF" -d "$mac" -t $TB_GW4 -s 198.18.2.1 -n 250 -c 2000 \
		>/dev/null || fail "synflood failed" || return 1
	(($(cookies_sent) > 0)) || fail "the listener sent no cookies" || return 1
	judge_is 1 3 || return 1
	grep -q "the kernel sends SYN cookies" "$AGENT_LOG" || fail "the agent did not say why"
}

preflight_cookie() {
	for t in lateack connhold synflood; do
		[[ -x $BUILD/tests/$t ]] || { echo "FAIL preflight: $BUILD/tests/$t missing (make test builds it)"; exit 1; }
	done
	for cmd in nft bpftool; do
		command -v $cmd >/dev/null || { echo "FAIL preflight: $cmd is needed (make deps)"; exit 1; }
	done
}

preflight_cookie
run_tests
