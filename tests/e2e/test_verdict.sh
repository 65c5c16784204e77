#!/usr/bin/env bash
# NAME
#	test_verdict.sh - trap hits become bans, repeat offenders, listing
# DESCRIPTION
#	A real Postfix asks mxguard's policy service at each RCPT TO; swaks
#	sends real mail to trap addresses. More than 50 spam-trap hits (20
#	backscatter: bounces only) ban the sender at XDP: its next connect
#	times out while other senders deliver. Repeat bans escalate to 7
#	days, then permanent, and every figure and the hits themselves
#	survive kill -9. A listed sender's mail is refused except to
#	postmaster until an operator delists it. Bad policy requests close their
#	connection and change nothing.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pf_lib.sh"

C1=198.18.0.10
C2=198.18.0.11
C3=198.18.0.12
POLICY=$PF_DIR/mxguard-policy
TRAPS=$E2E_DIR/traps
CONF=$E2E_DIR/mxguard.conf
PF_MAIN_EXTRA="smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service unix:$POLICY
relay_domains = traps.gw.test
relay_transport = discard:
smtpd_hard_error_limit = 1000"

# start [SETTINGS] - Postfix asking the policy service, the agent serving it.
# This Postfix does no DNS (smtpd_peername_lookup = no): every client would
# be "unknown", so ptr_class is off unless SETTINGS set it.
start() {
	local extra=${1:-}
	mkdir -p "$PF_DIR"
	printf '# traps\ntrap@gw.test spam\n@traps.gw.test spam\nbounce-trap@gw.test backscatter\n' >"$TRAPS"
	[[ $extra == *ptr_class* ]] || extra+='ptr_class = none\n'
	[[ $extra == *spf_class* || -n ${AGENT_RESOLV:-} ]] || extra+='spf_class = none\n'
	{ printf "$extra"; printf 'trap_file = %s\npolicy_socket = %s\n' "$TRAPS" "$POLICY"; } >"$CONF"
	pf_start && agent_start -C "$CONF" || return 1
	tb_client_addr $C2/24
	tb_client_addr $C3/24
}

# mail SRC FROM TO... - one message; the transcript on stdout
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

# hits SRC KIND - the sender's hits in the window, from the CLI
hits() {
	mx -j sender show "$1" | sed -n "s/.*\"$2_hits\":\([0-9]*\).*/\1/p"
}

# connect_times_out SRC - a TCP connect from SRC to port 25 gets no answer
connect_times_out() {
	! tb_cl timeout 4 nc -z -w 3 -s "$1" $TB_GW4 25
}

test_spamtrap_hits_ban_at_the_51st() {
	start || return 1
	local out
	# 50 hits in two messages; the non-trap recipient is still delivered.
	out=$(mail $C1 a@client.test $(traps 25) user@gw.test)
	grep -q "250 2.0.0 Ok: queued" <<<"$out" || { fail "mail with traps not delivered: $out"; return 1; }
	mail $C1 a@client.test $(traps 25) >/dev/null
	[[ $(hits $C1 spamtrap) == 50 ]] || { fail "50 hits expected: $(mx sender show $C1)"; return 1; }
	mx ban show $C1 | grep -q "is not banned" || { fail "banned at 50"; return 1; }
	# The 51st: Postfix replies 521 and hangs up; the ban is in the data plane.
	out=$(mail $C1 a@client.test trap@gw.test)
	grep -q "<\*\* 521 5.7.1 .*client \[$C1\] banned: spam-trap hits" <<<"$out" ||
		{ fail "no 521 for the 51st hit: $out"; return 1; }
	out=$(mx ban show $C1)
	[[ $out == *"spam-trap hits"* && ( $out == *" 23h59m"* || $out == *" 1d "* ) ]] ||
		{ fail "no 24 h ban: $out"; return 1; }
	connect_times_out $C1 || { fail "a banned sender still connects"; return 1; }
	(( $(counter drop_banned) >= 1 )) || { fail "drop_banned did not count"; return 1; }
	[[ $(counter sender_spamtrap_hits) == 51 && $(counter sender_bans) == 1 &&
	   $(counter policy_banned) == 1 && $(counter policy_requests) == 52 ]] ||
		{ fail "counters: $(mx stats | grep -E 'sender|policy')"; return 1; }
	# Another sender is not touched.
	out=$(mail $C2 b@client.test user@gw.test)
	grep -q "250 2.0.0 Ok: queued" <<<"$out" || fail "an innocent sender was hurt: $out"
}

test_backscatter_counts_bounces_only() {
	start || return 1
	local i out
	# A mail with a sender to the backscatter trap is no backscatter.
	for i in 1 2 3; do mail $C1 a@client.test bounce-trap@gw.test >/dev/null; done
	[[ $(hits $C1 backscatter) == "" || $(hits $C1 backscatter) == 0 ]] ||
		{ fail "non-bounces counted: $(mx sender show $C1)"; return 1; }
	for i in $(seq 1 20); do mail $C1 '<>' bounce-trap@gw.test >/dev/null; done
	[[ $(hits $C1 backscatter) == 20 ]] || { fail "20 bounces: $(mx sender show $C1)"; return 1; }
	mx ban show $C1 | grep -q "is not banned" || { fail "banned at 20"; return 1; }
	out=$(mail $C1 '<>' bounce-trap@gw.test)
	grep -q "521 5.7.1 .*backscatter-trap hits" <<<"$out" || { fail "no 521 at 21: $out"; return 1; }
	mx ban show $C1 | grep -q "backscatter-trap hits" || fail "no backscatter ban: $(mx ban show $C1)"
}

test_allowlisted_sender_is_never_banned() {
	start || return 1
	mx allow add $C1 || return 1
	mail $C1 a@client.test $(traps 60) >/dev/null
	mx ban show $C1 | grep -q "is not banned" || { fail "an allowlisted sender was banned"; return 1; }
	mx sender show $C1 | grep -q "nothing is known" || { fail "hits recorded: $(mx sender show $C1)"; return 1; }
	[[ $(counter sender_hits_ignored) == 60 ]] || fail "ignored hits: $(counter sender_hits_ignored)"
}

test_repeat_offenders_escalate_and_survive_kill() {
	start || return 1
	local out
	out=$(mx sender trap $C3 spam count 51 2>&1)
	[[ $out == *"banned for 1d"* || $out == *"banned for 23h59m"* ]] || { fail "first ban: $out"; return 1; }
	mx ban del $C3 || return 1
	agent_stop KILL
	agent_start -C "$CONF" || return 1
	out=$(mx sender trap $C3 spam count 51 2>&1)
	[[ $out == *"banned for 7d"* || $out == *"banned for 6d23h59m"* ]] && [[ $out == *"ban 2 in a row"* ]] ||
		{ fail "second ban after kill -9: $out"; return 1; }
	mx ban show $C3 | grep -q "repeat offender: spam-trap hits" || { fail "reason: $(mx ban show $C3)"; return 1; }
	mx ban del $C3 || return 1
	agent_stop KILL
	agent_start -C "$CONF" || return 1
	out=$(mx sender trap $C3 backscatter count 21 2>&1)
	[[ $out == *"banned permanently"* && $out == *"ban 3 in a row"* ]] || { fail "third ban: $out"; return 1; }
	mx ban show $C3 | grep -q " permanent " || { fail "not permanent: $(mx ban show $C3)"; return 1; }
	# Hits under the window survive a crash too: 30 now, 21 after the restart.
	mx sender trap $C2 spam count 30 || return 1
	sleep 1.5	# hits are synced within a second
	agent_stop KILL
	agent_start -C "$CONF" || return 1
	[[ $(hits $C2 spamtrap) == 30 ]] || { fail "hits lost in the crash: $(mx sender show $C2)"; return 1; }
	# And through a snapshot: a clean stop writes one, the journal restarts empty.
	agent_stop TERM
	agent_start -C "$CONF" || return 1
	[[ $(hits $C2 spamtrap) == 30 ]] || { fail "hits lost in a snapshot: $(mx sender show $C2)"; return 1; }
	mx -j sender show $C3 | grep -q '"bans_in_a_row":3' || { fail "history lost in a snapshot: $(mx sender show $C3)"; return 1; }
	mx ban show $C3 | grep -q " permanent " || { fail "permanent ban lost: $(mx ban show $C3)"; return 1; }
	out=$(mx sender trap $C2 spam count 21 2>&1)
	[[ $out == *"banned for"* ]] || fail "30 + 21 hits did not ban: $out"
}

test_listed_until_an_operator_delists() {
	start || return 1
	local out
	mx sender spam $C1 || return 1
	out=$(mail $C1 a@client.test user@gw.test)
	grep -q "<\*\* 550 5.7.1 .*client \[$C1\] is listed after mail classified as spam" <<<"$out" ||
		{ fail "a listed sender's mail was not refused: $out"; return 1; }
	out=$(mail $C1 a@client.test postmaster@gw.test)
	grep -q "250 2.0.0 Ok: queued" <<<"$out" || { fail "postmaster refused: $out"; return 1; }
	# The connection is allowed: listing is no ban.
	mx ban show $C1 | grep -q "is not banned" || { fail "listed became banned"; return 1; }
	# An IPv4 client reported as ::ffff:a.b.c.d is the same sender.
	local q='request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=::ffff:%s\nsender=a@client.test\nrecipient=user@gw.test\n\n'
	out=$(printf "$q" $C1 | timeout 5 socat -t2 - UNIX-CONNECT:"$POLICY")
	[[ $out == "action=550 5.7.1 "*"is listed"* ]] || { fail "mapped address not listed: $out"; return 1; }
	# Allowlisted later: normal service at once.
	mx allow add $C1 || return 1
	out=$(printf "$q" $C1 | timeout 5 socat -t2 - UNIX-CONNECT:"$POLICY")
	[[ $out == "action=DUNNO" ]] || { fail "an allowlisted sender was refused: $out"; return 1; }
	mx allow del $C1 || return 1
	agent_stop KILL
	agent_start -C "$CONF" || return 1
	mx -j sender show $C1 | grep -q '"listed":true' || { fail "listing lost in a crash"; return 1; }
	mx sender delist $C1 || return 1
	out=$(mail $C1 a@client.test user@gw.test)
	grep -q "250 2.0.0 Ok: queued" <<<"$out" || fail "delisted sender refused: $out"
}

test_settings_and_trap_file_reload() {
	start 'spamtrap_hits = 3\nspamtrap_ban_ttl = 2h\nreply_trap_ban = %%h says no to %%a (%%r), 100%%%% sure\n' || return 1
	local out
	mail $C1 a@client.test $(traps 3) >/dev/null
	out=$(mail $C1 a@client.test trap@gw.test)
	grep -q "<\*\* 521 5.7.1 .*: $(hostname) says no to $C1 (spam-trap hits), 100% sure" <<<"$out" ||
		{ fail "spamtrap_hits = 3 or reply_trap_ban not applied: $out"; return 1; }
	mx ban show $C1 | grep -Eq " (2h|1h59m)" || { fail "spamtrap_ban_ttl: $(mx ban show $C1)"; return 1; }
	# A new trap on reload; an invalid trap file keeps the running one.
	echo 'new-trap@gw.test spam' >>"$TRAPS"
	mx reload >/dev/null || { fail "reload"; return 1; }
	mail $C2 a@client.test new-trap@gw.test >/dev/null
	[[ $(hits $C2 spamtrap) == 1 ]] || { fail "new trap not read on reload"; return 1; }
	echo 'broken-line' >>"$TRAPS"
	out=$(mx reload 2>&1) && { fail "a broken trap file was accepted"; return 1; }
	[[ $out == *"$TRAPS:6: expected 'ADDRESS spam' or 'ADDRESS backscatter'"* ]] ||
		{ fail "reload error: $out"; return 1; }
	mail $C2 a@client.test new-trap@gw.test >/dev/null
	[[ $(hits $C2 spamtrap) == 2 ]] || fail "traps lost by a refused reload"
	out=$("$BUILD/mxguardd" -C "$CONF" --check-config 2>&1) && { fail "check-config passed a broken trap file"; return 1; }
	[[ $out == *"$TRAPS:6:"* ]] || fail "check-config: $out"
}

# dns_start RECORDS... - dnsmasq on 198.18.0.1:53 with these dnsmasq options, and
# a resolv.conf pointing at it for Postfix alone (PF_RESOLV)
dns_start() {
	command -v dnsmasq >/dev/null || { fail "dnsmasq is not installed (make deps)"; return 1; }
	tb_gw dnsmasq --no-resolv --no-hosts --keep-in-foreground --bind-interfaces \
		--listen-address=198.18.0.1 --user=root --pid-file="$E2E_DIR/dnsmasq.pid" "$@" \
		>"$E2E_DIR/dnsmasq.log" 2>&1 &
	LISTENERS+=" $!"
	echo "nameserver 198.18.0.1" >"$E2E_DIR/resolv.conf"
	PF_RESOLV=$E2E_DIR/resolv.conf
	sleep 0.3
}

# A real DNS server (dnsmasq) and Postfix's own reverse lookups: a client
# without forward-confirmed PTR is put in the strict class, and its
# parallel limit is strict's 3 at once; a confirmed one is not, and one
# whose DNS is fixed is taken back out; an operator's class wins.
test_no_fcrdns_gets_the_strict_class() {
	local good=198.18.0.10 liar=198.18.0.11 none=198.18.0.12 mine=198.18.0.13 out
	dns_start --ptr-record=10.0.18.198.in-addr.arpa,good.client.test \
		--host-record=good.client.test,$good \
		--ptr-record=11.0.18.198.in-addr.arpa,liar.client.test \
		--host-record=liar.client.test,198.18.0.99 \
		--ptr-record=13.0.18.198.in-addr.arpa,mine.client.test || return 1
	PF_MAIN_EXTRA+=$'\nsmtpd_peername_lookup = yes'
	start 'ptr_class = strict\n' || return 1
	tb_client_addr $mine/24
	mx class add $mine 5 || return 1
	for c in $good $liar $none $mine; do
		out=$(mail $c a@client.test user@gw.test)
		grep -q "250 2.0.0 Ok: queued" <<<"$out" || { fail "mail from $c: $out"; return 1; }
	done
	grep -q "connect from good.client.test\[$good\]" "$PF_DIR/maillog" ||
		{ fail "Postfix did not confirm good.client.test: $(grep connect "$PF_DIR/maillog")"; return 1; }
	mx -j sender show $good | grep -q '"auto_class"' && { fail "a confirmed sender got a class"; return 1; }
	mx -j sender show $liar | grep -q '"auto_class":1' || { fail "liar: $(mx -j sender show $liar)"; return 1; }
	mx -j sender show $none | grep -q '"auto_class":1' || { fail "no PTR: $(mx -j sender show $none)"; return 1; }
	mx -j ip show $none | grep -q '"class":1,' || { fail "ip show: $(mx ip show $none)"; return 1; }
	mx -j ip show $mine | grep -q '"class":5,' || { fail "the operator's class lost: $(mx ip show $mine)"; return 1; }
	# The data plane holds it to strict's 3 parallel connections.
	ch_start 1 $none $TB_GW4 || return 1
	out=$(ch_cmd 1 "open 5")
	[[ $out == *"220=3 421=2 "* ]] || { fail "strict limit for $none: $out"; return 1; }
	ch_cmd 1 "close 3" >/dev/null
	[[ $(counter sender_ptr_classed) == 2 ]] || { fail "classed: $(mx stats | grep ptr)"; return 1; }
	# It survives kill -9.
	agent_stop KILL
	agent_start -C "$CONF" || return 1
	mx -j sender show $liar | grep -q '"auto_class":1' || { fail "lost in a crash: $(mx -j sender show $liar)"; return 1; }
	# DNS fixed: the next mail takes the class back.
	kill "$(cat "$E2E_DIR/dnsmasq.pid")"
	sleep 0.3
	dns_start --ptr-record=11.0.18.198.in-addr.arpa,liar.client.test \
		--host-record=liar.client.test,$liar || return 1
	out=$(mail $liar a@client.test user@gw.test)
	grep -q "250 2.0.0 Ok: queued" <<<"$out" || { fail "mail from $liar: $out"; return 1; }
	mx -j sender show $liar | grep -q '"auto_class":null' || { fail "not taken back: $(mx -j sender show $liar)"; return 1; }
	mx -j ip show $liar | grep -q '"class":0,' || { fail "still strict: $(mx ip show $liar)"; return 1; }
	[[ $(counter sender_unclassed) == 1 ]] || fail "taken back: $(mx stats | grep classed)"
}

# sender_has AUTO ADDR - wait (SPF runs in the background) until the
# sender's auto_class is AUTO (a number or null)
sender_has() {
	for _ in $(seq 1 50); do
		mx -j sender show "$2" | grep -q "\"auto_class\":$1" && return 0
		[[ $1 == null ]] && mx -j sender show "$2" | grep -q '^null' && return 0
		sleep 0.1
	done
	return 1
}

# SPF through a real DNS server: the agent's own lookups (libspf2) go to
# dnsmasq. A sender failing SPF is put in the strict class; a pass, or
# a softfail (spf_softfail = no), is not; a pass later takes it back.
test_spf_fail_gets_the_strict_class() {
	local pass=198.18.0.10 soft=198.18.0.11 forger=198.18.0.12
	dns_start --txt-record=client.test,"v=spf1 ip4:$pass -all" \
		--txt-record=soft.test,"v=spf1 ip4:$pass ~all" \
		--txt-record=forger.test,"v=spf1 ip4:$forger -all" || return 1
	AGENT_RESOLV=$PF_RESOLV
	start || return 1
	mail $pass a@client.test user@gw.test | grep -q "250 2.0.0 Ok: queued" || { fail "mail from $pass"; return 1; }
	mail $soft b@soft.test user@gw.test | grep -q "250 2.0.0 Ok: queued" || { fail "mail from $soft"; return 1; }
	# A forged sender: the mail goes on (SPF only makes its limits stricter).
	mail $forger c@client.test user@gw.test | grep -q "250 2.0.0 Ok: queued" || { fail "mail from $forger"; return 1; }
	sender_has 1 $forger || { fail "SPF fail not classed: $(mx -j sender show $forger) $(mx stats | grep spf)"; return 1; }
	mx -j sender show $forger | grep -q '"auto_reasons":\["spf"\]' || { fail "reasons: $(mx -j sender show $forger)"; return 1; }
	mx -j ip show $forger | grep -q '"class":1,' || { fail "ip show: $(mx ip show $forger)"; return 1; }
	sender_has null $pass || { fail "SPF pass classed: $(mx -j sender show $pass)"; return 1; }
	sender_has null $soft || { fail "softfail classed: $(mx -j sender show $soft)"; return 1; }
	(( $(counter spf_pass) >= 1 && $(counter spf_softfail) >= 1 && $(counter spf_fail) >= 1 )) ||
		{ fail "counters: $(mx stats | grep spf)"; return 1; }
	# The same address sending for a domain it may send for: taken back.
	mail $forger d@forger.test user@gw.test | grep -q "250 2.0.0 Ok: queued" || { fail "mail from $forger"; return 1; }
	sender_has null $forger || { fail "SPF pass did not take the class back: $(mx -j sender show $forger)"; return 1; }
	mx -j ip show $forger | grep -q '"class":0,' || fail "still classed: $(mx ip show $forger)"
}

# A DNSBL through a real DNS server for DNSBLs (rbldnsd): a listed client
# is put in the strict class, one that is not listed is not. (Taking a
# class back on a clean answer is the code path of an SPF pass, tested
# above; a client is looked up again only after 10 minutes.)
test_dnsbl_listing_gets_the_strict_class() {
	command -v rbldnsd >/dev/null || { fail "rbldnsd is not installed (make deps)"; return 1; }
	local listed=198.18.0.12 clean=198.18.0.10 out
	mkdir -p "$E2E_DIR/rbl"
	chmod go+x "$E2E_DIR" "$E2E_DIR/rbl"	# rbldnsd reads its data as user rbldns
	printf ':127.0.0.2:listed, see https://bl.test/\n198.18.0.12\n' >"$E2E_DIR/rbl/bl.data"
	chmod 644 "$E2E_DIR/rbl/bl.data"
	tb_gw rbldnsd -n -u rbldns -w "$E2E_DIR/rbl" -b 198.18.0.1/53 -c 1s -p "$E2E_DIR/rbl.pid" \
		bl.test:ip4set:bl.data >"$E2E_DIR/rbldnsd.log" 2>&1 &
	LISTENERS+=" $!"
	echo "nameserver 198.18.0.1" >"$E2E_DIR/resolv.conf"
	AGENT_RESOLV=$E2E_DIR/resolv.conf
	start 'dnsbl_zones = bl.test\nspf_class = none\n' || return 1
	for c in $clean $listed; do
		out=$(mail $c a@client.test user@gw.test)
		grep -q "250 2.0.0 Ok: queued" <<<"$out" || { fail "mail from $c: $out"; return 1; }
	done
	sender_has 1 $listed || { fail "a listed client was not classed: $(mx -j sender show $listed) $(mx stats | grep dnsbl)"; return 1; }
	mx -j sender show $listed | grep -q '"auto_reasons":\["dnsbl"\]' || { fail "reasons: $(mx -j sender show $listed)"; return 1; }
	sender_has null $clean || { fail "a clean client was classed: $(mx -j sender show $clean)"; return 1; }
	(( $(counter dnsbl_listed) == 1 && $(counter dnsbl_clean) == 1 )) || { fail "counters: $(mx stats | grep dnsbl)"; return 1; }
	# The data plane holds it to strict's 3 parallel connections.
	ch_start 1 $listed $TB_GW4 || return 1
	out=$(ch_cmd 1 "open 4")
	[[ $out == *"220=3 421=1 "* ]] || fail "strict limit for a listed client: $out"
}

test_bad_policy_requests_change_nothing() {
	start || return 1
	local out ok='request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=198.18.0.10\nsender=a@client.test\nrecipient=trap@gw.test\n\n'
	out=$(printf "$ok" | timeout 5 socat -t2 - UNIX-CONNECT:"$POLICY")
	[[ $out == "action=DUNNO" ]] || { fail "a trap hit is answered DUNNO: '$out'"; return 1; }
	# Garbage, a wrong request type, an endless line, NULs: each connection closes.
	for bad in 'hello\n\n' 'request=junk\n\n' '=x\n\n' 'name=a\0b\n\n'; do
		out=$(printf "$bad" | timeout 5 socat -t2 - UNIX-CONNECT:"$POLICY")
		[[ -z $out ]] || { fail "'$bad' answered: $out"; return 1; }
	done
	out=$(head -c 40000 /dev/zero | tr '\0' 'a' | timeout 5 socat -t2 - UNIX-CONNECT:"$POLICY")
	[[ -z $out ]] || { fail "an endless request answered: $out"; return 1; }
	# Two requests in one write, and a pipelined conversation, both answered.
	out=$(printf "$ok$ok" | timeout 5 socat -t2 - UNIX-CONNECT:"$POLICY" | grep -c action=DUNNO)
	[[ $out == 2 ]] || { fail "pipelined requests: $out answers"; return 1; }
	# Only root and the postfix group may talk to it.
	su nobody -s /bin/sh -c "printf '$ok' | timeout 5 socat -t2 - UNIX-CONNECT:$POLICY" >/dev/null 2>&1 &&
		{ fail "nobody reached the policy service"; return 1; }
	[[ $(stat -c %a:%G "$POLICY") == 660:postfix ]] || { fail "socket mode: $(stat -c %a:%G "$POLICY")"; return 1; }
	[[ $(hits $C1 spamtrap) == 3 ]] || { fail "hits: $(mx sender show $C1)"; return 1; }
	(( $(counter policy_malformed) >= 5 )) || { fail "malformed: $(counter policy_malformed)"; return 1; }
	kill -0 "$AGENT_PID" || fail "the agent died"
}

run_tests
