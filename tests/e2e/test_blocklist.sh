#!/usr/bin/env bash
# NAME
#	test_blocklist.sh - blocklists in the formats operators get them
# DESCRIPTION
#	Spamhaus DROP as text and as JSON, gzip-compressed, and a plain
#	list, loaded into a running agent: listed senders are dropped, a
#	reload of a list replaces its entries, a bad line fails the load
#	and changes nothing unless lenient, del removes a list, and lists
#	survive a restart.

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

run_tests
