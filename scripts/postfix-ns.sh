#!/usr/bin/env bash
# NAME
#	postfix-ns.sh - a private Postfix instance in a network namespace
# SYNOPSIS
#	scripts/postfix-ns.sh start|stop NETNS DIR
#	source scripts/postfix-ns.sh; pf_ns_start NETNS DIR; pf_ns_stop NETNS DIR
# DESCRIPTION
#	A real Postfix (Debian's package) with its own configuration, queue
#	and data directories under DIR, started inside NETNS through
#	nsenter (so /sys and the cgroup tree stay the host's), listening on
#	198.18.0.1:25 and [2001:db8:1::1]:25 of the test bed (PF_INET, a
#	Postfix inet_interfaces list, names others: gateway B's
#	"198.18.2.1, [2001:db8:3::1]"), logging to DIR/maillog. It never
#	refuses connections itself (its own limits are off): whatever
#	refuses is mxguard. The host's /etc/postfix and queue are not
#	touched. PF_SMTPD_TIMEOUT sets smtpd_timeout; PF_MAIN_EXTRA is
#	appended to main.cf (e.g. a policy service); PF_RESOLV names a
#	resolv.conf that Postfix alone sees (a private mount namespace
#	binds it over /etc/resolv.conf), so that its DNS lookups go to a
#	test's own DNS server.

# pf_ns_start NETNS DIR - configure and start; wait until port 25 listens
pf_ns_start() {
	local ns=$1 dir=$2 etc=$2/etc
	command -v postfix >/dev/null || { echo "postfix-ns: postfix is not installed (make deps)" >&2; return 1; }
	mkdir -p "$etc" "$dir/queue" "$dir/data"
	# The postfix user must reach its data directory (mktemp makes 0700 parents).
	chmod go+x "$(dirname "$dir")" "$dir"
	cp /etc/postfix/master.cf "$etc/master.cf"
	cat >"$etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
myhostname = gw.test
mydomain = gw.test
mydestination = gw.test
inet_interfaces = ${PF_INET:-198.18.0.1, [2001:db8:1::1]}
inet_protocols = all
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_timeout = ${PF_SMTPD_TIMEOUT:-300s}
smtpd_peername_lookup = no
disable_dns_lookups = yes
smtp_dns_support_level = disabled
${PF_MAIN_EXTRA:-}
CF
	# No chroot: the private queue is not set up as one.
	postconf -c "$etc" -F '*/*/chroot = n' >/dev/null
	grep -q '^postlog' "$etc/master.cf" ||
		echo 'postlog   unix-dgram n  -       n       -       1       postlogd' >>"$etc/master.cf"
	chown -R postfix:postfix "$dir/data"
	postfix -c "$etc" set-permissions >/dev/null 2>&1 || true
	# script(1) gives postfix a terminal: it then reports errors on it, not only to syslog.
	local start="script -qec 'postfix -c $etc start' /dev/null"
	[[ -n ${PF_RESOLV:-} ]] &&
		start="unshare --mount --propagation private sh -c \"mount --bind $PF_RESOLV /etc/resolv.conf && $start\""
	if ! nsenter --net=/run/netns/"$ns" sh -c "$start" >"$dir/start.log" 2>&1; then
		echo "postfix-ns: postfix did not start:" >&2
		tail -n 20 "$dir/start.log" "$dir/maillog" 2>/dev/null >&2
		return 1
	fi
	for _ in $(seq 1 100); do
		[[ $(nsenter --net=/run/netns/"$ns" ss -Hltn 'sport = :25' | wc -l) -ge 2 ]] && return 0
		sleep 0.1
	done
	echo "postfix-ns: postfix does not listen on port 25 in $ns:" >&2
	tail -n 20 "$dir/maillog" 2>/dev/null >&2
	return 1
}

# pf_ns_stop NETNS DIR - stop the instance; leave no process behind
pf_ns_stop() {
	local ns=$1 dir=$2 pid
	[[ -f $dir/etc/main.cf ]] || return 0
	nsenter --net=/run/netns/"$ns" postfix -c "$dir/etc" stop >/dev/null 2>&1
	pid=$(cat "$dir/queue/pid/master.pid" 2>/dev/null | tr -d ' ')
	for _ in $(seq 1 50); do
		[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	return 0
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	case ${1:-} in
	start) pf_ns_start "$2" "$3" ;;
	stop) pf_ns_stop "$2" "$3" ;;
	*) echo "usage: $0 start|stop NETNS DIR" >&2; exit 2 ;;
	esac
fi
