#!/usr/bin/env bash
# NAME
#	test_crowdsec.sh - a fleet of two gateways shares its bans through CrowdSec's LAPI
# DESCRIPTION
#	Two gateways, A (198.18.0.1, 2001:db8:1::1) and B (198.18.2.1,
#	2001:db8:3::1), each with an agent of its own, and one real CrowdSec
#	Local API (Debian's crowdsec 1.4.6 alone, with its own SQLite
#	database) in a namespace both reach (tests/e2e/cs_lib.sh). Each
#	agent is a bouncer (polls LAPI every 2 s, crowdsec_poll, with a key
#	of its own) and a machine (pushes the bans it decides itself).
#
#	51 spam-trap hits through a real Postfix on A ban the sender there;
#	A pushes the ban (scenario mxguard/spam-trap), and within a poll
#	B drops the sender's SYNs at XDP. A decision from LAPI is never
#	pushed back. 'cscli decisions delete' lifts it on B; on A the ban is
#	the engine's own (a deleted decision removes only what LAPI put
#	there), so A keeps it. A range decision drops a whole prefix on
#	both; an operator's ban survives the delete of LAPI's ban of the
#	same address; with LAPI stopped both keep enforcing and say so,
#	and both catch up when it is back (an agent that was down too, by
#	its start-up sync); a pending push survives kill -9 of the agent;
#	IPv6 addresses and prefixes work as IPv4 ones do.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pf_lib.sh"
source "$(dirname "$0")/cs_lib.sh"

C1=198.18.0.10
C2=198.18.0.11
C3=198.18.0.12
POLICY=$PF_DIR/mxguard-policy
TRAPS=$E2E_DIR/traps
CONF_A=$E2E_DIR/a.conf
CONF_B=$E2E_DIR/b.conf
# A push, then B's next poll: what "within one poll interval" can take.
WITHIN=$((2 * CS_POLL + 1))
PF_MAIN_EXTRA="smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service unix:$POLICY
relay_domains = traps.gw.test
relay_transport = discard:
smtpd_hard_error_limit = 1000"

# start_both [postfix] - LAPI; both agents against it; A behind Postfix (postfix)
# or a plain listener, B behind a plain listener; clients C1, C2, C3
start_both() {
	lapi_start || return 1
	mkdir -p "$PF_DIR"
	printf '# traps\n@traps.gw.test spam\ntrap@gw.test spam\n' >"$TRAPS"
	{
		printf 'ptr_class = none\nspf_class = none\ntrap_file = %s\npolicy_socket = %s\n' "$TRAPS" "$POLICY"
		cs_settings a
	} >"$CONF_A" || return 1
	{ printf 'ptr_class = none\nspf_class = none\n'; cs_settings b; } >"$CONF_B" || return 1
	if [[ ${1:-} == postfix ]]; then
		pf_start || return 1
	else
		listen_smtp || return 1
	fi
	agent_start -C "$CONF_A" || return 1
	on_b agent_start -C "$CONF_B" || return 1
	on_b listen_smtp || return 1
	tb_client_addr $C2/24
	tb_client_addr $C3/24
}

# mail SRC FROM TO... - one message to A; the transcript on stdout
mail() {
	local src=$1 from=$2
	shift 2
	tb_cl timeout 20 swaks --server $TB_GW4 --local-interface "$src" --from "$from" \
		--to "$(IFS=,; echo "$*")" --timeout 10 2>&1
}

# traps N - N distinct spam-trap addresses
traps() {
	local i
	for i in $(seq 1 "$1"); do echo "t$i@traps.gw.test"; done
}

# decide ARGS... - cscli decisions ARGS (add, delete) against LAPI
decide() {
	local out
	out=$(cs_cscli decisions "$@" 2>&1) || { fail "cscli decisions $*: $out"; return 1; }
}

# The harness alone, whatever the agent does: LAPI answers each gateway's
# bouncer with what cscli decided, logs its machines in, keeps its
# database across a restart, and the clients cannot reach it.
test_lapi_serves_both_gateways() {
	local out gw code
	lapi_start || return 1
	cs_settings a >/dev/null && cs_settings b >/dev/null || return 1
	decide add --ip $C1 --duration 1h --type ban --reason test/harness || return 1
	for gw in a b; do
		out=$(lapi_get $gw $gw 'v1/decisions/stream?startup=true')
		[[ $out == *'"scenario":"test/harness"'*'"value":"'$C1'"'* ]] ||
			{ fail "gateway $gw's bouncer does not get the decision: $out"; return 1; }
	done
	code=$(tb_gwb curl -s -o /dev/null -m 5 -w '%{http_code}' -H 'X-Api-Key: wrong' "$CS_URL/v1/decisions/stream")
	[[ $code == 403 ]] || { fail "a wrong key got $code"; return 1; }
	code=$(tb_gw curl -s -o /dev/null -m 5 -w '%{http_code}' -H 'Content-Type: application/json' \
		-d "{\"machine_id\":\"mxguard-a\",\"password\":\"$(cat "$E2E_DIR/a.password")\",\"scenarios\":[]}" \
		"$CS_URL/v1/watchers/login")
	[[ $code == 200 ]] || { fail "machine mxguard-a cannot log in: $code"; return 1; }
	tb_cl curl -s -m 2 -o /dev/null "$CS_URL/v1/decisions/stream" && { fail "a client reaches LAPI"; return 1; }
	lapi_stop
	lapi_start || return 1
	lapi_decisions | grep -q "^Ip $C1 ban test/harness cscli " || fail "decisions lost in a restart: $(lapi_decisions)"
}

test_trap_ban_on_a_drops_on_b() {
	start_both postfix || return 1
	local out drops t
	connects $C1 $TB_GWB4 || { fail "before any ban, $C1 does not reach B"; return 1; }
	mail $C1 a@client.test $(traps 25) user@gw.test >/dev/null
	mail $C1 a@client.test $(traps 25) >/dev/null
	out=$(mail $C1 a@client.test trap@gw.test)
	grep -q "<\*\* 521 5.7.1 .*client \[$C1\] banned: spam-trap hits" <<<"$out" ||
		{ fail "no 521 for the 51st hit on A: $out"; return 1; }
	# A pushes its ban; B has it at its next poll and drops the SYNs at XDP.
	wait_for $WITHIN on_b cs_banned $C1 ||
		{ fail "B does not ban $C1 within ${WITHIN}s: $(on_b mx ban show $C1)"; return 1; }
	on_b mx ban show $C1 | grep -q "crowdsec: mxguard/spam-trap" ||
		{ fail "B's reason: $(on_b mx ban show $C1)"; return 1; }
	[[ $(on_b owner $C1) == *crowdsec* ]] || { fail "B's owner: $(on_b mx -j ban show $C1)"; return 1; }
	drops=$(on_b counter drop_banned)
	times_out $C1 $TB_GWB4 || { fail "$C1 still connects to B"; return 1; }
	(($(on_b counter drop_banned) > drops)) || { fail "B's XDP drop counter did not move"; return 1; }
	connects $C2 $TB_GWB4 || { fail "B drops an innocent client"; return 1; }
	lapi_decisions | grep -Eq "^Ip $C1 ban mxguard/spam-trap mxguard-a (23h|24h)" ||
		{ fail "LAPI's decisions: $(lapi_decisions)"; return 1; }
	# Never pushed back: two more polls later, still the one alert from A.
	sleep $((2 * CS_POLL))
	[[ $(lapi_alerts $C1) == "1 mxguard-a" ]] || { fail "alerts for $C1: $(lapi_alerts $C1)"; return 1; }
	[[ $(cs_field pushed) -ge 1 && $(cs_field pushes_pending) == 0 && $(cs_field machine) == true ]] ||
		{ fail "A's crowdsec show: $(mx -j crowdsec show)"; return 1; }
	[[ $(on_b cs_field state) == ok && $(on_b cs_field applied) -ge 1 && $(on_b cs_field pushed) == 0 ]] ||
		{ fail "B's crowdsec show: $(on_b mx -j crowdsec show)"; return 1; }

	# Lifted centrally, on both: B's ban was LAPI's; A's was its engine's,
	# and the decision deleted in LAPI was the one A pushed for it (an
	# mxguard/ scenario), so A lifts its engine's ban too, as 'ban del'
	# would. A does not push it again.
	decide delete --ip $C1 || return 1
	wait_for $WITHIN on_b not_banned $C1 || { fail "B still bans $C1: $(on_b mx ban show $C1)"; return 1; }
	connects $C1 $TB_GWB4 || { fail "$C1 does not reach B after the delete"; return 1; }
	wait_for $WITHIN not_banned $C1 || { fail "A still bans $C1: $(mx ban show $C1)"; return 1; }
	connects $C1 $TB_GW4 || { fail "$C1 does not reach A after the delete"; return 1; }
	[[ $(counter crowdsec_decisions_lifted) == 1 ]] || { fail "lifted: $(counter crowdsec_decisions_lifted)"; return 1; }
	# The engine's history stays: the sender is still known, its ban ended.
	mx -j sender show $C1 | grep -q '"banned":false' || { fail "engine: $(mx -j sender show $C1)"; return 1; }
	sleep $((2 * CS_POLL))
	lapi_decisions | grep -q " $C1 " && { fail "A pushed its ban again: $(lapi_decisions)"; return 1; }
	on_b not_banned $C1 || fail "B bans $C1 again: $(on_b mx ban show $C1)"
}

test_range_decision_drops_a_prefix() {
	start_both || return 1
	local r1=198.18.4.7 r2=198.18.4.200 drops
	tb_client_addr $r1/24
	tb_client_addr $r2/24
	connects $r1 $TB_GW4 && connects $r2 $TB_GWB4 || { fail "198.18.4.0/24 does not reach A and B"; return 1; }
	decide add --range 198.18.4.0/24 --duration 1h --type ban --reason test/range || return 1
	wait_for $WITHIN cs_banned $r2 || { fail "A does not ban $r2: $(mx ban show $r2)"; return 1; }
	wait_for $WITHIN on_b cs_banned $r1 || { fail "B does not ban $r1: $(on_b mx ban show $r1)"; return 1; }
	mx ban show $r2 | grep -q "^198.18.4.0/24 .*crowdsec: test/range" || { fail "A: $(mx ban show $r2)"; return 1; }
	drops=$(counter drop_banned)
	times_out $r1 $TB_GW4 && times_out $r2 $TB_GW4 || { fail "the prefix still connects to A"; return 1; }
	(($(counter drop_banned) > drops)) || { fail "A's XDP drop counter did not move"; return 1; }
	drops=$(on_b counter drop_banned)
	times_out $r1 $TB_GWB4 && times_out $r2 $TB_GWB4 || { fail "the prefix still connects to B"; return 1; }
	(($(on_b counter drop_banned) > drops)) || { fail "B's XDP drop counter did not move"; return 1; }
	connects $C1 $TB_GW4 && connects $C1 $TB_GWB4 || { fail "a client outside the prefix is dropped"; return 1; }
	[[ $(cs_field decisions) == 1 && $(on_b cs_field decisions) == 1 ]] ||
		{ fail "decisions in force: A $(cs_field decisions), B $(on_b cs_field decisions)"; return 1; }
	[[ $(cs_field state) == ok && $(cs_field url) == "$CS_URL" && $(cs_field enabled) == true ]] ||
		{ fail "A's crowdsec show: $(mx -j crowdsec show)"; return 1; }
	decide delete --range 198.18.4.0/24 || return 1
	wait_for $WITHIN not_banned $r1 && wait_for $WITHIN on_b not_banned $r2 ||
		{ fail "the prefix is still banned: A $(mx ban show $r1) B $(on_b mx ban show $r2)"; return 1; }
	connects $r2 $TB_GW4 && connects $r1 $TB_GWB4 || { fail "the prefix does not connect after the delete"; return 1; }
	[[ $(cs_field decisions) == 0 && $(cs_field removed) -ge 1 ]] || fail "A's crowdsec show: $(mx -j crowdsec show)"
}

test_operator_ban_survives_lapi_delete() {
	start_both || return 1
	local t
	# LAPI's ban lasts longer than the operator's: it is the one in force.
	decide add --ip $C2 --duration 48h --type ban --reason test/longer || return 1
	wait_for $WITHIN on_b cs_banned $C2 || { fail "B does not ban $C2: $(on_b mx ban show $C2)"; return 1; }
	on_b mx ban add $C2 ttl 1h reason "operator says no" >/dev/null || { fail "ban add on B"; return 1; }
	on_b mx ban show $C2 | grep -q "also: manual" || { fail "B's owners: $(on_b mx ban show $C2)"; return 1; }
	wait_for $WITHIN cs_banned $C2 || { fail "A does not ban $C2: $(mx ban show $C2)"; return 1; }
	t=$(date +%s)
	decide delete --ip $C2 || return 1
	wait_for $WITHIN not_banned $C2 || { fail "A still bans $C2: $(mx ban show $C2)"; return 1; }
	wait_for $WITHIN on_b synced_since "$t" || { fail "B did not sync: $(on_b mx -j crowdsec show)"; return 1; }
	[[ $(on_b owner $C2) == manual ]] && on_b mx ban show $C2 | grep -q "operator says no" ||
		{ fail "the operator's ban did not survive: $(on_b mx ban show $C2)"; return 1; }
	on_b mx ban show $C2 | grep -q crowdsec && { fail "B keeps LAPI's deleted ban: $(on_b mx ban show $C2)"; return 1; }
	times_out $C2 $TB_GWB4 || { fail "$C2 connects to B"; return 1; }
	connects $C2 $TB_GW4 || { fail "$C2 does not connect to A"; return 1; }
	# An operator's ban is not published (crowdsec_push_operator_bans = no).
	[[ $(lapi_alerts $C2) == "1 cscli" ]] || fail "alerts for $C2: $(lapi_alerts $C2)"
}

test_lapi_down_both_keep_enforcing_then_catch_up() {
	start_both || return 1
	local gw
	decide add --ip $C2 --duration 1h --type ban --reason test/down || return 1
	wait_for $WITHIN cs_banned $C2 && wait_for $WITHIN on_b cs_banned $C2 ||
		{ fail "not banned on both: A $(mx ban show $C2) B $(on_b mx ban show $C2)"; return 1; }
	lapi_stop
	for gw in "" on_b; do
		wait_for 15 $gw eval '[[ $(cs_field state) == error ]]' ||
			{ fail "${gw:-A}: state $($gw cs_field state) with LAPI down"; return 1; }
		[[ $($gw cs_field errors) -ge 1 && $($gw cs_field last_error) != null ]] ||
			{ fail "${gw:-A}'s crowdsec show: $($gw mx -j crowdsec show)"; return 1; }
		$gw cs_banned $C2 || { fail "${gw:-A} lost the ban with LAPI down"; return 1; }
	done
	sleep $((2 * CS_POLL))
	times_out $C2 $TB_GW4 && times_out $C2 $TB_GWB4 || { fail "$C2 connects with LAPI down"; return 1; }
	# B goes down too; LAPI comes back and changes its mind meanwhile.
	on_b agent_stop
	lapi_start || return 1
	decide delete --ip $C2 || return 1
	decide add --ip $C3 --duration 1h --type ban --reason test/while-down || return 1
	# A retries with back-off; B's start-up sync (startup=true) replaces its set.
	wait_for 60 cs_banned $C3 && wait_for 5 not_banned $C2 ||
		{ fail "A did not catch up: $C2 $(mx ban show $C2), $C3 $(mx ban show $C3)"; return 1; }
	[[ $(cs_field state) == ok ]] || { fail "A: $(mx -j crowdsec show)"; return 1; }
	on_b agent_start -C "$CONF_B" || return 1
	wait_for $WITHIN on_b cs_banned $C3 && wait_for $WITHIN on_b not_banned $C2 ||
		{ fail "B did not catch up: $C2 $(on_b mx ban show $C2), $C3 $(on_b mx ban show $C3)"; return 1; }
	connects $C2 $TB_GWB4 || { fail "$C2 does not reach B"; return 1; }
	times_out $C3 $TB_GWB4 || fail "$C3 connects to B"
}

test_kill9_loses_no_pending_push() {
	start_both || return 1
	local out
	lapi_stop
	out=$(mx sender trap $C3 spam count 51 2>&1)
	[[ $out == *"banned for"* ]] || { fail "no trap ban: $out"; return 1; }
	wait_for 5 eval '[[ $(cs_field pushes_pending) -ge 1 ]]' ||
		{ fail "no pending push: $(mx -j crowdsec show)"; return 1; }
	agent_stop KILL
	lapi_start || return 1
	agent_start -C "$CONF_A" || return 1
	wait_for 30 eval 'lapi_decisions | grep -Eq "^Ip $C3 ban mxguard/spam-trap mxguard-a "' ||
		{ fail "the push was lost: $(lapi_decisions); $(mx -j crowdsec show)"; return 1; }
	wait_for 5 eval '[[ $(cs_field pushes_pending) == 0 && $(cs_field pushed) -ge 1 ]]' ||
		{ fail "A's crowdsec show: $(mx -j crowdsec show)"; return 1; }
	[[ $(lapi_alerts $C3) == "1 mxguard-a" ]] || { fail "alerts for $C3: $(lapi_alerts $C3)"; return 1; }
	wait_for $WITHIN on_b cs_banned $C3 || fail "B does not ban $C3: $(on_b mx ban show $C3)"
}

test_ipv6_decisions() {
	start_both || return 1
	local c6=2001:db8:1::10 r1=2001:db8:5::7 r2=2001:db8:5::8 t6=2001:db8:1::11 out
	tb_client_addr $r1/64
	tb_client_addr $r2/64
	tb_client_addr $t6/64
	connects $c6 $TB_GW6 && connects $r1 $TB_GWB6 || { fail "IPv6 clients do not reach A and B"; return 1; }
	decide add --ip $c6 --duration 1h --type ban --reason test/v6-ip || return 1
	decide add --range 2001:db8:5::/64 --duration 1h --type ban --reason test/v6-range || return 1
	wait_for $WITHIN cs_banned $c6 && wait_for $WITHIN cs_banned $r2 ||
		{ fail "A: $(mx ban show $c6) $(mx ban show $r2)"; return 1; }
	wait_for $WITHIN on_b cs_banned $c6 && wait_for $WITHIN on_b cs_banned $r1 ||
		{ fail "B: $(on_b mx ban show $c6) $(on_b mx ban show $r1)"; return 1; }
	on_b mx ban show $r2 | grep -q "^2001:db8:5::/64 " || { fail "B: $(on_b mx ban show $r2)"; return 1; }
	times_out $c6 $TB_GW6 && times_out $r2 $TB_GW6 || { fail "IPv6 still connects to A"; return 1; }
	times_out $c6 $TB_GWB6 && times_out $r1 $TB_GWB6 || { fail "IPv6 still connects to B"; return 1; }
	# An IPv6 ban of A's own engine goes the other way, as the engine keys the sender: its /64.
	out=$(mx sender trap $t6 spam count 51 2>&1)
	[[ $out == *"banned for"* ]] || { fail "no trap ban of $t6: $out"; return 1; }
	wait_for $WITHIN on_b cs_banned $t6 || { fail "B does not ban $t6: $(on_b mx ban show $t6)"; return 1; }
	lapi_decisions | grep -Eq "^Range 2001:db8:1::/64 ban mxguard/spam-trap mxguard-a " || { fail "LAPI: $(lapi_decisions)"; return 1; }
	decide delete --ip $c6 || return 1
	decide delete --range 2001:db8:5::/64 || return 1
	wait_for $WITHIN on_b not_banned $c6 && wait_for $WITHIN on_b not_banned $r1 &&
		wait_for $WITHIN not_banned $r2 || { fail "IPv6 decisions not lifted"; return 1; }
	connects $c6 $TB_GWB6 && connects $r2 $TB_GW6 || fail "IPv6 does not connect after the delete"
}

run_tests
