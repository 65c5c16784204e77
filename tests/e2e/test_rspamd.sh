#!/usr/bin/env bash
# NAME
#	test_rspamd.sh - content verdicts: rspamd pushes, mxguardd lists
# DESCRIPTION
#	A real rspamd (offline: no DNS answers, no redis) scans as a milter
#	for a real Postfix in the gateway's namespace, and its
#	metadata_exporter pushes each result to mxguardd's endpoint, as the
#	README tells administrators to set it up. A spam mail (the GTUBE
#	string in its Subject, scored 100 by the test rule the README
#	gives) is rejected by rspamd, reaches mxguardd as a spam verdict and
#	lists the sender: its next mail gets 550 5.7.1 from the policy
#	service at RCPT. A plain mail (rspamd says "add header" or "no
#	action" offline) is a clean verdict; GTUBE in the body is rejected
#	by rspamd but never pushed (rspamd 3.4 skips every later rule).
#	The listing's lifecycle: the 550 names the samples address, a clean
#	mail there is accepted and delists at the next midnight (the
#	agent's wall clock moved), spam before then cancels it; every step
#	across kill -9 of the agent.
#
#	Pushes without credentials, with a wrong password, malformed,
#	oversized, to another path or with another method are refused with
#	their status and change no sender; a peer not on loopback is
#	refused; the password file must be root's and 0600 or 0400; the
#	password and spam_actions are re-read on reload, the address needs a
#	restart. The password never appears in the agent's log.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pf_lib.sh"

C1=198.18.0.10
C2=198.18.0.11
C3=198.18.0.12
VPORT=9490
URL=http://127.0.0.1:$VPORT/rspamd
POLICY=$PF_DIR/mxguard-policy
CONF=$E2E_DIR/mxguard.conf
PWFILE=$E2E_DIR/rspamd.password
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
RS_DIR=$E2E_DIR/rspamd
RS_DB=$E2E_DIR/rspamd-db	# kept for the whole file: hyperscan's cache
RSPAMD_PID=
GTUBE='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
PF_MAIN_EXTRA="smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service unix:$POLICY"

# start [SETTINGS] - the agent with the endpoint on, the policy service for Postfix
start() {
	mkdir -p "$PF_DIR"
	[[ -e $PWFILE ]] || { (umask 077; echo "$PASSWORD" >"$PWFILE"); }
	{
		printf "${1:-}"
		printf 'ptr_class = none\nspf_class = none\npolicy_socket = %s\n' "$POLICY"
		printf 'verdict_listen = 127.0.0.1:%s\nverdict_password_file = %s\n' $VPORT "$PWFILE"
	} >"$CONF"
	agent_start -C "$CONF" || return 1
	tb_client_addr $C2/24
	tb_client_addr $C3/24
}

# rspamd_start - rspamd in the gateway's namespace: a milter on 127.0.0.1:11332,
# pushing every result to the agent; its files under $RS_DIR, run as _rspamd
rspamd_start() {
	command -v rspamd >/dev/null || { fail "rspamd is not installed (make deps)"; return 1; }
	id _rspamd >/dev/null 2>&1 || { fail "no user _rspamd (the rspamd package makes it)"; return 1; }
	local etc=$RS_DIR/etc
	mkdir -p "$etc/local.d" "$etc/override.d" "$RS_DIR/run" "$RS_DIR/log" "$RS_DB"
	chmod go+x "$E2E_DIR"
	chown _rspamd:_rspamd "$RS_DIR/run" "$RS_DIR/log" "$RS_DB"
	# The settings hold the password: root's, readable by rspamd alone.
	chown -R root:_rspamd "$etc"
	chmod 0750 "$RS_DIR" "$etc" "$etc/local.d" "$etc/override.d"
	chgrp _rspamd "$RS_DIR"
	cat >"$etc/local.d/worker-proxy.inc" <<-EOF
	bind_socket = "127.0.0.1:11332";
	milter = yes;
	timeout = 120s;
	upstream "local" {
	  default = yes;
	  self_scan = yes;
	}
	EOF
	# The proxy scans itself: no normal worker, no controller.
	echo 'count = 0;' >"$etc/override.d/worker-normal.inc"
	echo 'count = 0;' >"$etc/override.d/worker-controller.inc"
	# Offline: a DNS server that answers nothing, and soon.
	cat >"$etc/local.d/options.inc" <<-EOF
	dns {
	  nameserver = ["127.0.0.1:53"];
	  timeout = 0.5s;
	  retransmits = 1;
	}
	EOF
	cat >"$etc/local.d/logging.inc" <<-EOF
	type = "file";
	filename = "$RS_DIR/log/rspamd.log";
	level = "info";
	EOF
	cat >"$etc/local.d/metadata_exporter.conf" <<-EOF
	rules {
	  MXGUARD {
	    backend = "http";
	    url = "$URL";
	    user = "rspamd";
	    password = "$PASSWORD";
	    selector = "default";
	    formatter = "json";
	    mime_type = "application/json";
	    timeout = 5s;
	  }
	}
	EOF
	cat >"$etc/rspamd.local.lua" <<-'EOF'
	-- A test mail for the whole chain: the GTUBE string in the Subject scores
	-- 100 (reject). rspamd's own GTUBE check, which skips every later rule and
	-- so the export too, looks only at text parts.
	rspamd_config.MXGUARD_TEST_SPAM = {
	  callback = function(task)
	    local s = task:get_subject()
	    return s ~= nil and s:find('GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL', 1, true) ~= nil
	  end,
	  score = 100.0,
	  description = 'mxguard test: the GTUBE string in the Subject',
	  group = 'mxguard',
	}
	EOF
	chown -R root:_rspamd "$etc"
	chmod 0640 "$etc/rspamd.local.lua" "$etc"/local.d/* "$etc"/override.d/*
	tb_gw rspamd -f -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf \
		--var LOCAL_CONFDIR="$etc" --var DBDIR="$RS_DB" --var RUNDIR="$RS_DIR/run" \
		--var LOGDIR="$RS_DIR/log" >"$RS_DIR/rspamd.out" 2>&1 &
	RSPAMD_PID=$!
	# The first start in a fresh DBDIR takes a while (its lua, then hyperscan).
	for _ in $(seq 1 600); do
		tb_gw ss -Hltn 'sport = :11332' | grep -q . && return 0
		kill -0 "$RSPAMD_PID" 2>/dev/null || break
		sleep 0.2
	done
	fail "rspamd did not start: $(tail -n 5 "$RS_DIR/rspamd.out" "$RS_DIR/log/rspamd.log" 2>/dev/null | tr '\n' ' ')"
}

# rspamd_stop - the main process and its workers, whatever state they are in
rspamd_stop() {
	local pid
	[[ -n $RSPAMD_PID ]] || return 0
	kill "$RSPAMD_PID" 2>/dev/null
	for _ in $(seq 1 150); do
		kill -0 "$RSPAMD_PID" 2>/dev/null || break
		sleep 0.1
	done
	# Any rspamd process left in the gateway's namespace is one of ours.
	if [[ -e /run/netns/$TB_GW ]]; then
		for pid in $(ip netns pids "$TB_GW" 2>/dev/null); do
			[[ $(cat /proc/"$pid"/comm 2>/dev/null) == rspamd ]] && kill -9 "$pid" 2>/dev/null
		done
	fi
	kill -9 "$RSPAMD_PID" 2>/dev/null
	wait "$RSPAMD_PID" 2>/dev/null
	RSPAMD_PID=
}

eval "rs_base_$(declare -f cleanup)"
cleanup() {
	rspamd_stop
	rm -rf "$RS_DIR" "$PWFILE"
	rs_base_cleanup
}

# mail SRC FROM TO [SWAKS ARGS] - one message; the transcript on stdout
mail() {
	local src=$1 from=$2 to=$3
	shift 3
	tb_cl timeout 60 swaks --server $TB_GW4 --local-interface "$src" --from "$from" --to "$to" \
		--timeout 40 "$@" 2>&1
}

# push CREDENTIALS BODY [CURL ARGS] - POST BODY (a file with @) to the endpoint
# from the gateway's namespace; the status on stdout, the answer in $E2E_DIR/answer
push() {
	local cred=$1 body=$2
	shift 2
	tb_gw curl -s --max-time 10 -o "$E2E_DIR/answer" -D "$E2E_DIR/answer.head" -w '%{http_code}' \
		${cred:+-u "$cred"} -H 'Content-Type: application/json' --data-binary "$body" "$@" "$URL"
}

# verdict IP ACTION [RCPT] - a body as rspamd writes it
verdict() {
	printf '{"ip":"%s","action":"%s","rcpt":["%s"],"qid":"T%s","from":"x@client.test","score":1}' \
		"$1" "$2" "${3:-user@gw.test}" "$RANDOM"
}

# wait_counter NAME N - until the agent's counter NAME is N (pushes come in the background)
wait_counter() {
	local got
	for _ in $(seq 1 100); do
		got=$(counter "$1")
		[[ $got == "$2" ]] && return 0
		sleep 0.1
	done
	fail "counter $1 is ${got:-?}, expected $2"
}

# listed ADDR - does the agent hold ADDR as listed?
listed() { mx -j sender show "$1" | grep -q '"listed":true'; }

# no_password_in_log - the password never reaches the agent's log
no_password_in_log() {
	! grep -qF "$PASSWORD" "$AGENT_LOG" || fail "the password is in the agent's log"
}

test_spam_through_postfix_and_rspamd_lists_the_sender() {
	PF_MAIN_EXTRA+=$'\nsmtpd_milters = inet:127.0.0.1:11332\nmilter_default_action = accept'
	start && rspamd_start && pf_start || return 1
	local out
	# A plain mail: delivered; rspamd's verdict reaches the agent as clean.
	out=$(mail $C2 b@client.test user@gw.test)
	grep -q "250 2.0.0 Ok: queued" <<<"$out" || { fail "plain mail not delivered: $out"; return 1; }
	wait_counter verdict_clean 1 || return 1
	listed $C2 && { fail "a clean mail listed its sender"; return 1; }
	# The test's spam: rspamd rejects it at the end of DATA and pushes reject.
	out=$(mail $C1 a@client.test user@gw.test --header "Subject: $GTUBE")
	grep -q "<\*\* 554 5.7.1 Spam message rejected" <<<"$out" ||
		{ fail "rspamd did not reject the spam: $out"; return 1; }
	wait_counter verdict_spam 1 || { fail "$FAIL_MSG; $(grep -i metadata_exporter "$RS_DIR/log/rspamd.log" | tail -3)"; return 1; }
	listed $C1 || { fail "not listed: $(mx -j sender show $C1)"; return 1; }
	[[ $(counter sender_listed) == 1 ]] || { fail "sender_listed: $(counter sender_listed)"; return 1; }
	grep -q "content verdict: rspamd says 'reject' of mail from $C1 (queue id [0-9A-F]*, from <a@client.test>, 1 recipient): spam" \
		"$AGENT_LOG" || { fail "no log line: $(grep verdict "$AGENT_LOG")"; return 1; }
	# Its next mail is refused at RCPT by the policy service; postmaster is not.
	out=$(mail $C1 a@client.test user@gw.test)
	grep -q "<\*\* 550 5.7.1 .*client \[$C1\] is listed after mail classified as spam" <<<"$out" ||
		{ fail "a listed sender's mail was not refused at RCPT: $out"; return 1; }
	[[ $(counter policy_rejected_listed) == 1 ]] || { fail "policy_rejected_listed: $(counter policy_rejected_listed)"; return 1; }
	# GTUBE in the body: rspamd rejects it, but 3.4 skips every later rule,
	# the export included (the README says so): no verdict comes.
	out=$(mail $C3 c@client.test user@gw.test --body "$GTUBE")
	grep -q "<\*\* 554 5.7.1" <<<"$out" || { fail "rspamd did not reject GTUBE: $out"; return 1; }
	sleep 2
	[[ $(counter verdict_spam) == 1 && $(counter verdict_clean) == 1 ]] ||
		{ fail "GTUBE in the body was pushed after all: $(mx stats | grep verdict_)"; return 1; }
	listed $C3 && { fail "GTUBE in the body listed its sender"; return 1; }
	(( $(counter verdict_refused_unauthenticated) + $(counter verdict_refused_malformed) == 0 )) ||
		{ fail "rspamd's own pushes were refused: $(mx stats | grep verdict_)"; return 1; }
	no_password_in_log
}

# restart_at SECONDS - kill -9 the agent, start it again with the wall clock moved
restart_at() {
	agent_stop KILL
	MXGUARD_TEST_WALL_OFFSET=$1 agent_start -C "$CONF"
}

# to_midnight - seconds from now to just past the next local midnight
to_midnight() {
	echo $(( $(date -d 'tomorrow 00:00' +%s) - $(date +%s) + 5 ))
}

# delisting ADDR - does the agent hold a scheduled delisting for ADDR?
delisting() { ! mx -j sender show "$1" | grep -q '"delisting_at":null'; }

# The receivers' lifecycle with the real content filter: spam lists, the
# 550 says how to get delisted, a clean sample to the samples address is
# accepted and delists at the next midnight, spam before then cancels it;
# every step across kill -9 of the agent.
test_listing_lifecycle_with_rspamd() {
	PF_MAIN_EXTRA+=$'\nsmtpd_milters = inet:127.0.0.1:11332\nmilter_default_action = accept'
	start 'samples = samples@gw.test\n' && rspamd_start && pf_start || return 1
	local out
	out=$(mail $C1 a@client.test user@gw.test --header "Subject: $GTUBE")
	grep -q "<\*\* 554 5.7.1" <<<"$out" || { fail "rspamd did not reject the spam: $out"; return 1; }
	wait_counter verdict_spam 1 || return 1
	restart_at 0 || return 1
	listed $C1 || { fail "listing lost in a crash"; return 1; }
	# Its next mail: 550, with the way out.
	out=$(mail $C1 a@client.test user@gw.test)
	grep -q "<\*\* 550 5.7.1 .*is listed after mail classified as spam; to be delisted, send one clean mail to samples@gw.test" <<<"$out" ||
		{ fail "550 text: $out"; return 1; }
	# A clean mail to the samples address: accepted, found clean by rspamd, delisting scheduled.
	out=$(mail $C1 a@client.test samples@gw.test)
	grep -q "250 2.0.0 Ok: queued" <<<"$out" || { fail "mail to the samples address: $out"; return 1; }
	wait_counter verdict_clean 1 || return 1
	delisting $C1 || { fail "no delisting scheduled: $(mx -j sender show $C1)"; return 1; }
	restart_at 0 || return 1
	listed $C1 && delisting $C1 || { fail "schedule lost in a crash: $(mx -j sender show $C1)"; return 1; }
	# Past midnight (the agent's wall clock moved, across a kill -9): delisted.
	restart_at "$(to_midnight)" || return 1
	listed $C1 && { fail "still listed past midnight: $(mx -j sender show $C1)"; return 1; }
	out=$(mail $C1 a@client.test user@gw.test)
	grep -q "250 2.0.0 Ok: queued" <<<"$out" || { fail "a delisted sender refused: $out"; return 1; }
	# Spam again before midnight cancels a scheduled delisting.
	restart_at 0 || return 1
	out=$(mail $C2 b@client.test user@gw.test --header "Subject: $GTUBE")
	wait_counter verdict_spam 1 || return 1	# the agent's counters start again with it
	out=$(mail $C2 b@client.test samples@gw.test)
	grep -q "250 2.0.0 Ok: queued" <<<"$out" || { fail "C2's sample: $out"; return 1; }
	wait_counter verdict_clean 1 || return 1
	delisting $C2 || { fail "C2: no delisting scheduled"; return 1; }
	restart_at 0 || return 1
	out=$(mail $C2 b@client.test samples@gw.test --header "Subject: $GTUBE")
	grep -q "<\*\* 554 5.7.1" <<<"$out" || { fail "C2's second spam not rejected: $out"; return 1; }
	wait_counter verdict_spam 1 || return 1
	delisting $C2 && { fail "spam did not cancel the delisting: $(mx -j sender show $C2)"; return 1; }
	restart_at "$(to_midnight)" || return 1
	listed $C2 || fail "C2 delisted at midnight after more spam: $(mx -j sender show $C2)"
}

test_bad_pushes_change_nothing() {
	start || return 1
	local code body=$E2E_DIR/body.json big=$E2E_DIR/big.json
	# A good one first: 200, and the sender is listed.
	code=$(push "rspamd:$PASSWORD" "$(verdict $C3 reject)")
	[[ $code == 200 ]] && grep -q spam "$E2E_DIR/answer" || { fail "a good push: $code $(cat "$E2E_DIR/answer")"; return 1; }
	listed $C3 || { fail "the good push did not list $C3"; return 1; }
	# Then every way to get it wrong, for C1.
	verdict $C1 reject >"$body"
	code=$(push "" "@$body")
	[[ $code == 401 ]] || { fail "no credentials: $code"; return 1; }
	grep -qi '^WWW-Authenticate: Basic realm="mxguardd"' "$E2E_DIR/answer.head" ||
		{ fail "401 without WWW-Authenticate: $(cat "$E2E_DIR/answer.head")"; return 1; }
	code=$(push "rspamd:wrong-$PASSWORD" "@$body")
	[[ $code == 401 ]] || { fail "a wrong password: $code"; return 1; }
	code=$(push "mxguard:$PASSWORD" "@$body")
	[[ $code == 401 ]] || { fail "a wrong user: $code"; return 1; }
	code=$(push "rspamd:$PASSWORD" '{"ip":"198.18.0.10","action":"reject","rcpt":["a@b"]')
	[[ $code == 400 ]] && grep -q "not JSON" "$E2E_DIR/answer" || { fail "malformed JSON: $code $(cat "$E2E_DIR/answer")"; return 1; }
	code=$(push "rspamd:$PASSWORD" "$(verdict $C1 spam)")
	[[ $code == 400 ]] && grep -q "unknown action 'spam'" "$E2E_DIR/answer" || { fail "unknown action: $code"; return 1; }
	code=$(push "rspamd:$PASSWORD" '{"ip":"198.18.0.10","action":"reject","rcpt":"a@b"}')
	[[ $code == 400 ]] || { fail "rcpt not an array: $code"; return 1; }
	{ printf '{"ip":"%s","action":"reject","rcpt":[],"pad":"' $C1; head -c 70000 /dev/zero | tr '\0' a; printf '"}'; } >"$big"
	code=$(push "rspamd:$PASSWORD" "@$big")
	[[ $code == 413 ]] || { fail "an oversized body: $code"; return 1; }
	code=$(push "rspamd:$PASSWORD" "@$body" -H 'Transfer-Encoding: chunked')
	[[ $code == 411 ]] || { fail "chunked: $code"; return 1; }
	code=$(tb_gw curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u "rspamd:$PASSWORD" "$URL")
	[[ $code == 405 ]] || { fail "GET: $code"; return 1; }
	code=$(tb_gw curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u "rspamd:$PASSWORD" \
		--data-binary "@$body" "http://127.0.0.1:$VPORT/other")
	[[ $code == 404 ]] || { fail "another path: $code"; return 1; }
	# Nothing of C1 changed; each refusal counted by kind.
	mx sender show $C1 | grep -q "nothing is known" || { fail "C1 changed: $(mx sender show $C1)"; return 1; }
	[[ $(counter verdict_spam) == 1 && $(counter verdict_clean) == 0 &&
	   $(counter verdict_refused_unauthenticated) == 3 && $(counter verdict_refused_malformed) == 3 &&
	   $(counter verdict_refused_too_large) == 1 && $(counter verdict_refused_other) == 3 &&
	   $(counter sender_listed) == 1 ]] || { fail "counters: $(mx stats | grep -E 'verdict_|listed')"; return 1; }
	# The same in the metrics.
	tb_gw curl -sf --max-time 5 http://127.0.0.1:9489/metrics |
		grep -q '^mxguard_verdict_pushes_refused_total{reason="unauthenticated"} 3$' ||
		{ fail "metrics: $(tb_gw curl -sf http://127.0.0.1:9489/metrics | grep verdict)"; return 1; }
	grep -q "content verdicts: refused a push from 127.0.0.1: 401 Unauthorized" "$AGENT_LOG" ||
		{ fail "no refusal in the log: $(grep verdicts "$AGENT_LOG")"; return 1; }
	# The agent still takes a good push.
	code=$(push "rspamd:$PASSWORD" "$(verdict $C2 'no action')")
	[[ $code == 200 && $(counter verdict_clean) == 1 ]] || { fail "a good push after the bad: $code"; return 1; }
	no_password_in_log
}

test_only_loopback_may_push() {
	local out code
	# Not even in the settings.
	printf 'verdict_listen = 198.18.0.1:%s\nverdict_password_file = /x\n' $VPORT >"$E2E_DIR/bad.conf"
	out=$("$BUILD/mxguardd" -C "$E2E_DIR/bad.conf" --check-config 2>&1) && { fail "a public verdict_listen accepted"; return 1; }
	[[ $out == *"bad.conf:1: verdict_listen: '198.18.0.1:$VPORT': not a loopback address"* ]] ||
		{ fail "check-config: $out"; return 1; }
	start || return 1
	# A client outside cannot reach the loopback listener.
	code=$(tb_cl curl -s -o /dev/null -w '%{http_code}' --max-time 3 -u "rspamd:$PASSWORD" \
		--data-binary "$(verdict $C1 reject)" "http://$TB_GW4:$VPORT/rspamd")
	[[ $code == 000 ]] || { fail "a push from the client side got $code"; return 1; }
	# Force one through: the client routes 127.0.0.1 to the gateway, and
	# both take 127/8 on the veth (route_localnet; the client takes the
	# answer from "its own" 127.0.0.1 with accept_local). The agent sees a
	# peer not on loopback.
	tb_cl ip route del local 127.0.0.1 dev lo table local || return 1
	tb_cl ip route del local 127.0.0.0/8 dev lo table local || return 1
	tb_cl ip route add 127.0.0.1/32 via $TB_GW4 || return 1
	local ns dev
	for ns in tb_cl tb_gw; do
		[[ $ns == tb_cl ]] && dev=$TB_CL_IF || dev=$TB_GW_IF
		$ns sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf."$dev".route_localnet=1 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf."$dev".rp_filter=0 \
			net.ipv4.conf.all.accept_local=1 net.ipv4.conf."$dev".accept_local=1 || return 1
	done
	code=$(tb_cl curl -s -o "$E2E_DIR/answer" -w '%{http_code}' --max-time 3 --interface $C1 \
		-u "rspamd:$PASSWORD" --data-binary "$(verdict $C1 reject)" "$URL")
	wait_counter verdict_refused_not_local 1 || { fail "$FAIL_MSG (curl said $code)"; return 1; }
	[[ $code == 403 || $code == 000 ]] || { fail "a push from $C1 got $code"; return 1; }
	grep -q "content verdicts: refused a push from $C1: 403 Forbidden" "$AGENT_LOG" ||
		{ fail "log: $(grep verdicts "$AGENT_LOG")"; return 1; }
	mx sender show $C1 | grep -q "nothing is known" || fail "a non-local push changed $C1"
}

test_password_file_and_reload() {
	local out code
	# The password file must be a regular file, root's, 0600 or 0400: the
	# agent refuses to start otherwise, and says why.
	(umask 077; echo "$PASSWORD" >"$PWFILE")
	chmod 0644 "$PWFILE"
	start && { fail "started with a 0644 password file"; return 1; }
	FAIL_MSG=
	grep -q "verdict_password_file $PWFILE: mode 0644 lets group or others in" "$AGENT_LOG" ||
		{ fail "no reason given: $(tail -n 3 "$AGENT_LOG")"; return 1; }
	chmod 0600 "$PWFILE"
	chown nobody "$PWFILE"
	start && { fail "started with a password file of nobody's"; return 1; }
	FAIL_MSG=
	grep -q "owned by uid $(id -u nobody); it must be root's" "$AGENT_LOG" || { fail "owner: $(tail -n 2 "$AGENT_LOG")"; return 1; }
	chown root "$PWFILE"
	ln -s "$PWFILE" "$E2E_DIR/link"
	printf 'verdict_listen = 127.0.0.1:%s\nverdict_password_file = %s\n' $VPORT "$E2E_DIR/link" >"$E2E_DIR/l.conf"
	out=$("$BUILD/mxguardd" -C "$E2E_DIR/l.conf" --check-config 2>&1) && { fail "a symlink accepted"; return 1; }
	[[ $out == *"a symbolic link"* ]] || { fail "symlink: $out"; return 1; }
	printf 'verdict_listen = 127.0.0.1:%s\n' $VPORT >"$E2E_DIR/l.conf"
	out=$("$BUILD/mxguardd" -C "$E2E_DIR/l.conf" --check-config 2>&1) && { fail "no password file accepted"; return 1; }
	[[ $out == *"verdict_listen is set but verdict_password_file is not"* ]] || { fail "no file: $out"; return 1; }
	no_password_in_log || return 1

	# Now right; spam_actions at its default: "add header" is clean.
	start || return 1
	code=$(push "rspamd:$PASSWORD" "$(verdict $C2 'add header')")
	[[ $code == 200 ]] && ! listed $C2 || { fail "add header by default: $code $(mx -j sender show $C2)"; return 1; }
	# A new password and spam_actions on reload: the old password is refused.
	local old=$PASSWORD
	PASSWORD=new-$PASSWORD
	echo "$PASSWORD" >"$PWFILE"
	sed -i '1i spam_actions = reject, add header' "$CONF"
	out=$(mx reload 2>&1) || { fail "reload: $out"; return 1; }
	code=$(push "rspamd:$old" "$(verdict $C2 'add header')")
	[[ $code == 401 ]] || { fail "the old password after reload: $code"; return 1; }
	code=$(push "rspamd:$PASSWORD" "$(verdict $C2 'add header')")
	[[ $code == 200 ]] && listed $C2 || { fail "add header after reload: $code $(mx -j sender show $C2)"; return 1; }
	# A password file gone wrong keeps the running one; so does a bad setting.
	chmod 0640 "$PWFILE"
	out=$(mx reload 2>&1) && { fail "a 0640 password file reloaded"; return 1; }
	[[ $out == *"settings not reloaded"*"mode 0640"* ]] || { fail "reload: $out"; return 1; }
	chmod 0600 "$PWFILE"
	sed -i '1i spam_actions = junk' "$CONF"
	out=$(mx reload 2>&1) && { fail "spam_actions = junk reloaded"; return 1; }
	[[ $out == *"'junk' is no rspamd action"* ]] || { fail "reload: $out"; return 1; }
	sed -i '/spam_actions = junk/d' "$CONF"
	code=$(push "rspamd:$PASSWORD" "$(verdict $C3 'add header')")
	[[ $code == 200 ]] && listed $C3 || { fail "after refused reloads: $code"; return 1; }
	# The address needs a restart; the running one goes on.
	sed -i "s/^verdict_listen = .*/verdict_listen = 127.0.0.1:$((VPORT + 1))/" "$CONF"
	out=$(mx reload 2>&1) || { fail "reload: $out"; return 1; }
	[[ $out == *"verdict_listen changed and needs a restart"* ]] || { fail "reload: $out"; return 1; }
	code=$(push "rspamd:$PASSWORD" "$(verdict $C1 'no action')")
	[[ $code == 200 ]] || { fail "the running address after reload: $code"; return 1; }
	no_password_in_log || return 1
	PASSWORD=$old
	no_password_in_log
}

run_tests
