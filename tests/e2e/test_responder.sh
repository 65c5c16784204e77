#!/usr/bin/env bash
# NAME
#	test_responder.sh - what real SMTP clients read from the responder
# DESCRIPTION
#	swaks against a gateway whose Postfix is behind mxguard: over the
#	parallel limit it reads Postfix's 421 wording from mxguard's
#	responder; banned (in reply mode) it reads 554 5.7.1 with the reason
#	and the policy URL, and its QUIT gets 221. The responder survives a
#	slowloris and garbage, and the agent goes on answering.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pf_lib.sh"

C1=198.18.0.10
AGENT_ARGS=(--hostname mx.gw.test --policy-url https://gw.test/policy --ban-action reply --responder-timeout 3s)

# swaks_from SRC - a full SMTP transaction attempt; the transcript on stdout
swaks_from() {
	tb_cl timeout 20 swaks --server $TB_GW4 --local-interface "$1" --from a@client.test \
		--to postmaster@gw.test --timeout 10 2>&1
}

test_421_over_the_limit() {
	pf_start && agent_start "${AGENT_ARGS[@]}" || return 1
	ch_start 1 $C1 $TB_GW4 || return 1
	local out=$(ch_cmd 1 "open 15")
	[[ $out == *"220=15 "* ]] || fail "15 connects: $out" || return 1
	out=$(swaks_from $C1)
	grep -q "^<\*\* 421 4.7.0 mx.gw.test Error: too many connections from $C1" <<<"$out" ||
		fail "swaks did not read the 421: $out" || return 1
	ch_cmd 1 "close 1" >/dev/null
	wait_live $C1 14 || return 1
	out=$(swaks_from $C1)
	grep -q "^<-  220 gw.test ESMTP" <<<"$out" && grep -q "^<-  250 2.0.0 Ok: queued" <<<"$out" ||
		fail "with a free slot swaks did not deliver: $out"
}

test_554_banned_then_quit() {
	pf_start && agent_start "${AGENT_ARGS[@]}" || return 1
	mx ban add $C1 ttl 1h reason "spam trap hits" || return 1
	local out=$(swaks_from $C1)
	grep -q "^<\*\* 554 5.7.1 mx.gw.test spam trap hits; see https://gw.test/policy" <<<"$out" ||
		fail "swaks did not read the 554: $out" || return 1
	grep -q "^ -> QUIT" <<<"$out" && grep -q "^<-  221 2.0.0 mx.gw.test Bye" <<<"$out" ||
		fail "QUIT was not answered with 221: $out" || return 1
	(( $(mx -j stats | sed -n 's/.*"conn_banned":\([0-9]*\).*/\1/p') >= 1 )) ||
		fail "conn_banned did not count"
}

test_ban_in_reply_mode_ends_open_connections() {
	pf_start && agent_start "${AGENT_ARGS[@]}" || return 1
	ch_start 1 $C1 $TB_GW4 || return 1
	local out
	out=$(ch_cmd 1 "open 3")
	[[ $out == *"220=3 "* ]] || { fail "3 connects: $out"; return 1; }
	out=$(mx ban add $C1 reason "trap hits" 2>&1) || { fail "ban add: $out"; return 1; }
	[[ $out == *"ended 3 open connections"* ]] || { fail "open connections not ended: $out"; return 1; }
	tb_gw ss -Htn state established "( sport = :25 )" | grep -q "$C1" &&
		{ fail "a banned source still has a connection to Postfix"; return 1; }
	out=$(swaks_from $C1)
	grep -q "^<\*\* 554 5.7.1" <<<"$out" || fail "new connection not answered 554: $out"
}

test_503_to_anything_but_quit() {
	pf_start && agent_start "${AGENT_ARGS[@]}" || return 1
	mx ban add $C1 || return 1
	local out
	out=$(printf 'EHLO x\r\nMAIL FROM:<a@b>\r\nQUIT\r\n' |
		tb_cl timeout 10 nc -s $C1 $TB_GW4 25 | tr -d '\r')
	[[ $(sed -n 1p <<<"$out") == "554 5.7.1 mx.gw.test"* ]] || fail "no 554 first: $out" || return 1
	[[ $(sed -n 2p <<<"$out") == "503 5.5.1 "* && $(sed -n 3p <<<"$out") == "503 5.5.1 "* ]] ||
		fail "commands before QUIT not answered 503: $out" || return 1
	[[ $(sed -n 4p <<<"$out") == "221 2.0.0 mx.gw.test Bye" ]] || fail "QUIT: $out"
}

test_slowloris_and_garbage() {
	pf_start && agent_start "${AGENT_ARGS[@]}" || return 1
	mx ban add $C1 || return 1
	local start=$SECONDS out
	# One byte a second, never a full line: cut at the 3 s session limit.
	out=$( (for i in $(seq 1 15); do printf 'X'; sleep 1; done) |
		tb_cl timeout 20 nc -s $C1 $TB_GW4 25 | tr -d '\r')
	(( SECONDS - start <= 8 )) || fail "slowloris held the responder $((SECONDS - start)) s" || return 1
	[[ $out == "554 "* ]] || fail "slowloris: $out" || return 1
	# Binary garbage with NUL bytes, and a line far over 512 bytes.
	head -c 3000 /dev/urandom | tb_cl timeout 10 nc -s $C1 $TB_GW4 25 >/dev/null
	out=$(head -c 5000 /dev/zero | tr '\0' 'A' | tb_cl timeout 10 nc -s $C1 $TB_GW4 25 | tr -d '\r')
	grep -q "^500 5.5.2" <<<"$out" || fail "over-long line: $out" || return 1
	kill -0 "$AGENT_PID" || fail "the agent died" || return 1
	out=$(swaks_from $C1)
	grep -q "^<\*\* 554 5.7.1" <<<"$out" || fail "responder stopped answering: $out"
}

run_tests
