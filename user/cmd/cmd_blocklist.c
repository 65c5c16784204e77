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
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "agent.h"
#include "blocklist.h"
#include "commands.h"
#include "store.h"

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

/*
 * A load, as a job of the event loop (cmd.h): a thread reads and parses
 * the file; then the store replaces the list, a slice at a time between
 * other requests (store_load_*: journal, one sync, claims under a
 * pending owner, the commit, the old list's bans removed).
 */
struct load_job {
	struct mx_job job;
	struct agent *a;
	bool parsing;
	char name[MX_LIST_NAME_MAX + 1];
	char file[4096];
	char text[MX_REASON_LEN];
	char err[512];
	struct ban_opts o;
	struct mx_ban ban;
	/* The thread's: read only once parsed is set. */
	pthread_t thread;
	int parsed;			/* __atomic: 1 when the thread is done */
	int parse_r;
	struct mx_bl_report rep;
	struct prefixes ps;
	/* The store's, once parsed. */
	struct store_load load;
};

/* Names being loaded: one load of a name at a time. */
static char loading[8][MX_LIST_NAME_MAX + 1];

static bool loading_mark(const char *name, bool on)
{
	for (size_t i = 0; i < sizeof(loading) / sizeof(loading[0]); i++) {
		if (on && !loading[i][0]) {
			snprintf(loading[i], sizeof(loading[i]), "%s", name);
			return true;
		}
		if (!on && !strcmp(loading[i], name)) {
			loading[i][0] = '\0';
			return true;
		}
	}
	return false;
}

static bool is_loading(const char *name)
{
	for (size_t i = 0; i < sizeof(loading) / sizeof(loading[0]); i++)
		if (loading[i][0] && !strcmp(loading[i], name))
			return true;
	return false;
}

/* parse_thread - read and check the whole file, away from the event loop */
static void *parse_thread(void *arg)
{
	struct load_job *l = arg;
	size_t len;
	char *buf;

	l->err[0] = '\0';
	buf = mx_blocklist_read(l->file, &len, l->err, sizeof(l->err));
	if (!buf) {
		l->parse_r = -2;
	} else {
		l->parse_r = mx_blocklist_parse(l->file, buf, len, l->o.lenient, collect, &l->ps,
						&l->rep, l->err, sizeof(l->err));
		free(buf);
	}
	__atomic_store_n(&l->parsed, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void load_free(struct mx_job *j)
{
	struct load_job *l = (struct load_job *)j;

	if (l->thread)
		pthread_join(l->thread, NULL);
	store_load_free(&l->load);
	loading_mark(l->name, false);
	free(l->ps.p);
	free(l);
}

/* load_report - what the load did */
static void load_report(struct load_job *l, struct mx_cmd_ctx *c)
{
	if (c->json) {
		jsonw_start_object(c->jw);
		jsonw_string_field(c->jw, "name", l->name);
		jsonw_string_field(c->jw, "format", mx_bl_format_name(l->rep.format));
		jsonw_uint_field(c->jw, "entries", l->rep.entries);
		jsonw_uint_field(c->jw, "removed", l->load.removed);
		jsonw_uint_field(c->jw, "skipped", l->rep.skipped);
		jsonw_end_object(c->jw);
	} else {
		fprintf(c->out, "%s: %lu entries (%s), %llu old ones removed", l->name,
			l->rep.entries, mx_bl_format_name(l->rep.format),
			(unsigned long long)l->load.removed);
		if (l->rep.skipped)
			fprintf(c->out, ", %lu bad lines skipped (first: line %lu)", l->rep.skipped,
				l->rep.first_bad_line);
		fputc('\n', c->out);
	}
}

static int load_step(struct mx_job *j, struct mx_cmd_ctx *c, uint64_t deadline_us)
{
	struct load_job *l = (struct load_job *)j;
	int r;

	if (l->parsing) {
		if (!__atomic_load_n(&l->parsed, __ATOMIC_ACQUIRE))
			return 2;
		pthread_join(l->thread, NULL);
		l->thread = 0;
		l->parsing = false;
		if (l->parse_r) {
			p_err(c, "%s%s", l->parse_r == -ENOMEM ? "out of memory" : l->err,
			      l->parse_r == -1 ? "; nothing loaded (add 'lenient' to skip bad lines)" : "");
			l->job.ret = -1;
			return 0;
		}
		store_load_begin(&l->a->store, &l->load, l->name, l->text, &l->ban, l->ps.p,
				 l->ps.n);
		return 1;
	}
	r = store_load_step(&l->load, deadline_us);
	if (r)
		return r;
	l->job.ret = l->load.ret;
	if (l->load.ret)
		p_err(c, "%s", l->load.err);
	else
		load_report(l, c);
	return 0;
}

/* do_load - blocklist load NAME FILE [ttl D | permanent] [reason TEXT] [lenient] */
static int do_load(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct agent *a = c->agent;
	struct ban_opts o = { .permanent = true };
	struct load_job *l;
	uint64_t now_ns = mx_now_ns();

	REQ_ARGS(2);
	if (!strcmp(argv[0], MX_CS_LIST)) {
		p_err(c, "'%s' is the owner of the bans that come from CrowdSec's Local API; it "
		      "cannot be loaded from a file (name the list otherwise)", MX_CS_LIST);
		return -1;
	}
	if (!mx_list_name_valid(argv[0])) {
		p_err(c, "list name '%.40s': 1 to %d letters, digits, '.', '_' or '-'", argv[0],
		      MX_LIST_NAME_MAX);
		return -1;
	}
	if (cmd_ban_opts(c, argc - 2, argv + 2, &o, true))
		return -1;
	if (strlen(argv[0]) + 2 + strlen(o.reason ? o.reason : "") >= MX_REASON_LEN) {
		p_err(c, "name and reason together are longer than %d bytes", MX_REASON_LEN - 1);
		return -1;
	}
	if (strlen(argv[1]) >= sizeof(l->file)) {
		p_err(c, "file name too long");
		return -1;
	}
	if (is_loading(argv[0])) {
		p_err(c, "a load of %s is under way; try again when it is done", argv[0]);
		return -1;
	}
	l = calloc(1, sizeof(*l));
	if (!l || !loading_mark(argv[0], true)) {
		free(l);
		p_err(c, "too many loads at once; try again");
		return -1;
	}
	l->job.step = load_step;
	l->job.free = load_free;
	l->a = a;
	l->o = o;
	snprintf(l->name, sizeof(l->name), "%s", argv[0]);
	snprintf(l->file, sizeof(l->file), "%s", argv[1]);
	snprintf(l->text, sizeof(l->text), "%s: %s", l->name,
		 o.reason ? o.reason : "listed on blocklist");
	l->ban = (struct mx_ban){ .flags = MX_BAN_F_BLOCKLIST, .added_ns = now_ns,
				  .expires_ns = o.permanent ? 0 : now_ns + o.ttl_ns };
	l->parsing = true;
	if (pthread_create(&l->thread, NULL, parse_thread, l)) {
		l->thread = 0;
		load_free(&l->job);
		p_err(c, "cannot start reading %s", argv[1]);
		return -1;
	}
	return mx_cmd_job(c, &l->job);
}

struct count_arg {
	struct mx_cmd_ctx *c;	/* first: cmd_table_walk keeps it current */
	unsigned long n[MX_MAX_LISTS];
	uint32_t reason[MX_MAX_LISTS];
};

/* count_lists - the claims of a ban, per list (cmd_table_walk callback) */
static int count_lists(const struct mx_prefix *p, const void *val, void *arg)
{
	struct count_arg *ca = arg;
	struct mx_ban c[16];
	size_t n = mx_bans_expand(&ca->c->agent->store.claims, p, val, c, 16);

	for (size_t i = 0; i < n; i++) {
		uint32_t l = MX_BAN_LIST(c[i].flags);

		if ((c[i].flags & MX_BAN_F_BLOCKLIST) && l < MX_MAX_LISTS) {
			ca->n[l]++;
			ca->reason[l] = c[i].reason;
		}
	}
	return 0;
}

/* print_lists - each list with its entries, once all are counted */
static int print_lists(struct mx_cmd_ctx *c, void *arg, int r)
{
	struct count_arg *ca = arg;
	struct mx_bans *bans = &c->agent->store.claims;

	if (r) {
		p_err(c, "blocklist list stopped: %s", strerror(-r));
		return -1;
	}
	if (c->json)
		jsonw_start_array(c->jw);
	else
		fprintf(c->out, "%-24s %10s  %s\n", "NAME", "ENTRIES", "REASON");
	for (uint32_t i = 1; i < MX_MAX_LISTS; i++) {
		const char *name = mx_bans_list_name(bans, i);
		const char *text = mx_bans_reason_text(bans, ca->reason[i]);
		size_t n = strlen(name);

		if (!name[0] || mx_bans_list_is_pending(bans, i, NULL))
			continue;
		text = !strncmp(text, name, n) && text[n] == ':' && text[n + 1] == ' ' ? text + n + 2
										       : "listed on blocklist";
		if (c->json) {
			jsonw_start_object(c->jw);
			jsonw_string_field(c->jw, "name", name);
			jsonw_uint_field(c->jw, "entries", ca->n[i]);
			jsonw_string_field(c->jw, "reason", text);
			jsonw_end_object(c->jw);
		} else {
			fprintf(c->out, "%-24s %10lu  %s\n", name, ca->n[i], text);
		}
	}
	if (c->json)
		jsonw_end_array(c->jw);
	return 0;
}

/* do_list - blocklist list: each list with its entries (counted as a job) */
static int do_list(struct mx_cmd_ctx *c, int argc, char **argv)
{
	static struct count_arg ca;

	if (argc)
		return BAD_ARG();
	memset(&ca, 0, sizeof(ca));
	ca.c = c;
	return cmd_table_walk(c, &c->agent->store.bans, count_lists, print_lists, &ca, sizeof(ca));
}

/* do_del - blocklist del NAME: the list and its bans go, nobody else's */
static int do_del(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct agent *a = c->agent;
	uint64_t removed = 0;
	char err[512];
	int r;

	REQ_ARGS(1);
	if (argc > 1) {
		NEXT_ARG();
		return BAD_ARG();
	}
	if (!strcmp(*argv, MX_CS_LIST)) {
		p_err(c, "the bans of '%s' are CrowdSec's Local API's: they go when LAPI deletes "
		      "them ('cscli decisions delete'), not here", MX_CS_LIST);
		return -1;
	}
	r = store_list_drop(&a->store, *argv, &removed, err, sizeof(err));
	if (r == -ENOENT) {
		p_err(c, "%s", err);
		return -1;
	}
	if (r) {
		p_err(c, "cannot delete %s: %s", *argv, err);
		return -1;
	}
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
