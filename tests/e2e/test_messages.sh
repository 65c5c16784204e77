#!/usr/bin/env bash
# NAME
#	test_messages.sh - the receivers' message rules, through a real Postfix
# DESCRIPTION
#	Postfix asks mxguard's policy service at RCPT TO and at the end of
#	each message's data, as the README documents; a real SMTP client
#	(tests/tools/smtpbatch.py) sends from the client namespace. Shown:
#	1000 messages in one connection are accepted and the 1001st gets
#	421; 300 messages a minute from one address, then 450, then
#	accepted once the minute has passed; one-message connections, over
#	and over, put the sender in the strict class, whose parallel limit
#	the data plane then holds; pipelining, RSET and refused recipients
#	do not miscount; a class's message size; a session's count survives
#	kill -9 of the agent in the middle of it; the listing's lifecycle
#	(550 with the delisting text, a clean sample to the samples address,
#	delisted at the next midnight, spam again cancelling it) survives
#	kill -9 at each step.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pf_lib.sh"

C1=198.18.0.10
C2=198.18.0.11
C3=198.18.0.12
POLICY=$PF_DIR/mxguard-policy
CONF=$E2E_DIR/mxguard.conf
SAMPLES=samples@gw.test
PF_MAIN_EXTRA="smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service unix:$POLICY
smtpd_end_of_data_restrictions = check_policy_service unix:$POLICY
relay_domains = discard.gw.test
relay_transport = discard:
local_transport = discard:
smtpd_hard_error_limit = 100000
smtpd_soft_error_limit = 100000
smtpd_junk_command_limit = 100000
smtpd_error_sleep_time = 0
max_idle = 2s"

# start [SETTINGS] - Postfix asking the policy service, the agent serving it
start() {
	local extra=${1:-}
	mkdir -p "$PF_DIR"
	extra+='ptr_class = none\nspf_class = none\n'
	{ printf "$extra"; printf 'policy_socket = %s\nsamples = %s\n' "$POLICY" "$SAMPLES"; } >"$CONF"
	pf_start && agent_start -C "$CONF" || return 1
	tb_client_addr $C2/24
	tb_client_addr $C3/24
}

# batch SRC ARGS... - smtpbatch.py from SRC to the gateway; its lines on stdout
batch() {
	local src=$1
	shift
	tb_cl timeout 300 python3 "$TOP/tests/tools/smtpbatch.py" -s "$src" "$@" $TB_GW4
}

# codes OUT CODE - how many messages got CODE
codes() {
	grep -c "^[0-9]* [0-9]* $2\$" <<<"$1"
}

# sender_field SRC NAME - a number from mxguard -j sender show
sender_field() {
	mx -j sender show "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

test_1000_messages_in_a_connection_then_421() {
	start 'class.default.messages_per_minute = 0\n' || return 1
	local out
	out=$(batch $C1 -n 1001)
	[[ $(codes "$out" 250) == 1000 ]] || { fail "accepted $(codes "$out" 250) of 1000: $(tail -3 <<<"$out")"; return 1; }
	grep -qx "1 1001 421" <<<"$out" || { fail "the 1001st: $(tail -2 <<<"$out")"; return 1; }
	grep -qx "closed 1" <<<"$out" || { fail "the session did not end: $(tail -2 <<<"$out")"; return 1; }
	[[ $(sender_field $C1 messages) == 1000 ]] || { fail "counted $(sender_field $C1 messages)"; return 1; }
	(( $(counter policy_rejected_messages) >= 1 )) || fail "policy_rejected_messages did not move"
}

test_300_messages_a_minute_then_450_then_accepted() {
	start || return 1
	local out t0
	t0=$(date +%s)
	out=$(batch $C1 -c 3 -n 100)
	[[ $(codes "$out" 250) == 300 ]] || { fail "accepted $(codes "$out" 250) of 300: $(tail -3 <<<"$out")"; return 1; }
	out=$(batch $C1 -n 2)
	[[ $(codes "$out" 450) == 2 ]] || { fail "the 301st and 302nd: $out"; return 1; }
	# Another source has its own minute.
	out=$(batch $C2 -n 1)
	[[ $(codes "$out" 250) == 1 ]] || { fail "another source refused: $out"; return 1; }
	[[ $(sender_field $C1 messages_last_minute) == 300 ]] ||
		{ fail "in the last minute: $(sender_field $C1 messages_last_minute)"; return 1; }
	# Once the minute since the first ones has passed, mail goes through again.
	sleep $(( t0 + 62 - $(date +%s) ))
	out=$(batch $C1 -n 1)
	[[ $(codes "$out" 250) == 1 ]] || { fail "after the minute: $out"; return 1; }
	(( $(counter policy_rejected_rate) >= 2 )) || fail "policy_rejected_rate: $(counter policy_rejected_rate)"
}

test_one_message_connections_put_the_sender_in_strict() {
	start || return 1
	local out i
	out=$(batch $C3 -c 9 -n 1)
	[[ $(codes "$out" 250) == 9 ]] || { fail "9 sessions: $out"; return 1; }
	# A sender with many messages in one connection is no such habit.
	out=$(batch $C2 -c 2 -n 5)
	[[ $(codes "$out" 250) == 10 ]] || { fail "bulk sessions: $out"; return 1; }
	sleep 3	# every smtpd idle max_idle: gone, its policy connection closed
	mx -j sender show $C3 | grep -q '"auto_class":null' || { fail "strict after 9: $(mx -j sender show $C3)"; return 1; }
	out=$(batch $C3 -c 1 -n 1)
	[[ $(codes "$out" 250) == 1 ]] || { fail "10th session: $out"; return 1; }
	for i in $(seq 1 50); do
		mx -j sender show $C3 | grep -q '"auto_class":1,"auto_reasons":\["one_message"\]' && break
		sleep 0.2
	done
	mx -j sender show $C3 | grep -q '"auto_class":1,"auto_reasons":\["one_message"\]' ||
		{ fail "not strict after 10: $(mx -j sender show $C3)"; return 1; }
	mx -j sender show $C2 | grep -q '"auto_class":null' || { fail "bulk sender classed: $(mx -j sender show $C2)"; return 1; }
	# The data plane holds it to strict's parallel limit (3): the 4th gets 421.
	ch_start 1 $C3 $TB_GW4 || return 1
	out=$(ch_cmd 1 "open 4")
	[[ $out == "opened 4 220=3 421=1 "* ]] || { fail "strict parallel limit: $out"; return 1; }
	# The evidence and the class survive kill -9.
	ch_kill 1
	agent_stop KILL
	agent_start -C "$CONF" || return 1
	mx -j sender show $C3 | grep -q '"auto_class":1,"auto_reasons":\["one_message"\]' ||
		fail "class lost in a crash: $(mx -j sender show $C3)"
}

test_pipelining_rset_and_refused_recipients_count_right() {
	start 'class.default.messages = 3\n' || return 1
	local out
	# Each message: an abandoned transaction (RSET) first, then MAIL, three
	# RCPTs (one refused: relay denied) and DATA in one write.
	out=$(batch $C1 -n 4 --pipeline --rset -r "a@discard.gw.test,b@discard.gw.test,c@elsewhere.test")
	[[ $(codes "$out" 250) == 3 ]] || { fail "accepted: $out"; return 1; }
	grep -qx "1 4 421" <<<"$out" || { fail "the 4th: $out"; return 1; }
	[[ $(sender_field $C1 messages) == 3 ]] || { fail "counted $(sender_field $C1 messages)"; return 1; }
	grep -c "status=sent" "$PF_DIR/maillog" | grep -qx 6 || fail "delivered: $(grep -c status=sent "$PF_DIR/maillog") of 6"
}

test_message_size_of_the_strict_class() {
	start 'class.strict.message_size = 2k\n' || return 1
	local out
	mx class add $C2 strict || return 1
	out=$(batch $C2 --size 4000)
	[[ $(codes "$out" 552) == 1 ]] || { fail "declared SIZE: $out"; return 1; }
	out=$(batch $C2 --size 4000 --undeclared)
	[[ $(codes "$out" 552) == 1 ]] || { fail "undeclared, at the end of data: $out"; return 1; }
	out=$(batch $C2 --size 1000)
	[[ $(codes "$out" 250) == 1 ]] || { fail "a small one: $out"; return 1; }
	out=$(batch $C1 --size 4000)
	[[ $(codes "$out" 250) == 1 ]] || fail "the default class has no size limit: $out"
}

test_a_sessions_count_survives_kill9() {
	start 'class.default.messages = 8\n' || return 1
	local out pid
	batch $C1 -n 10 --pause-after 5 --pause 8 >"$E2E_DIR/batch.out" &
	pid=$!
	for _ in $(seq 1 50); do
		[[ $(codes "$(cat "$E2E_DIR/batch.out")" 250) == 5 ]] && break
		sleep 0.1
	done
	agent_stop KILL
	agent_start -C "$CONF" || return 1
	wait $pid
	out=$(cat "$E2E_DIR/batch.out")
	[[ $(codes "$out" 250) == 8 ]] || { fail "accepted across the crash: $out"; return 1; }
	grep -qx "1 9 421" <<<"$out" || { fail "the 9th: $out"; return 1; }
	(( $(counter smtp_sessions_resumed) >= 1 )) || fail "no session resumed"
}

# restart_at SECONDS - kill -9 the agent, start it with the wall clock moved
restart_at() {
	agent_stop KILL
	MXGUARD_TEST_WALL_OFFSET=$1 agent_start -C "$CONF"
}

# to_midnight - seconds from now to just past the next local midnight
to_midnight() {
	echo $(( $(date -d 'tomorrow 00:00' +%s) - $(date +%s) + 5 ))
}

test_listing_lifecycle_survives_kill9() {
	start || return 1
	local out
	mx sender spam $C1 || return 1
	restart_at 0 || return 1
	out=$(batch $C1 -n 1)
	[[ $(codes "$out" 550) == 1 ]] || { fail "listed: $out"; return 1; }
	# The 550 says how to get delisted.
	out=$(tb_cl timeout 20 swaks --server $TB_GW4 --local-interface $C1 --from a@client.test \
		--to user@discard.gw.test --timeout 10 2>&1)
	grep -q "<\*\* 550 5.7.1 .*listed after mail classified as spam; to be delisted, send one clean mail to $SAMPLES" <<<"$out" ||
		{ fail "550 text: $out"; return 1; }
	# A mail to the samples address is accepted, listed as the sender is.
	out=$(batch $C1 -n 1 -r $SAMPLES)
	[[ $(codes "$out" 250) == 1 ]] || { fail "samples address refused: $out"; return 1; }
	# The content filter finds it clean: delisting at the next midnight.
	mx sender clean $C1 || return 1
	restart_at 0 || return 1
	mx -j sender show $C1 | grep -q '"listed":true' || { fail "listed until midnight: $(mx -j sender show $C1)"; return 1; }
	mx -j sender show $C1 | grep -q '"delisting_at":null' && { fail "schedule lost: $(mx -j sender show $C1)"; return 1; }
	# Midnight minus a minute: still listed. Past midnight: delisted.
	restart_at $(( $(to_midnight) - 65 )) || return 1
	mx -j sender show $C1 | grep -q '"listed":true' || { fail "delisted before midnight"; return 1; }
	restart_at "$(to_midnight)" || return 1
	mx -j sender show $C1 | grep -q '"listed":false' || { fail "still listed past midnight: $(mx -j sender show $C1)"; return 1; }
	out=$(batch $C1 -n 1)
	[[ $(codes "$out" 250) == 1 ]] || { fail "delisted sender refused: $out"; return 1; }
	# Spam again before midnight cancels the delisting.
	restart_at 0 || return 1
	mx sender spam $C2 || return 1
	mx sender clean $C2 || return 1
	mx sender spam $C2 || return 1
	restart_at "$(to_midnight)" || return 1
	mx -j sender show $C2 | grep -q '"listed":true' || fail "spam did not cancel the delisting: $(mx -j sender show $C2)"
}

run_tests
