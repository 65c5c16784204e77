// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_blocklist.c - mxguard blocklist { load | list | del }
 * DESCRIPTION
 *	A blocklist is a named set of bans, told apart by their reason
 *	text "NAME: REASON" and the MX_BAN_F_BLOCKLIST flag. Loading a list
 *	again replaces its entries: the new ones are put first (an address
 *	on both lists is never unprotected), then the old ones no longer
 *	listed are removed. The whole list is parsed and checked before
 *	anything changes; all of its records go to the journal in one write
 *	and one sync before they reach the maps.
 * DIAGNOSTICS
 *	A bad line fails the load with FILE:LINE: message unless 'lenient'
 *	was given; then bad lines are skipped and counted. A full ban table
 *	undoes what the load added and says so.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "blocklist.h"
#include "cmd.h"
#include "state.h"

#define MX_BL_NAME_MAX 24

struct prefixes {
	struct mx_prefix *p;
	size_t n, cap;
};

/* collect - blocklist parser callback: keep every prefix */
static int collect(const struct mx_prefix *p, void *arg)
{
	struct prefixes *ps = arg;

	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 4096;
		struct mx_prefix *np = realloc(ps->p, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		ps->p = np;
		ps->cap = cap;
	}
	ps->p[ps->n++] = *p;
	return 0;
}

/* valid_name - letters, digits, '.', '_', '-' */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > MX_BL_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* list_ids - the reason ids whose text is "NAME: ..." */
static int list_ids(const struct agent *a, const char *name, bool ids[MX_MAX_REASONS])
{
	size_t l = strlen(name);
	int n = 0;

	for (uint32_t i = 1; i < MX_MAX_REASONS; i++) {
		char text[MX_REASON_LEN];

		mx_reason_text(a->reasons_fd, i, text, sizeof(text));
		ids[i] = !strncmp(text, name, l) && text[l] == ':' && text[l + 1] == ' ';
		n += ids[i];
	}
	return n;
}

struct sweep_arg {
	const bool *ids;
	uint64_t keep_stamp;	/* entries put by this load */
	struct prefixes old;
};

/* find_old - entries of the list that this load did not put */
static int find_old(const struct mx_prefix *p, const void *val, void *arg)
{
	const struct mx_ban *b = val;
	struct sweep_arg *s = arg;

	if (!(b->flags & MX_BAN_F_BLOCKLIST) || b->reason >= MX_MAX_REASONS || !s->ids[b->reason])
		return 0;
	if (b->added_ns == s->keep_stamp)
		return 0;
	return collect(p, &s->old);
}

/* remove_entries - journal and delete a set of bans */
static int remove_entries(struct mx_cmd_ctx *c, const struct prefixes *ps, char *err, size_t len)
{
	struct state_batch batch = STATE_BATCH_INIT(c->agent);

	for (size_t i = 0; i < ps->n; i++)
		if (state_batch_ban(&batch, MX_REC_BAN_DEL, &ps->p[i], NULL, NULL)) {
			state_batch_free(&batch);
			snprintf(err, len, "out of memory");
			return -1;
		}
	if (state_batch_commit(c->agent, &batch, err, len)) {
		state_batch_free(&batch);
		return -1;
	}
	state_batch_free(&batch);
	for (size_t i = 0; i < ps->n; i++)
		mx_table_del(&c->agent->bans, &ps->p[i]);
	return 0;
}

/* do_load - blocklist load NAME FILE [ttl D | permanent] [reason TEXT] [lenient] */
static int do_load(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct agent *a = c->agent;
	const char *name, *file, *reason = NULL;
	char text[MX_REASON_LEN], err[512];
	struct prefixes ps = { 0 }, added = { 0 };
	struct state_batch batch = STATE_BATCH_INIT(a);
	struct mx_bl_report rep;
	struct sweep_arg sw = { 0 };
	bool ids[MX_MAX_REASONS], lenient;
	struct ban_opts o = { .permanent = true };
	uint64_t now = mx_now_ns();
	struct mx_ban ban = { .flags = MX_BAN_F_BLOCKLIST };
	size_t len;
	char *buf;
	int r = -1;

	REQ_ARGS(2);
	name = argv[0];
	file = argv[1];
	if (!valid_name(name)) {
		p_err(c, "list name '%.40s': 1 to %d letters, digits, '.', '_' or '-'", name,
		      MX_BL_NAME_MAX);
		return -1;
	}
	if (cmd_ban_opts(c, argc - 2, argv + 2, &o, true))
		return -1;
	reason = o.reason;
	lenient = o.lenient;
	snprintf(text, sizeof(text), "%s: %s", name, reason ? reason : "listed on blocklist");
	if (strlen(name) + 2 + strlen(reason ? reason : "") >= MX_REASON_LEN) {
		p_err(c, "name and reason together are longer than %d characters", MX_REASON_LEN - 1);
		return -1;
	}

	/* Read and check everything before changing anything. */
	err[0] = '\0';
	buf = mx_blocklist_read(file, &len, err, sizeof(err));
	if (!buf) {
		p_err(c, "%s", err);
		return -1;
	}
	r = mx_blocklist_parse(file, buf, len, lenient, collect, &ps, &rep, err, sizeof(err));
	free(buf);
	if (r) {
		p_err(c, "%s%s", r == -ENOMEM ? "out of memory" : err,
		      r == -1 ? "; nothing loaded (add 'lenient' to skip bad lines)" : "");
		goto out;
	}
	r = -1;
	ban.expires_ns = o.permanent ? 0 : now + o.ttl_ns;
	ban.added_ns = now;	/* marks this load's entries */
	if (mx_reason_intern(a->reasons_fd, text, &ban.reason)) {
		p_err(c, "all reason texts are in use");
		goto out;
	}
	for (size_t i = 0; i < ps.n; i++) {
		if (state_batch_ban(&batch, MX_REC_BAN_ADD, &ps.p[i], &ban, text)) {
			p_err(c, "out of memory");
			goto out;
		}
	}
	if (state_batch_commit(a, &batch, err, sizeof(err))) {
		p_err(c, "cannot load %s: %s", name, err);
		goto out;
	}
	for (size_t i = 0; i < ps.n; i++) {
		struct mx_ban old;
		bool existed = mx_table_get(&a->bans, &ps.p[i], &old) == 0;
		int e = mx_table_put(&a->bans, &ps.p[i], &ban, BPF_ANY);

		if (e) {
			char why[160];

			/* Undo what this load added; the journal learns it too. */
			remove_entries(c, &added, err, sizeof(err));
			p_err(c, "cannot load %s: %s after %zu of %zu entries; the load was undone",
			      name, mx_table_strerror(&a->bans, &ps.p[i], e, why, sizeof(why)),
			      i, ps.n);
			goto out;
		}
		if (!existed && collect(&ps.p[i], &added)) {
			p_err(c, "out of memory");
			goto out;
		}
	}
	/* Then the entries this load no longer lists. */
	list_ids(a, name, ids);
	sw.ids = ids;
	sw.keep_stamp = now;
	mx_table_foreach(&a->bans, find_old, &sw);
	if (sw.old.n && remove_entries(c, &sw.old, err, sizeof(err))) {
		p_err(c, "loaded %s, but removing %zu old entries failed: %s", name, sw.old.n, err);
		goto out;
	}
	if (c->json) {
		jsonw_start_object(c->jw);
		jsonw_string_field(c->jw, "name", name);
		jsonw_string_field(c->jw, "format", mx_bl_format_name(rep.format));
		jsonw_uint_field(c->jw, "entries", rep.entries);
		jsonw_uint_field(c->jw, "removed", sw.old.n);
		jsonw_uint_field(c->jw, "skipped", rep.skipped);
		jsonw_end_object(c->jw);
	} else {
		fprintf(c->out, "%s: %lu entries (%s), %zu old ones removed", name, rep.entries,
			mx_bl_format_name(rep.format), sw.old.n);
		if (rep.skipped)
			fprintf(c->out, ", %lu bad lines skipped (first: line %lu)", rep.skipped,
				rep.first_bad_line);
		fputc('\n', c->out);
	}
	r = 0;
out:
	free(ps.p);
	free(added.p);
	free(sw.old.p);
	state_batch_free(&batch);
	return r;
}

struct count_arg {
	unsigned long n[MX_MAX_REASONS];
};

/* count_lists - blocklist entries per reason id */
static int count_lists(const struct mx_prefix *p, const void *val, void *arg)
{
	const struct mx_ban *b = val;
	struct count_arg *ca = arg;

	if ((b->flags & MX_BAN_F_BLOCKLIST) && b->reason < MX_MAX_REASONS)
		ca->n[b->reason]++;
	return 0;
}

/* do_list - blocklist list: each list with its entries */
static int do_list(struct mx_cmd_ctx *c, int argc, char **argv)
{
	static struct count_arg ca;

	if (argc)
		return BAD_ARG();
	memset(&ca, 0, sizeof(ca));
	mx_table_foreach(&c->agent->bans, count_lists, &ca);
	if (c->json)
		jsonw_start_array(c->jw);
	else
		fprintf(c->out, "%-24s %10s  %s\n", "NAME", "ENTRIES", "REASON");
	for (uint32_t i = 1; i < MX_MAX_REASONS; i++) {
		char text[MX_REASON_LEN], *colon;

		if (!ca.n[i])
			continue;
		mx_reason_text(c->agent->reasons_fd, i, text, sizeof(text));
		colon = strstr(text, ": ");
		if (!colon)
			continue;
		*colon = '\0';
		if (c->json) {
			jsonw_start_object(c->jw);
			jsonw_string_field(c->jw, "name", text);
			jsonw_uint_field(c->jw, "entries", ca.n[i]);
			jsonw_string_field(c->jw, "reason", colon + 2);
			jsonw_end_object(c->jw);
		} else {
			fprintf(c->out, "%-24s %10lu  %s\n", text, ca.n[i], colon + 2);
		}
	}
	if (c->json)
		jsonw_end_array(c->jw);
	return 0;
}

/* do_del - blocklist del NAME: remove all its entries */
static int do_del(struct mx_cmd_ctx *c, int argc, char **argv)
{
	bool ids[MX_MAX_REASONS];
	struct sweep_arg sw = { .ids = ids };
	char err[512];
	int r = 0;

	REQ_ARGS(1);
	if (argc > 1) {
		NEXT_ARG();
		return BAD_ARG();
	}
	if (!valid_name(*argv) || !list_ids(c->agent, *argv, ids)) {
		p_err(c, "no blocklist named '%.40s'", *argv);
		return -1;
	}
	mx_table_foreach(&c->agent->bans, find_old, &sw);
	if (!sw.old.n) {
		p_err(c, "no blocklist named '%.40s'", *argv);
		r = -1;
	} else if (remove_entries(c, &sw.old, err, sizeof(err))) {
		p_err(c, "cannot delete %s: %s", *argv, err);
		r = -1;
	} else if (c->json) {
		jsonw_null(c->jw);
	} else {
		fprintf(c->out, "%s: %zu entries removed\n", *argv, sw.old.n);
	}
	free(sw.old.p);
	return r;
}

static const struct cmd cmds[] = {
	{ "load",	do_load },
	{ "list",	do_list },
	{ "show",	do_list },
	{ "delete",	do_del },
	{ "help",	help_blocklist },
	{ 0 }
};

int do_blocklist(struct mx_cmd_ctx *c, int argc, char **argv)
{
	return cmd_select(c, cmds, argc, argv, help_blocklist);
}
