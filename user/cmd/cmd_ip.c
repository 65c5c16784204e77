// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_ip.c - mxguard ip show ADDR: everything known about an address
 * DESCRIPTION
 *	Allowlist entry, ban, class and its limits, the new-connection
 *	buckets (tokens left now) and the live connections of the source
 *	and of its prefix: what the data plane will do with its next SYN.
 */
#include <string.h>

#include "agent.h"
#include "commands.h"
#include "maps.h"

/* tokens_left - what a GCRA bucket would grant now */
static uint32_t tokens_left(const struct mx_bucket *b, uint64_t now_ns,
			    uint64_t interval, uint32_t burst)
{
	uint64_t tau, ahead;

	if (!b || !interval || b->tat_ns <= now_ns)
		return burst;
	tau = interval * (burst ? burst - 1 : 0);
	ahead = b->tat_ns - now_ns;
	if (ahead > tau)
		return 0;
	return (uint32_t)((tau - ahead) / interval) + 1;
}

/* src_key - the masked bucket/count key of an address, as the programs build it */
static void src_key(const struct agent *a, const struct mx_prefix *p, uint32_t kind,
		    uint8_t key[20], size_t *ksize, struct mx_prefix *masked)
{
	uint8_t mask[16];
	unsigned int len;

	if (p->family == AF_INET)
		len = kind == MX_BUCKET_SOURCE ? a->settings.src_len4 : a->settings.pfx_len4;
	else
		len = kind == MX_BUCKET_SOURCE ? a->settings.src_len6 : a->settings.pfx_len6;
	mx_prefix_mask(p->family, len, mask);
	*masked = *p;
	masked->len = (uint8_t)len;
	for (int i = 0; i < 16; i++)
		masked->addr[i] = p->addr[i] & mask[i];
	memset(key, 0, 20);
	*ksize = p->family == AF_INET ? 8 : 20;
	memcpy(key, masked->addr, p->family == AF_INET ? 4 : 16);
	memcpy(key + *ksize - 4, &kind, 4);
}

/* show_limit - one row: bucket tokens and live count of a source or prefix */
static void show_limit(struct mx_cmd_ctx *c, const struct mx_prefix *addr, uint32_t kind,
		       const struct mx_class_limits *cl, uint64_t now_ns)
{
	const struct agent *a = c->agent;
	uint8_t key[20];
	size_t ksize;
	struct mx_prefix masked;
	struct mx_bucket b;
	bool have_bucket;
	uint32_t live = 0, tokens, burst, parallel;
	uint64_t word;
	uint64_t interval;
	char pfx[64];

	src_key(a, addr, kind, key, &ksize, &masked);
	have_bucket = mx_map_lookup(addr->family == AF_INET ? a->dp.bucket4_fd : a->dp.bucket6_fd,
				    key, &b) == 0;
	if (mx_map_lookup(addr->family == AF_INET ? a->dp.count4_fd : a->dp.count6_fd, key, &word) ||
	    (live = MX_COUNT_OF(word)) == MX_COUNT_DYING)
		live = 0;
	interval = kind == MX_BUCKET_SOURCE ? cl->src_interval_ns : cl->pfx_interval_ns;
	burst = kind == MX_BUCKET_SOURCE ? cl->src_burst : cl->pfx_burst;
	parallel = kind == MX_BUCKET_SOURCE ? cl->src_parallel : cl->pfx_parallel;
	tokens = tokens_left(have_bucket ? &b : NULL, now_ns, interval, burst);
	mx_format_prefix(&masked, pfx, sizeof(pfx));
	if (c->json) {
		jsonw_name(c->jw, kind == MX_BUCKET_SOURCE ? "source" : "prefix");
		jsonw_start_object(c->jw);
		jsonw_string_field(c->jw, "prefix", pfx);
		jsonw_uint_field(c->jw, "tokens", tokens);
		jsonw_uint_field(c->jw, "burst", burst);
		jsonw_uint_field(c->jw, "live", live);
		jsonw_uint_field(c->jw, "parallel", parallel);
		jsonw_end_object(c->jw);
		return;
	}
	fprintf(c->out, "%-10s %s: %u of %u new-connection tokens left, %u of %u live connections\n",
		kind == MX_BUCKET_SOURCE ? "source" : "prefix", pfx, tokens, burst, live, parallel);
}

/* do_show - ip show ADDR */
static int do_show(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct agent *a = c->agent;
	struct mx_prefix p, hit;
	struct mx_class_ref ref = { 0 };
	struct mx_allow allow;
	struct mx_ban ban;
	uint64_t now_ns = mx_now_ns();
	bool allowed, banned = false, has_ban, has_class;
	char h[64], err[160], reason[MX_REASON_LEN] = "";

	REQ_ARGS(1);
	if (mx_parse_addr(*argv, &p, err, sizeof(err))) {
		p_err(c, "%s", err);
		return -1;
	}
	if (argc > 1) {
		NEXT_ARG();
		return BAD_ARG();
	}
	if (c->json)
		jsonw_start_object(c->jw);
	else
		fprintf(c->out, "address    %s\n", *argv);

	allowed = mx_table_match(&a->store.allows, &p, &hit, &allow) == 0;
	mx_format_prefix(&hit, h, sizeof(h));
	if (c->json)
		allowed ? jsonw_string_field(c->jw, "allowlisted", h) : jsonw_null_field(c->jw, "allowlisted");
	else
		fprintf(c->out, "allowlist  %s\n", allowed ? h : "-");

	has_ban = mx_table_match(&a->store.bans, &p, &hit, &ban) == 0;
	if (has_ban) {
		banned = !ban.expires_ns || ban.expires_ns > now_ns;
		mx_reason_text(a->store.reasons_fd, ban.reason, reason, sizeof(reason));
		mx_format_prefix(&hit, h, sizeof(h));
	}
	if (c->json) {
		jsonw_name(c->jw, "ban");
		if (has_ban) {
			jsonw_start_object(c->jw);
			jsonw_string_field(c->jw, "prefix", h);
			jsonw_bool_field(c->jw, "active", banned);
			jsonw_string_field(c->jw, "reason", reason);
			jsonw_end_object(c->jw);
		} else {
			jsonw_null(c->jw);
		}
	} else if (has_ban) {
		char ttl[32] = "permanent";

		if (ban.expires_ns)
			ban.expires_ns > now_ns ? mx_format_duration(ban.expires_ns - now_ns, ttl, sizeof(ttl))
					     : snprintf(ttl, sizeof(ttl), "expired");
		fprintf(c->out, "ban        %s, %s, %s%s\n", h, ttl, reason[0] ? reason : "-",
			banned && allowed ? " (no effect: allowlisted)" : "");
	} else {
		fprintf(c->out, "ban        -\n");
	}

	has_class = mx_table_match(&a->store.classes, &p, &hit, &ref) == 0;
	if (!has_class || ref.class_id >= MX_MAX_CLASSES)
		ref.class_id = 0;
	if (c->json)
		jsonw_uint_field(c->jw, "class", ref.class_id);
	else
		fprintf(c->out, "class      %u%s\n", ref.class_id, has_class ? "" : " (default)");

	show_limit(c, &p, MX_BUCKET_SOURCE, &a->settings.classes[ref.class_id], now_ns);
	show_limit(c, &p, MX_BUCKET_PREFIX, &a->settings.classes[ref.class_id], now_ns);

	if (c->json) {
		jsonw_string_field(c->jw, "next_syn", allowed ? "pass (allowlisted)" :
				   banned ? "drop (banned)" : "judged by the limits above");
		jsonw_end_object(c->jw);
	} else {
		fprintf(c->out, "next SYN   %s\n", allowed ? "passes: allowlisted" :
			banned ? "dropped: banned" : "judged by the limits above");
	}
	return 0;
}

static const struct cmd cmds[] = {
	{ "show",	do_show },
	{ "help",	help_ip },
	{ 0 }
};

int do_ip(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return cmd_select(c, cmds, argc, argv, help_ip);
}
