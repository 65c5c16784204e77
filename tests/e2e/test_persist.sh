#!/usr/bin/env bash
# NAME
#	test_persist.sh - an acknowledged ban is never lost
# DESCRIPTION
#	The agent is stopped, killed with SIGKILL in a loop while a client
#	adds bans as fast as it can, its journal is torn, its disk is full;
#	after each restart every ban the CLI acknowledged (exit 0) is in the
#	map, and enforced. The wall clock jumps ten years between a stop and
#	a start, with and without a reboot: no ban is lost, and after a
#	reboot the clock is reported.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pf_lib.sh"

C1=198.18.0.10

# listed PREFIX - is PREFIX in ban list?
listed() {
	mx -j ban list | tr '{' '\n' | grep -q "\"prefix\":\"$1\""
}

# restart - start again, adopting what the last agent left (pins, program, links)
restart() {
	agent_start
}

# fresh_start - remove what is pinned and start: only the disk remembers
fresh_start() {
	tb_gw "$BUILD/mxguardd" --detach --interface "$TB_GW_IF" --pin-dir "$PIN_DIR" >/dev/null 2>&1
	agent_start
}

test_bans_survive_restart() {
	listen_smtp && agent_start || return 1
	mx ban add $C1 ttl 1h reason "trap hits" && mx ban add 198.18.9.0/24 permanent &&
		mx ban add 2001:db8:5::/48 && mx allow add 198.18.7.7 || return 1
	mx ban add 198.18.0.99 && mx ban del 198.18.0.99 || return 1
	mx class add 198.18.6.0/24 strict && mx class add 198.18.6.9 3 && mx class del 198.18.6.9 || return 1
	agent_stop TERM
	agent_start || return 1
	for p in $C1 198.18.9.0/24 2001:db8:5::/48; do
		listed $p || fail "$p lost across a restart" || return 1
	done
	listed 198.18.0.99 && { fail "a deleted ban came back"; return 1; }
	mx ban show $C1 | grep -q "trap hits" || fail "reason lost: $(mx ban show $C1)" || return 1
	mx -j ban show 198.18.9.1 | grep -q '"expires_in_s":null' || fail "permanent ban lost its permanence" || return 1
	mx -j ban show $C1 | grep -Eq '"expires_in_s":35[0-9][0-9]' || fail "expiry not kept: $(mx -j ban show $C1)" || return 1
	mx allow list | grep -q 198.18.7.7 || fail "allowlist entry lost" || return 1
	mx ip show 198.18.6.9 | grep -q "^class *1$" || { fail "class assignment lost: $(mx ip show 198.18.6.9)"; return 1; }
	connects $C1 $TB_GW4 && fail "restored ban not enforced"
	return 0
}

# ban_left PREFIX - seconds left of the ban on PREFIX
ban_left() {
	mx -j ban show "$1" | sed -n 's/.*"expires_in_s":\([0-9]*\).*/\1/p'
}

# about_an_hour PREFIX - its 1-hour ban has (nearly) all its time left
about_an_hour() {
	local left
	left=$(ban_left "$1")
	[[ -n $left ]] && (( left >= 3540 && left <= 3600 )) ||
		fail "$2: the 1-hour ban on $1 has ${left:-no} seconds left: $(mx ban show "$1")"
}

# sender_ok - the sender state made by the tests below, as it was
sender_ok() {
	mx -j sender show 198.18.0.30 | grep -q '"spamtrap_hits":30' ||
		fail "$1: trap hits lost: $(mx sender show 198.18.0.30)" || return 1
	mx -j sender show 198.18.0.31 | grep -q '"listed":true' ||
		fail "$1: listing lost: $(mx sender show 198.18.0.31)"
}

# Ten years, in seconds.
DECADE=$((10 * 365 * 86400))

test_wall_clock_jump_without_reboot() {
	agent_start || return 1
	mx ban add $C1 ttl 1h && mx sender trap 198.18.0.30 spam count 30 &&
		mx sender spam 198.18.0.31 || return 1
	sleep 1.5	# trap hits are synced within a second
	agent_stop KILL
	MXGUARD_TEST_WALL_OFFSET=$DECADE agent_start || return 1
	grep -q "for tests only: the wall clock is moved by $DECADE s" "$AGENT_LOG" ||
		{ fail "the agent did not read MXGUARD_TEST_WALL_OFFSET"; return 1; }
	about_an_hour $C1 "the wall clock ten years ahead" && sender_ok "ten years ahead" || return 1
	grep -q "not trusted" "$AGENT_LOG" && { fail "a restart on the same boot doubted the clock"; return 1; }
	# A snapshot written with the clock ten years ahead, read with it right again.
	agent_stop TERM
	agent_start || return 1
	about_an_hour $C1 "the clock set right again" && sender_ok "set right again"
}

test_reboot_with_wall_clock_far_ahead() {
	listen_smtp && agent_start || return 1
	mx ban add $C1 ttl 1h reason "trap hits" && mx ban add 198.18.9.0/24 permanent &&
		mx sender trap 198.18.0.30 spam count 30 && mx sender spam 198.18.0.31 || return 1
	agent_stop KILL
	# A reboot: the maps are gone, another boot id, the wall clock ten years ahead.
	MXGUARD_TEST_BOOT_ID=e2e-1 MXGUARD_TEST_WALL_OFFSET=$DECADE fresh_start || return 1
	listed $C1 || { fail "a TTL ban was deleted: the clock ten years ahead"; return 1; }
	about_an_hour $C1 "after a reboot, ten years ahead" && sender_ok "ten years ahead" || return 1
	listed 198.18.9.0/24 || { fail "the permanent ban was lost"; return 1; }
	grep -Eq "warning: the wall clock \(.*\) is 3650d.* ahead of the latest of .* not trusted" \
		"$AGENT_LOG" || { fail "the clock was not reported"; return 1; }
	[[ $(mx -j stats | sed -n 's/.*"restore_clock_suspect":\([0-9]*\).*/\1/p') == 1 ]] ||
		{ fail "restore_clock_suspect: $(mx stats | grep restore)"; return 1; }
	connects $C1 $TB_GW4 && { fail "the restored ban is not enforced"; return 1; }
	# The event loop's first turn writes what was restored again, as this boot's:
	# killed and restarted on this boot, the clock still ahead, nothing is doubted.
	sleep 2
	agent_stop KILL
	MXGUARD_TEST_BOOT_ID=e2e-1 MXGUARD_TEST_WALL_OFFSET=$DECADE agent_start || return 1
	(( $(grep -c "not trusted" "$AGENT_LOG") == 1 )) ||
		{ fail "a restart on the same boot doubted the clock again"; return 1; }
	about_an_hour $C1 "restarted on that boot" || return 1
	# Its snapshot, written ten years ahead, read after a reboot with the clock right.
	agent_stop TERM
	: >"$AGENT_LOG"
	MXGUARD_TEST_BOOT_ID=e2e-2 fresh_start || return 1
	listed $C1 || { fail "the ban did not survive a snapshot written ten years ahead"; return 1; }
	about_an_hour $C1 "the next reboot, clock right" && sender_ok "the next reboot" || return 1
	grep -Eq "warning: the wall clock \(.*\) is 36[0-9][0-9]d.* behind the latest of .* not trusted" \
		"$AGENT_LOG" || fail "the clock behind the snapshot was not reported"
}

test_kill9_loop_loses_nothing() {
	agent_start || return 1
	local acked=$E2E_DIR/acked i=0 round
	: >"$acked"
	touch "$E2E_DIR/adding"
	# A client adding bans as fast as it can; it notes each acknowledged one.
	(
		n=0
		while [[ -e $E2E_DIR/adding ]]; do
			n=$((n + 1))
			p=198.18.$((100 + n / 250)).$((n % 250 + 1))
			"$BUILD/mxguard" -s "$SOCK" ban add $p >/dev/null 2>&1 && echo $p >>"$acked"
		done
	) &
	local adder=$!
	for round in 1 2 3 4 5; do
		sleep 0.$((RANDOM % 7 + 3))
		agent_stop KILL
		restart || { rm -f "$E2E_DIR/adding"; return 1; }
		local missing=0
		# Acknowledged before the listing starts: each must be listed.
		sort "$acked" >"$E2E_DIR/want"
		mx -j ban list | tr '{' '\n' | sed -n 's/.*"prefix":"\([^"]*\)".*/\1/p' | sort >"$E2E_DIR/have"
		missing=$(comm -23 "$E2E_DIR/want" "$E2E_DIR/have" | wc -l)
		(( missing == 0 )) || { rm -f "$E2E_DIR/adding"; fail "round $round: $missing acknowledged bans lost: $(comm -23 "$E2E_DIR/want" "$E2E_DIR/have" | head -3 | tr '\n' ' ')"; return 1; }
	done
	rm -f "$E2E_DIR/adding"
	wait $adder
	(( $(wc -l <"$acked") > 20 )) || { fail "only $(wc -l <"$acked") bans acknowledged: the test proved little"; return 1; }
	# On disk too: with the maps gone, the journal and snapshot bring back every one.
	agent_stop KILL
	fresh_start || return 1
	sort "$acked" >"$E2E_DIR/want"
	mx -j ban list | tr '{' '\n' | sed -n 's/.*"prefix":"\([^"]*\)".*/\1/p' | sort >"$E2E_DIR/have"
	missing=$(comm -23 "$E2E_DIR/want" "$E2E_DIR/have" | wc -l)
	(( missing == 0 )) || fail "$missing acknowledged bans not on disk"
}

test_restart_without_gap() {
	listen_smtp && agent_start || return 1
	mx ban add 198.18.0.20 || return 1
	tb_client_addr 198.18.0.20/24
	local first=$(mx -j prog show | sed -n 's/.*"prog_id":\([0-9]*\).*/\1/p')
	# Watch the interface and the banned client through the whole restart.
	(
		while [[ -e $E2E_DIR/watch ]]; do
			tb_gw ip -d link show "$TB_GW_IF" | grep -q "prog/xdp" || echo "no program" >>"$E2E_DIR/gap"
			connects 198.18.0.20 $TB_GW4 && echo "banned client got in" >>"$E2E_DIR/gap"
		done
	) &
	touch "$E2E_DIR/watch"
	local watcher=$!
	sleep 1
	agent_stop KILL
	sleep 1
	restart || { rm -f "$E2E_DIR/watch"; return 1; }
	sleep 2
	rm -f "$E2E_DIR/watch"
	wait $watcher
	[[ ! -s $E2E_DIR/gap ]] || { fail "during the restart: $(sort "$E2E_DIR/gap" | uniq -c | tr '\n' ' ')"; return 1; }
	grep -q "replaced the program left on" "$AGENT_LOG" || { fail "the new agent did not replace the program"; return 1; }
	local second=$(mx -j prog show | sed -n 's/.*"prog_id":\([0-9]*\).*/\1/p')
	[[ $first != "$second" ]] || { fail "same program id after restart"; return 1; }
	(( $(tb_gw ip -d link show "$TB_GW_IF" | grep -c "prog/xdp") == 1 )) || { fail "a second attachment"; return 1; }
	connects $C1 $TB_GW4 || fail "unbanned client blocked after the restart"
}

test_live_counts_survive_restart() {
	pf_start && agent_start || return 1
	ch_start 1 $C1 $TB_GW4 || return 1
	local out
	out=$(ch_cmd 1 "open 15")
	[[ $out == *"220=15 "* ]] || { fail "15 connects: $out"; return 1; }
	agent_stop KILL
	out=$(ch_cmd 1 "close 3")	# closed while no agent runs: sock_ops still counts
	restart || return 1
	# Postfix closes the three in its own time: wait for it, no longer than 10 s.
	wait_live $C1 12 || { fail "after restart: $(mx conn show)"; return 1; }
	out=$(ch_cmd 1 "open 4")
	[[ $out == *"220=3 421=1 "* ]] || { fail "4 more after restart: $out"; return 1; }
	ch_kill 1
	for _ in $(seq 1 50); do
		[[ -z $(mx -j conn show $C1 | grep -o '"live":[1-9][0-9]*') ]] && break
		sleep 0.1
	done
	[[ -z $(mx -j conn show $C1 | grep -o '"live":[1-9][0-9]*') ]] || { fail "counts after kill: $(mx conn show)"; return 1; }
	[[ $(mx -j stats | sed -n 's/.*"conn_corrections":\([0-9]*\).*/\1/p') == 0 ]] || fail "corrections after restart"
}

test_torn_journal_tail_is_cut() {
	agent_start || return 1
	mx ban add $C1 && mx ban add 198.18.0.11 || return 1
	agent_stop KILL
	# Half a record, then garbage: a write torn by a crash, a disk error.
	head -c 100 "$STATE_DIR/journal" >>"$STATE_DIR/journal.torn"
	cat "$STATE_DIR/journal.torn" >>"$STATE_DIR/journal"
	rm "$STATE_DIR/journal.torn"
	head -c 77 /dev/urandom >>"$STATE_DIR/journal"
	restart || return 1
	grep -q "cut 177 bytes" "$AGENT_LOG" || fail "torn tail not reported: $(tail -3 "$AGENT_LOG")" || return 1
	listed $C1 && listed 198.18.0.11 || fail "bans before the torn tail lost" || return 1
	mx ban add 198.18.0.12 || fail "cannot add after recovery" || return 1
	agent_stop TERM
	agent_start || return 1
	listed 198.18.0.12 || fail "ban added after recovery lost"
}

test_full_disk_refuses_and_keeps_enforcing() {
	mkdir -p "$STATE_DIR"
	mount -t tmpfs -o size=256k tmpfs "$STATE_DIR" || { fail "cannot mount a tmpfs"; return 1; }
	listen_smtp && agent_start || return 1
	mx ban add $C1 || return 1
	# Fill the disk; the journal's last page still has room for a few records.
	dd if=/dev/zero of="$STATE_DIR/filler" bs=4k 2>/dev/null
	local out i refused=0 acked=()
	for i in $(seq 1 40); do
		if out=$(mx ban add 198.18.3.$i 2>&1); then
			acked+=(198.18.3.$i)
		else
			refused=$((refused + 1))
			[[ $out == *"No space left on device"* ]] || { fail "unclear error: $out"; return 1; }
			listed 198.18.3.$i && { fail "a refused ban was applied"; return 1; }
		fi
	done
	(( refused > 0 )) || { fail "40 bans accepted on a full disk"; return 1; }
	# A blocklist too big for the disk: refused whole, nothing of it left behind.
	seq 1 5000 | awk '{ printf "198.19.%d.%d\n", int($1 / 250), $1 % 250 + 1 }' >"$E2E_DIR/big.txt"
	out=$(mx blocklist load big "$E2E_DIR/big.txt" 2>&1) && { fail "blocklist loaded on a full disk"; return 1; }
	[[ $out == *"No space left on device"* ]] || { fail "blocklist on a full disk: $out"; return 1; }
	listed 198.19.0.1 && { fail "part of a refused blocklist was applied"; return 1; }
	connects $C1 $TB_GW4 && { fail "old ban not enforced with a full disk"; return 1; }
	rm "$STATE_DIR/filler"
	mx ban add 198.18.0.77 || { fail "disk has room again, ban refused"; return 1; }
	agent_stop TERM
	agent_start || return 1
	for p in $C1 198.18.0.77 "${acked[@]}"; do
		listed $p || { fail "acknowledged ban $p lost"; return 1; }
	done
	listed 198.19.0.1 && { fail "the refused blocklist came back from the journal"; return 1; }
	return 0
}

run_tests
