#!/usr/bin/env bash
# NAME
#	crowdsec-ns.sh - a private CrowdSec Local API (LAPI) in a network namespace
# SYNOPSIS
#	scripts/crowdsec-ns.sh start|stop|cleanup DIR [NETNS [ADDR:PORT]]
#	scripts/crowdsec-ns.sh cscli DIR [NETNS [ADDR:PORT]] -- CSCLI-ARGS...
#	source scripts/crowdsec-ns.sh; CS_DIR=DIR CS_NETNS=NETNS CS_LISTEN=ADDR:PORT
#	cs_start; cs_cscli decisions list; cs_bouncer_key NAME; cs_stop; cs_cleanup
# DESCRIPTION
#	Debian's crowdsec (1.4.6) run as the Local API alone (crowdsec -c
#	CONFIG -no-cs -no-capi): no agent, no acquisition, no hub, no
#	Central API, no console. Its configuration, SQLite database, logs
#	and the credentials cscli logs in with live under CS_DIR; the
#	host's /etc/crowdsec and /var/lib/crowdsec are not touched. It runs
#	in the network namespace CS_NETNS (entered with nsenter, so /sys
#	stays the host's; empty: the host's own) and listens on CS_LISTEN
#	(default 127.0.0.1:8080); CS_URL (http://CS_LISTEN) is exported.
#
#	cs_start writes the configuration, starts LAPI and waits until it
#	answers; on its first start it registers the machine "cscli" that
#	cs_cscli logs in with (cscli decisions/alerts go through the API;
#	bouncers and machines straight to the database). cs_stop leaves no
#	LAPI process behind whatever state it is in, and keeps the
#	database: cs_start again brings the same decisions back.
#	cs_cleanup stops it and removes CS_DIR. cs_cscli ARGS runs cscli
#	with this configuration (in CS_NETNS); cs_bouncer_key NAME registers
#	a bouncer and prints its API key; cs_machine NAME PASSWORD registers
#	a (validated) machine. LAPI's own logs: CS_DIR/log/crowdsec*.log.
#	The functions work in scripts with set -euo pipefail too.

CS_LISTEN=${CS_LISTEN:-127.0.0.1:8080}

# cs_in CMD... - run CMD in LAPI's network namespace
cs_in() {
	if [[ -n ${CS_NETNS:-} ]]; then
		nsenter --net=/run/netns/"$CS_NETNS" "$@"
	else
		"$@"
	fi
}

# cs_config - CS_DIR/etc/config.yaml and what it names; the data stay
cs_config() {
	local d=$CS_DIR
	mkdir -p "$d/etc" "$d/data" "$d/log" "$d/hub"
	chmod 0700 "$d"
	CS_CONFIG=$d/etc/config.yaml
	CS_URL=http://$CS_LISTEN
	export CS_URL
	cat >"$CS_CONFIG" <<-EOF
	common:
	  daemonize: false
	  log_media: file
	  log_level: info
	  log_dir: $d/log
	  working_dir: $d
	config_paths:
	  config_dir: $d/etc
	  data_dir: $d/data
	  simulation_path: $d/etc/simulation.yaml
	  hub_dir: $d/hub
	  index_path: $d/hub/.index.json
	  notification_dir: $d/etc/notifications
	  plugin_dir: /usr/lib/crowdsec/plugins
	cscli:
	  output: human
	  color: no
	db_config:
	  log_level: info
	  type: sqlite
	  db_path: $d/data/crowdsec.db
	  use_wal: true
	api:
	  client:
	    insecure_skip_verify: false
	    credentials_path: $d/etc/local_api_credentials.yaml
	  server:
	    log_level: info
	    listen_uri: $CS_LISTEN
	    profiles_path: $d/etc/profiles.yaml
	    trusted_ips:
	      - 127.0.0.1
	      - ::1
	prometheus:
	  enabled: false
	EOF
	echo 'simulation: off' >"$d/etc/simulation.yaml"
	# Alerts that come without decisions (none of ours do) get LAPI's usual 4 h ban.
	cat >"$d/etc/profiles.yaml" <<-'EOF'
	name: default_ip_remediation
	filters:
	 - Alert.Remediation == true && Alert.GetScope() == "Ip"
	decisions:
	 - type: ban
	   duration: 4h
	on_success: break
	EOF
}

# cs_answers - does LAPI answer HTTP (any status) at CS_URL?
cs_answers() {
	local code
	code=$(cs_in curl -s -o /dev/null -m 2 -w '%{http_code}' "$CS_URL/v1/decisions/stream" 2>/dev/null)
	[[ -n $code && $code != 000 ]]
}

# cs_start - start LAPI (configured on first use) and wait until it answers
cs_start() {
	local cmd pid
	for cmd in crowdsec cscli curl; do
		command -v $cmd >/dev/null || { echo "crowdsec-ns: $cmd is missing (make deps)" >&2; return 1; }
	done
	[[ -n ${CS_DIR:-} ]] || CS_DIR=$(mktemp -d /tmp/mxguard-crowdsec.XXXXXX)
	cs_stop
	cs_config
	cs_in crowdsec -c "$CS_CONFIG" -no-cs -no-capi >>"$CS_DIR/crowdsec.out" 2>&1 &
	pid=$!
	echo "$pid" >"$CS_DIR/crowdsec.pid"
	for _ in $(seq 1 200); do
		cs_answers && break
		cs_alive "$pid" || break
		sleep 0.1
	done
	if ! cs_answers; then
		echo "crowdsec-ns: LAPI did not start on $CS_URL:" >&2
		tail -n 10 "$CS_DIR/crowdsec.out" "$CS_DIR"/log/crowdsec*.log 2>/dev/null >&2
		cs_stop
		return 1
	fi
	# cscli's own machine, once: decisions and alerts commands log in with it.
	if [[ ! -s $CS_DIR/etc/local_api_credentials.yaml ]]; then
		cs_cscli machines add cscli --force --url "$CS_URL" \
			--password "$(head -c 24 /dev/urandom | base64 | tr -d '/+=')" \
			-f "$CS_DIR/etc/local_api_credentials.yaml" >"$CS_DIR/cscli.out" 2>&1 ||
			{ echo "crowdsec-ns: cscli machines add failed: $(cat "$CS_DIR/cscli.out")" >&2; cs_stop; return 1; }
	fi
}

# cs_alive PID - is PID running (a zombie is not)?
cs_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || true
	[[ -n $st && $st != Z* ]]
}

# cs_stop - stop LAPI; no process of it is left, the data stay
cs_stop() {
	local pid p
	[[ -n ${CS_DIR:-} && -d $CS_DIR ]] || return 0
	pid=$(cat "$CS_DIR/crowdsec.pid" 2>/dev/null) || true
	if [[ -n $pid ]] && cs_alive "$pid"; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			cs_alive "$pid" || break
			sleep 0.1
		done
		if cs_alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
	fi
	# Any other crowdsec or cscli run with this configuration is ours too.
	for p in $(pgrep -f -- "-c $CS_DIR/etc/config.yaml" 2>/dev/null); do
		case $(cat /proc/"$p"/comm 2>/dev/null) in
		crowdsec | cscli) kill -9 "$p" 2>/dev/null || true ;;
		esac
	done
	if [[ -n $pid ]]; then
		wait "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			cs_alive "$pid" || break
			sleep 0.1
		done
	fi
	rm -f "$CS_DIR/crowdsec.pid"
	return 0
}

# cs_cleanup - stop LAPI and remove its directory
cs_cleanup() {
	cs_stop
	[[ -n ${CS_DIR:-} ]] && rm -rf "$CS_DIR"
	return 0
}

# cs_cscli ARGS... - cscli against this LAPI
cs_cscli() {
	cs_in cscli -c "$CS_DIR/etc/config.yaml" "$@"
}

# cs_bouncer_key NAME - register bouncer NAME; its API key on stdout
cs_bouncer_key() {
	cs_cscli bouncers add "$1" -o raw 2>/dev/null | tail -n 1
}

# cs_machine NAME PASSWORD - register (or re-register) machine NAME, validated
cs_machine() {
	cs_cscli machines add "$1" --password "$2" --force -f "$CS_DIR/etc/machine-$1.yaml" \
		--url "$CS_URL" >/dev/null 2>&1
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	usage="usage: $0 start|stop|cleanup|cscli DIR [NETNS [ADDR:PORT]] [-- CSCLI-ARGS]"
	op=${1:-}
	pos=()
	shift || true
	while [[ $# -gt 0 && $1 != -- ]]; do pos+=("$1"); shift; done
	[[ $# -gt 0 ]] && shift
	CS_DIR=${pos[0]:-}
	CS_NETNS=${pos[1]:-}
	[[ -n ${pos[2]:-} ]] && CS_LISTEN=${pos[2]}
	[[ -n $CS_DIR ]] || { echo "$usage" >&2; exit 2; }
	case $op in
	start) cs_start; echo "CS_URL=$CS_URL" ;;
	stop) cs_stop ;;
	cleanup) cs_cleanup ;;
	cscli) cs_cscli "$@" ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
fi
