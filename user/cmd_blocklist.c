// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	cmd_blocklist.c - mxguard blocklist { load | list | del }
 * DESCRIPTION
 *	A blocklist is a named owner of bans (bans.h): its bans are held
 *	beside any other owner's, and removing or replacing the list never
 *	removes or shortens another owner's ban of the same address.
 *
 *	A load is atomic, in the maps and across a crash: the whole file is
 *	parsed and checked first; its bans are journalled as a pending load
 *	(one write, one sync), put into the maps under a pending owner, and
 *	then a commit record makes them the list and the old list's bans go.
 *	Until the commit the old list holds; a load that fails, or an agent
 *	that dies before the commit, leaves the old list as it was (a
 *	restore drops a load without its commit).
 * DIAGNOSTICS
 *	A bad line fails the load with FILE:LINE: message unless 'lenient'
 *	was given; then bad lines are skipped and counted. A full ban table
 *	undoes the load and says so.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "blocklist.h"
#include "cmd.h"
#include "state.h"

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

/* load_tag - names one load in the journal, so its commit finds it */
static uint32_t load_tag(void)
{
	static uint32_t seq;
	uint32_t t = (uint32_t)(mx_now_ns() >> 10) ^ (++seq << 20);

	return t ? t : 1;
}

/* do_load - blocklist load NAME FILE [ttl D | permanent] [reason TEXT] [lenient] */
static int do_load(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct agent *a = c->agent;
	const char *name, *file, *reason = NULL;
	char text[MX_REASON_LEN], err[512], why[160];
	struct prefixes ps = { 0 };
	struct state_batch batch = STATE_BATCH_INIT(a);
	struct mx_bl_report rep;
	struct ban_opts o = { .permanent = true };
	uint64_t now = mx_now_ns(), removed = 0;
	struct mx_ban ban = { .flags = MX_BAN_F_BLOCKLIST, .added_ns = now };
	uint32_t tag = load_tag(), pending;
	bool lenient;
	size_t len;
	char *buf;
	int r = -1;

	REQ_ARGS(2);
	name = argv[0];
	file = argv[1];
	if (!mx_list_name_valid(name)) {
		p_err(c, "list name '%.40s': 1 to %d letters, digits, '.', '_' or '-'", name,
		      MX_LIST_NAME_MAX);
		return -1;
	}
	if (cmd_ban_opts(c, argc - 2, argv + 2, &o, true))
		return -1;
	reason = o.reason;
	lenient = o.lenient;
	snprintf(text, sizeof(text), "%s: %s", name, reason ? reason : "listed on blocklist");
	if (strlen(name) + 2 + strlen(reason ? reason : "") >= MX_REASON_LEN) {
		p_err(c, "name and reason together are longer than %d bytes", MX_REASON_LEN - 1);
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
	ban.reason = mx_bans_reason(&a->claims, text);
	pending = mx_bans_list_pending(&a->claims, name, tag);
	if (!pending) {
		p_err(c, "cannot load %s: %d blocklists at most", name, MX_MAX_LISTS - 1);
		goto out;
	}
	ban.flags |= pending << 16;
	for (size_t i = 0; i < ps.n; i++) {
		if (state_batch_ban(&batch, MX_REC_BAN_ADD, &ps.p[i], &ban, text, tag)) {
			p_err(c, "out of memory");
			goto undo;
		}
	}
	if (state_batch_commit(a, &batch, err, sizeof(err))) {
		p_err(c, "cannot load %s: %s", name, err);
		goto undo;
	}
	for (size_t i = 0; i < ps.n; i++) {
		int e = mx_bans_claim(&a->claims, &ps.p[i], &ban);

		if (e) {
			p_err(c, "cannot load %s: %s after %zu of %zu entries; the load was undone, "
			      "the list is as it was", name,
			      mx_table_strerror(&a->bans, &ps.p[i], e, why, sizeof(why)), i, ps.n);
			goto undo;
		}
	}
	/*
	 * The commit: from this record on, the new list is the list. (Tests
	 * kill the agent here to show that a load is all or nothing.)
	 */
	if (getenv("MXGUARD_TEST_DIE_BEFORE_COMMIT"))
		abort();
	if (state_list_commit(a, name, tag, err, sizeof(err))) {
		p_err(c, "cannot load %s: %s; the list is as it was", name, err);
		goto undo;
	}
	mx_bans_list_commit(&a->claims, pending, &removed);
	if (c->json) {
		jsonw_start_object(c->jw);
		jsonw_string_field(c->jw, "name", name);
		jsonw_string_field(c->jw, "format", mx_bl_format_name(rep.format));
		jsonw_uint_field(c->jw, "entries", rep.entries);
		jsonw_uint_field(c->jw, "removed", removed);
		jsonw_uint_field(c->jw, "skipped", rep.skipped);
		jsonw_end_object(c->jw);
	} else {
		fprintf(c->out, "%s: %lu entries (%s), %llu old ones removed", name, rep.entries,
			mx_bl_format_name(rep.format), (unsigned long long)removed);
		if (rep.skipped)
			fprintf(c->out, ", %lu bad lines skipped (first: line %lu)", rep.skipped,
				rep.first_bad_line);
		fputc('\n', c->out);
	}
	r = 0;
	goto out;
undo:
	/* The journal's pending records without a commit are dropped at restore too. */
	mx_bans_list_drop(&a->claims, pending, NULL);
out:
	free(ps.p);
	state_batch_free(&batch);
	return r;
}

struct count_arg {
	unsigned long n[MX_MAX_LISTS];
	uint32_t reason[MX_MAX_LISTS];
};

/* count_lists - claims per committed list */
static int count_lists(const struct mx_prefix *p, const struct mx_ban *b, void *arg)
{
	struct count_arg *ca = arg;
	uint32_t l = MX_BAN_LIST(b->flags);

	if ((b->flags & MX_BAN_F_BLOCKLIST) && l < MX_MAX_LISTS) {
		ca->n[l]++;
		ca->reason[l] = b->reason;
	}
	return 0;
}

/* do_list - blocklist list: each list with its entries */
static int do_list(struct mx_cmd_ctx *c, int argc, char **argv)
{
	static struct count_arg ca;
	struct mx_bans *bans = &c->agent->claims;

	if (argc)
		return BAD_ARG();
	memset(&ca, 0, sizeof(ca));
	mx_bans_foreach(bans, count_lists, &ca);
	if (c->json)
		jsonw_start_array(c->jw);
	else
		fprintf(c->out, "%-24s %10s  %s\n", "NAME", "ENTRIES", "REASON");
	for (uint32_t i = 1; i < MX_MAX_LISTS; i++) {
		const char *name = mx_bans_list_name(bans, i);
		const char *text = mx_bans_reason_text(bans, ca.reason[i]);
		size_t n = strlen(name);

		if (!name[0] || mx_bans_list_is_pending(bans, i, NULL))
			continue;
		text = !strncmp(text, name, n) && text[n] == ':' && text[n + 1] == ' ' ? text + n + 2
										       : "listed on blocklist";
		if (c->json) {
			jsonw_start_object(c->jw);
			jsonw_string_field(c->jw, "name", name);
			jsonw_uint_field(c->jw, "entries", ca.n[i]);
			jsonw_string_field(c->jw, "reason", text);
			jsonw_end_object(c->jw);
		} else {
			fprintf(c->out, "%-24s %10lu  %s\n", name, ca.n[i], text);
		}
	}
	if (c->json)
		jsonw_end_array(c->jw);
	return 0;
}

/* do_del - blocklist del NAME: the list and its bans go, nobody else's */
static int do_del(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct agent *a = c->agent;
	uint64_t removed = 0;
	uint32_t list;
	char err[512];

	REQ_ARGS(1);
	if (argc > 1) {
		NEXT_ARG();
		return BAD_ARG();
	}
	list = mx_list_name_valid(*argv) ? mx_bans_list(&a->claims, *argv, false) : 0;
	if (!list) {
		p_err(c, "no blocklist named '%.40s'", *argv);
		return -1;
	}
	if (state_list_drop(a, *argv, err, sizeof(err))) {
		p_err(c, "cannot delete %s: %s", *argv, err);
		return -1;
	}
	mx_bans_list_drop(&a->claims, list, &removed);
	if (c->json)
		jsonw_null(c->jw);
	else
		fprintf(c->out, "%s: %llu entries removed\n", *argv, (unsigned long long)removed);
	return 0;
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
