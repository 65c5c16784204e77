#!/usr/bin/env bash
# NAME
#	test_blocklist.sh - blocklists in the formats operators get them
# DESCRIPTION
#	Spamhaus DROP as text and as JSON, gzip-compressed, and a plain
#	list, loaded into a running agent: listed senders are dropped, a
#	reload of a list replaces its entries, a bad line fails the load
#	and changes nothing unless lenient, del removes a list, and lists
#	survive a restart. A list owns its bans: deleting or replacing it
#	never removes or shortens an operator's ban or another list's, and a
#	load is all or nothing even when the agent dies in the middle. A listed
#	IPv4 prefix sets the /24 summary bits in front of the ban trie, which a
#	restart that adopts the pins rebuilds and a del clears.

source "$(dirname "$0")/lib.sh"

C1=198.18.0.10
C2=198.18.1.20

# listed PREFIX - is PREFIX in ban list?
listed() {
	mx -j ban list | tr '{' '\n' | grep -q "\"prefix\":\"$1\""
}

test_drop_txt_gzip_enforced() {
	tb_client_addr $C2/24
	listen_smtp && agent_start || return 1
	printf '; Spamhaus DROP List 2026/11/25 - (c) 2026 The Spamhaus Project SLU\n; Last-Modified: Tue, 24 Nov 2026 22:00:00 GMT\n198.18.1.0/24 ; SBL123456\n198.19.4.0/22 ; SBL654321\n' |
		gzip >"$E2E_DIR/drop.txt.gz"
	local out
	out=$(mx blocklist load drop "$E2E_DIR/drop.txt.gz" reason "on Spamhaus DROP") ||
		{ fail "load: $out"; return 1; }
	[[ $out == "drop: 2 entries (Spamhaus DROP (text)), 0 old ones removed" ]] || { fail "said: $out"; return 1; }
	connects $C2 $TB_GW4 && { fail "listed sender connects"; return 1; }
	connects $C1 $TB_GW4 || { fail "unlisted sender blocked"; return 1; }
	mx ban show $C2 | grep -q "drop: on Spamhaus DROP" || { fail "reason: $(mx ban show $C2)"; return 1; }
	mx -j blocklist list | grep -q '"name":"drop","entries":2' || fail "list: $(mx blocklist list)"
}

test_json_reload_replaces_and_del() {
	agent_start || return 1
	printf '{"cidr":"198.18.4.0/22","sblid":"SBL1","rir":"ripencc"}\n{"cidr":"2001:db8:9::/48","sblid":"SBL2","rir":"arin"}\n{"type":"metadata","timestamp":1764021600,"size":2,"records":2,"copyright":"(c) 2026 The Spamhaus Project SLU"}\n' >"$E2E_DIR/drop_v4.json"
	mx blocklist load dropj "$E2E_DIR/drop_v4.json" ttl 7d >/dev/null || { fail "json load"; return 1; }
	listed 198.18.4.0/22 && listed 2001:db8:9::/48 || { fail "json entries missing"; return 1; }
	mx ban add 198.18.99.1 reason manual || return 1
	# The list changes: one entry stays, one goes, one comes.
	printf '{"cidr":"198.18.4.0/22","sblid":"SBL1","rir":"ripencc"}\n{"cidr":"198.18.16.0/20","sblid":"SBL3","rir":"lacnic"}\n' >"$E2E_DIR/drop_v4.json"
	local out
	out=$(mx blocklist load dropj "$E2E_DIR/drop_v4.json")
	[[ $out == *"2 entries"*"1 old ones removed"* ]] || { fail "reload said: $out"; return 1; }
	listed 198.18.4.0/22 && listed 198.18.16.0/20 || { fail "new entries missing"; return 1; }
	listed 2001:db8:9::/48 && { fail "old entry kept"; return 1; }
	listed 198.18.99.1 || { fail "a manual ban was touched"; return 1; }
	mx blocklist del dropj >/dev/null || { fail "del"; return 1; }
	listed 198.18.4.0/22 || listed 198.18.16.0/20 && { fail "entries left after del"; return 1; }
	listed 198.18.99.1 || fail "del touched a manual ban"
}

test_bad_line_strict_and_lenient() {
	agent_start || return 1
	printf '198.18.0.1\n198.18.5.0/24\n198.18.0.7/24\n2001:db8::/32\nnonsense\n' >"$E2E_DIR/plain.txt"
	local out
	out=$(mx blocklist load plain "$E2E_DIR/plain.txt" 2>&1) && { fail "bad list accepted"; return 1; }
	[[ $out == *"plain.txt:3: "*"host bits"* ]] || { fail "error: $out"; return 1; }
	listed 198.18.0.1 && { fail "a failed load changed the bans"; return 1; }
	out=$(mx blocklist load plain "$E2E_DIR/plain.txt" lenient) || { fail "lenient: $out"; return 1; }
	[[ $out == *"3 entries"*"2 bad lines skipped (first: line 3)"* ]] || { fail "lenient said: $out"; return 1; }
	out=$(mx blocklist load plain /nonexistent/list 2>&1) && { fail "missing file accepted"; return 1; }
	[[ $out == *"/nonexistent/list"* ]] || fail "missing file: $out"
}

# ttl_of ADDR - the hours left on ADDR's ban in force, or "none"
ttl_of() {
	local s
	s=$(mx -j ban show "$1" | sed -n 's/.*"expires_in_s":\([0-9]*\).*/\1/p')
	[[ -n $s ]] && echo $(((s + 1800) / 3600)) || echo none
}

test_lists_never_take_over_other_bans() {
	agent_start || return 1
	printf '198.18.5.1\n198.18.5.2\n' >"$E2E_DIR/one.txt"
	printf '198.18.5.2\n198.18.5.3\n' >"$E2E_DIR/two.txt"
	mx ban add 198.18.5.1 ttl 7d reason "by hand" || return 1
	mx blocklist load one "$E2E_DIR/one.txt" ttl 1h >/dev/null || return 1
	mx blocklist load two "$E2E_DIR/two.txt" ttl 2h >/dev/null || return 1
	# A 1-hour list does not shorten the operator's 7 days.
	[[ $(ttl_of 198.18.5.1) == 168 ]] || fail "manual ban shortened to $(ttl_of 198.18.5.1) h" || return 1
	mx ban show 198.18.5.1 | grep -q "also: blocklist one" || fail "owners: $(mx ban show 198.18.5.1)" || return 1
	# The longest of two lists holds; deleting either leaves the other.
	[[ $(ttl_of 198.18.5.2) == 2 ]] || fail "two lists: $(ttl_of 198.18.5.2) h" || return 1
	mx blocklist del two >/dev/null || return 1
	[[ $(ttl_of 198.18.5.2) == 1 ]] || fail "after del two: $(ttl_of 198.18.5.2)" || return 1
	listed 198.18.5.3 && { fail "two's own entry stayed"; return 1; }
	# What holds survives a crash, owners included.
	agent_stop KILL
	agent_start || return 1
	mx blocklist del one >/dev/null || return 1
	[[ $(ttl_of 198.18.5.1) == 168 ]] || fail "manual ban after del one: $(ttl_of 198.18.5.1)" || return 1
	[[ $(ttl_of 198.18.5.2) == none ]] || fail "198.18.5.2 still banned" || return 1
	# ban del lifts the operator's ban only: a list's stays, and says so.
	mx blocklist load one "$E2E_DIR/one.txt" ttl 1h >/dev/null || return 1
	out=$(mx ban del 198.18.5.1 2>&1) || { fail "ban del: $out"; return 1; }
	[[ $out == *"blocklist one still bans it"* ]] || fail "ban del said: $out" || return 1
	[[ $(ttl_of 198.18.5.1) == 1 ]] || fail "the list's ban went with the manual one" || return 1
	out=$(mx ban del 198.18.5.2 2>&1) && { fail "ban del of a list's entry succeeded"; return 1; }
	[[ $out == *"held by blocklist one only"* ]] || fail "ban del said: $out"
}

test_load_is_all_or_nothing_across_a_crash() {
	agent_start || return 1
	printf '198.18.6.1\n198.18.6.2\n' >"$E2E_DIR/old.txt"
	seq 1 20000 | awk '{ printf "2001:db8:6::%x\n", $1 }' >"$E2E_DIR/new.txt"
	mx blocklist load l "$E2E_DIR/old.txt" >/dev/null || return 1
	agent_stop
	# The agent dies after journalling and applying the new list, before its commit.
	MXGUARD_TEST_DIE_BEFORE_COMMIT=1 agent_start || return 1
	mx blocklist load l "$E2E_DIR/new.txt" >/dev/null 2>&1 && { fail "the load survived its abort"; return 1; }
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
	agent_start || return 1
	listed 198.18.6.1 && listed 198.18.6.2 || { fail "the old list was lost"; return 1; }
	listed 2001:db8:6::1 && { fail "part of the new list was kept"; return 1; }
	mx -j blocklist list | grep -q '"name":"l","entries":2' || fail "list: $(mx blocklist list)" || return 1
	# The same load, committed: the new list, all of it, and none of the old.
	mx blocklist load l "$E2E_DIR/new.txt" >/dev/null || return 1
	agent_stop KILL
	agent_start || return 1
	listed 198.18.6.1 && { fail "old entries kept after the commit"; return 1; }
	mx -j blocklist list | grep -q '"name":"l","entries":20000' || fail "list: $(mx blocklist list)"
}

test_lists_survive_restart() {
	agent_start || return 1
	printf '198.18.0.0/24 ; SBL1\n198.18.2.0/23 ; SBL2\n' >"$E2E_DIR/drop.txt"
	(cd "$E2E_DIR" && "$BUILD/mxguard" -s "$SOCK" blocklist load drop drop.txt >/dev/null) ||
		{ fail "load by a relative path"; return 1; }
	agent_stop TERM
	agent_start || return 1
	listed 198.18.2.0/23 || { fail "list lost across a restart"; return 1; }
	mx -j blocklist list | grep -q '"name":"drop","entries":2' || fail "list: $(mx blocklist list)"
}

# cfg_summary - is the IPv4 ban summary in force (MX_CFG_F_SUMMARY_BAN4, bit 16 of
# config.flags, at byte 40 of the config: after the four masks)?
cfg_summary() {
	local b
	b=$(bpftool -j map lookup pinned "$PIN_DIR/config" key 0 0 0 0 | jq -r '.value[42]')
	(( (b & 1) == 1 ))
}

# summary_bit ADDR - the ban4_summary bit of ADDR's /24
summary_bit() {
	local a b c d i w v
	IFS=. read -r a b c d <<<"$1"
	i=$(( (a << 16) | (b << 8) | c ))
	w=$(( i >> 6 ))
	v=$(bpftool -j map lookup pinned "$PIN_DIR/ban4_summary" key $((w & 255)) \
		$(((w >> 8) & 255)) $(((w >> 16) & 255)) 0 | jq -r ".value[$(( (i & 63) >> 3 ))]")
	echo $(( (v >> (i & 7)) & 1 ))
}

# A listed /24 sets its summary bit only, an adopting restart rebuilds it, a del clears it.
test_ban_summary_across_restart() {
	tb_client_addr $C2/24
	listen_smtp && agent_start || return 1
	printf '198.18.1.0/24 ; SBL1\n198.19.4.0/22 ; SBL2\n' >"$E2E_DIR/drop.txt"
	mx blocklist load drop "$E2E_DIR/drop.txt" >/dev/null || { fail "load"; return 1; }
	cfg_summary || { fail "summary not in force after start"; return 1; }
	[[ $(summary_bit $C2) == 1 && $(summary_bit $C1) == 0 && $(summary_bit 198.19.7.1) == 1 ]] ||
		{ fail "bits: $(summary_bit $C2) $(summary_bit $C1) $(summary_bit 198.19.7.1)"; return 1; }
	connects $C2 $TB_GW4 && { fail "listed sender connects"; return 1; }
	connects $C1 $TB_GW4 || { fail "unlisted sender blocked"; return 1; }
	agent_stop KILL
	agent_start || return 1
	grep -q "adopted the maps" "$AGENT_LOG" || { fail "no adoption: $(tail -3 "$AGENT_LOG")"; return 1; }
	cfg_summary || { fail "summary not in force after the restart"; return 1; }
	[[ $(summary_bit $C2) == 1 && $(summary_bit $C1) == 0 ]] || { fail "bits after restart"; return 1; }
	connects $C2 $TB_GW4 && { fail "listed sender connects after the restart"; return 1; }
	connects $C1 $TB_GW4 || { fail "unlisted sender blocked after the restart"; return 1; }
	mx blocklist del drop >/dev/null || { fail "del"; return 1; }
	[[ $(summary_bit $C2) == 0 && $(summary_bit 198.19.7.1) == 0 ]] || { fail "bits after del"; return 1; }
	connects $C2 $TB_GW4 || fail "delisted sender blocked"
}

run_tests
