#!/usr/bin/env bash
# NAME
#	test_dataplane.sh - mxguard on a real veth, real TCP, real CLI
# DESCRIPTION
#	mxguardd attached natively to the gateway's interface in a
#	namespace test bed, a TCP listener on port 25 behind it, clients
#	connecting from their own source addresses.

source "$(dirname "$0")/lib.sh"

C1=198.18.0.10
C2=198.18.0.20
C6=2001:db8:1::10

test_attach_native() {
	agent_start --mode native || return 1
	mx prog show | grep -q "mode *native" || fail "prog show does not say native: $(mx prog show)" || return 1
	tb_gw ip -d link show "$TB_GW_IF" | grep -q "prog/xdp" || fail "no XDP program on $TB_GW_IF" || return 1
	[[ -e $PIN_DIR/ban4 && -e $PIN_DIR/stats ]] || fail "maps not pinned under $PIN_DIR" || return 1
	agent_stop TERM
	tb_gw ip -d link show "$TB_GW_IF" | grep -q "prog/xdp" && { fail "XDP program left on $TB_GW_IF after SIGTERM"; return 1; }
	[[ ! -e $PIN_DIR ]] || fail "$PIN_DIR left after SIGTERM"
}

test_ban_blocks_and_del_lets_in() {
	tb_client_addr $C2/24
	listen_smtp && agent_start --mode native || return 1
	connects $C1 $TB_GW4 || fail "unbanned client cannot connect before the ban" || return 1
	mx ban add $C1 ttl 10m reason "test ban" || fail "ban add failed" || return 1
	local before=$(counter drop_banned)
	connects $C1 $TB_GW4 && { fail "banned client still connects"; return 1; }
	local after=$(counter drop_banned)
	(( after > before )) || fail "drop_banned did not rise ($before -> $after)" || return 1
	connects $C2 $TB_GW4 || fail "an unbanned client cannot connect while $C1 is banned" || return 1
	mx ban del $C1 || fail "ban del failed" || return 1
	connects $C1 $TB_GW4 || fail "client cannot connect after ban del"
}

test_ban_ipv6_prefix() {
	tb_client_addr 2001:db8:1::99/64
	listen_smtp && agent_start --mode native || return 1
	connects $C6 $TB_GW6 || fail "IPv6 client cannot connect before the ban" || return 1
	mx ban add 2001:db8:1::/64 permanent || fail "ban add failed" || return 1
	connects $C6 $TB_GW6 && { fail "client in a banned /64 still connects"; return 1; }
	connects 2001:db8:1::99 $TB_GW6 && { fail "second client in the banned /64 connects"; return 1; }
	connects $C1 $TB_GW4 || fail "IPv4 client hit by an IPv6 ban" || return 1
	mx ban del 2001:db8:1::/64 && connects $C6 $TB_GW6 || fail "no connect after ban del"
}

test_allow_beats_ban() {
	listen_smtp && agent_start --mode native || return 1
	mx ban add 198.18.0.0/24 || return 1
	connects $C1 $TB_GW4 && { fail "client in banned /24 connects"; return 1; }
	mx allow add $C1 || fail "allow add failed" || return 1
	connects $C1 $TB_GW4 || fail "allowlisted client blocked by a prefix ban" || return 1
	(( $(counter pass_allowlisted) > 0 )) || fail "pass_allowlisted did not count"
}

test_syn_rate_limit() {
	listen_smtp && agent_start --mode native || return 1
	mx limit set default burst 3 && mx limit set default rate 1/h || fail "limit set failed" || return 1
	for i in 1 2 3; do
		connects $C1 $TB_GW4 || fail "connect $i of a burst of 3 refused" || return 1
	done
	connects $C1 $TB_GW4 && { fail "4th connect in a burst of 3 got through"; return 1; }
	(( $(counter drop_source_rate) > 0 )) || fail "drop_source_rate did not count" || return 1
	tb_client_addr $C2/24
	connects $C2 $TB_GW4 || fail "another source was limited by $C1's bucket"
}

test_bad_input_changes_nothing() {
	agent_start --mode native || return 1
	mx ban add 198.18.3.0/24 ttl 1h reason keep || return 1
	local before=$(mx -j ban list) out rc
	local bad=(
		"ban add 198.18.3.1/24"
		"ban add 198.18.0.300"
		"ban add 198.18.0.1/33"
		"ban add 2001:db8::1/129"
		"ban add 198.18.0.1 ttl 0"
		"ban add 198.18.0.1 ttl forever"
		"ban add 198.18.0.1 bogus"
		"ban del 198.18.9.9"
		"ban frobnicate"
		"frobnicate list"
		"limit set default rate 0/min"
		"limit set default burst 0"
		"limit set default burst 99999999999"
		"limit set 16 burst 3"
		"limit set default colour blue"
		"allow add ::ffff:zz"
	)
	for args in "${bad[@]}"; do
		out=$(mx $args 2>&1); rc=$?
		[[ $rc != 0 ]] || fail "'mxguard $args' succeeded" || return 1
		[[ $(wc -l <<<"$out") == 1 && $out == Error:* ]] || fail "'mxguard $args' said: $out" || return 1
	done
	out=$(mx -j ban add nonsense); [[ $out == '{"error":'* ]] || fail "JSON error expected, got $out" || return 1
	[[ $(mx -j ban list) == "$before" ]] || fail "the ban table changed after bad input" || return 1
	mx -j limit show default | grep -q '"burst":30' || fail "limits changed after bad input"
}

test_control_socket_survives_garbage() {
	agent_start --mode native || return 1
	mx ban add $C1 || return 1
	printf 'garbage' | timeout 10 socat - UNIX-CONNECT:"$SOCK" >/dev/null 2>&1
	head -c 200000 /dev/urandom | timeout 10 socat - UNIX-CONNECT:"$SOCK" >/dev/null 2>&1
	printf '\xff\xff\xff\x7fplain' | timeout 10 socat - UNIX-CONNECT:"$SOCK" >/dev/null 2>&1
	printf '\x0a\x00\x00\x00shout\x00ban\x00' | timeout 10 socat - UNIX-CONNECT:"$SOCK" >/dev/null 2>&1
	out=$(printf '\x05\x00\x00\x00plain' | timeout 10 socat - UNIX-CONNECT:"$SOCK" 2>/dev/null | tr -d '\0')
	[[ $out == *"malformed request"* ]] || fail "no error for a request without NUL: '$out'" || return 1
	kill -0 "$AGENT_PID" || fail "agent died on garbage" || return 1
	mx ban show $C1 | grep -q "$C1" || fail "ban lost after garbage on the socket" || return 1
	# A command too large to send is refused at once, not after the agent's timeout.
	local t0=$(date +%s%N)
	out=$(mx ban add 198.18.0.99 reason "$(head -c 70000 /dev/zero | tr '\0' a)" 2>&1)
	[[ $? == 1 && $out == "Error: the command is too large"* ]] || fail "70,000 bytes: '$out'" || return 1
	(( ($(date +%s%N) - t0) / 1000000 < 1000 )) || fail "the size error took $(( ($(date +%s%N) - t0) / 1000000 )) ms" || return 1
	# A reason that is not UTF-8 is refused; -j output stays JSON.
	out=$(mx -j ban add 198.18.0.98 reason $'caf\xc3' 2>&1)
	[[ $out == '{"error":"reason is not valid UTF-8"}' ]] || fail "bad UTF-8 reason: '$out'" || return 1
	mx ban add 198.18.0.98 reason "café ☕" || return 1
	mx -j ban list | python3 -c 'import json,sys; assert any(b["reason"] == "café ☕" for b in json.load(sys.stdin))' ||
		fail "a UTF-8 reason does not come back as JSON" || return 1
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/mxguard" -s "$SOCK" ban list 2>&1)
	[[ $? == 2 && $out == *"ermission denied"* ]] || fail "non-root client was not refused: $out"
}

test_control_socket_never_blocks() {
	agent_start --mode native || return 1
	local i pids=() start out
	# Silent clients: they connect and say nothing.
	for i in 1 2 3; do
		sleep 8 | timeout 8 socat - UNIX-CONNECT:"$SOCK" >/dev/null 2>&1 &
		pids+=($!)
	done
	sleep 0.3
	start=$(date +%s%N)
	mx ban list >/dev/null || { fail "ban list failed beside silent clients"; return 1; }
	(( ($(date +%s%N) - start) / 1000000 < 1000 )) ||
		{ fail "a silent client held the agent $(( ($(date +%s%N) - start) / 1000000 )) ms"; return 1; }
	# More than eight at once: the extra ones are told so.
	for i in 4 5 6 7 8 9; do
		sleep 8 | timeout 8 socat - UNIX-CONNECT:"$SOCK" >/dev/null 2>&1 &
		pids+=($!)
	done
	sleep 0.3
	out=$(mx ban list 2>&1) && { fail "a ninth client was served"; return 1; }
	[[ $out == *"too many control clients"* ]] || { fail "ninth client: $out"; return 1; }
	# Their time runs out; the agent serves again.
	sleep 5.5
	mx ban list >/dev/null || fail "not served after the silent clients timed out"
	kill "${pids[@]}" 2>/dev/null
	return 0
}

test_keep_then_detach() {
	listen_smtp && agent_start --mode native --keep || return 1
	mx ban add $C1 || return 1
	agent_stop TERM
	tb_gw ip -d link show "$TB_GW_IF" | grep -q "prog/xdp" || fail "--keep did not keep the program" || return 1
	connects $C1 $TB_GW4 && { fail "ban not enforced after the agent left with --keep"; return 1; }
	tb_gw "$BUILD/mxguardd" --detach --interface "$TB_GW_IF" --pin-dir "$PIN_DIR" >/dev/null 2>&1 ||
		fail "--detach failed" || return 1
	tb_gw ip -d link show "$TB_GW_IF" | grep -q "prog/xdp" && { fail "--detach left the program"; return 1; }
	[[ ! -e $PIN_DIR ]] || fail "--detach left $PIN_DIR" || return 1
	connects $C1 $TB_GW4 || fail "no connect after --detach"
}

run_tests
