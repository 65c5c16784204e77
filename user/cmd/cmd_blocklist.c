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

/*
 * A load, as a job of the event loop (cmd.h): a thread reads and parses
 * the file; then, a slice at a time between other requests, the records
 * are journalled (one sync at the end), the bans put under the pending
 * owner, the commit journalled, and the old list's bans removed.
 */
enum load_phase { L_PARSE, L_READY, L_JOURNAL, L_SYNC, L_CLAIM, L_COMMIT, L_UNDO };

struct load_job {
	struct mx_job job;
	struct agent *a;
	enum load_phase phase;
	char name[MX_LIST_NAME_MAX + 1];
	char file[4096];
	char text[MX_REASON_LEN];
	char err[512];
	struct ban_opts o;
	/* The thread's (parse, then sync): read only once done is set. */
	pthread_t thread;
	int parsed;			/* __atomic: 1 when the thread is done */
	int parse_r;
	int sync_r;
	struct mx_bl_report rep;
	struct prefixes ps;
	/* The loop's. */
	size_t i;			/* entries journalled or claimed so far */
	struct state_batch batch;
	struct mx_ban ban;
	uint32_t tag, pending;
	struct mx_bans_drop drop;
	bool dropping;
	bool journalling;		/* from the first record to the commit record */
	uint64_t removed;
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

/* sync_thread - the journalled load on disk, away from the event loop */
static void *sync_thread(void *arg)
{
	struct load_job *l = arg;

	l->sync_r = mx_persist_sync(&l->a->persist);
	__atomic_store_n(&l->parsed, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* load_open - the load's records are being written: no snapshot may begin */
static void load_open(struct load_job *l, bool open)
{
	if (open != l->journalling) {
		l->journalling = open;
		if (open)
			l->a->persist_batches++;
		else
			l->a->persist_batches--;
	}
}

static void load_free(struct mx_job *j)
{
	struct load_job *l = (struct load_job *)j;

	if (l->thread)
		pthread_join(l->thread, NULL);
	/* Stopped after its commit record (the agent stops): the commit is done now. */
	if (l->phase == L_COMMIT) {
		while (l->dropping && mx_bans_drop_step(&l->a->claims, &l->drop, UINT64_MAX) > 0)
			;
		mx_bans_commit_end(&l->a->claims, l->pending);
	}
	load_open(l, false);
	loading_mark(l->name, false);
	mx_bans_drop_free(&l->drop);
	state_batch_free(&l->batch);
	free(l->ps.p);
	free(l);
}

/* load_fail - say why, and undo what the load put */
static int load_fail(struct load_job *l, struct mx_cmd_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int load_fail(struct load_job *l, struct mx_cmd_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char msg[700];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p_err(c, "%s", msg);
	l->job.ret = -1;
	/* The journal's pending records without a commit are dropped at restore too. */
	if (l->pending && mx_bans_drop_begin(&l->a->claims, &l->drop, l->pending, 0) == 0) {
		l->phase = L_UNDO;
		return 1;
	}
	load_open(l, false);
	return 0;
}

/* load_report - what the load did */
static void load_report(struct load_job *l, struct mx_cmd_ctx *c)
{
	if (c->json) {
		jsonw_start_object(c->jw);
		jsonw_string_field(c->jw, "name", l->name);
		jsonw_string_field(c->jw, "format", mx_bl_format_name(l->rep.format));
		jsonw_uint_field(c->jw, "entries", l->rep.entries);
		jsonw_uint_field(c->jw, "removed", l->removed);
		jsonw_uint_field(c->jw, "skipped", l->rep.skipped);
		jsonw_end_object(c->jw);
	} else {
		fprintf(c->out, "%s: %lu entries (%s), %llu old ones removed", l->name,
			l->rep.entries, mx_bl_format_name(l->rep.format),
			(unsigned long long)l->removed);
		if (l->rep.skipped)
			fprintf(c->out, ", %lu bad lines skipped (first: line %lu)", l->rep.skipped,
				l->rep.first_bad_line);
		fputc('\n', c->out);
	}
}

#define LOAD_SLICE	256	/* entries between looks at the clock */

static int load_step(struct mx_job *j, struct mx_cmd_ctx *c, uint64_t deadline_us)
{
	struct load_job *l = (struct load_job *)j;
	struct agent *a = l->a;
	char why[160];
	int r;

	switch (l->phase) {
	case L_PARSE:
		if (!__atomic_load_n(&l->parsed, __ATOMIC_ACQUIRE))
			return 2;
		pthread_join(l->thread, NULL);
		l->thread = 0;
		if (l->parse_r) {
			p_err(c, "%s%s", l->parse_r == -ENOMEM ? "out of memory" : l->err,
			      l->parse_r == -1 ? "; nothing loaded (add 'lenient' to skip bad lines)" : "");
			l->job.ret = -1;
			return 0;
		}
		l->phase = L_READY;
		return 1;
	case L_READY:
		/*
		 * A snapshot stands for the journal up to its cut: one must not be
		 * written across a load (from its first record to its commit's end),
		 * or it would hold half of one without the other.
		 */
		if (a->persist.snap)
			return 2;
		l->ban.reason = mx_bans_reason(&a->claims, l->text);
		l->pending = mx_bans_list_pending(&a->claims, l->name, l->tag);
		if (!l->pending) {
			p_err(c, "cannot load %s: %d blocklists at most", l->name, MX_MAX_LISTS - 1);
			l->job.ret = -1;
			return 0;
		}
		l->ban.flags |= l->pending << 16;
		l->phase = L_JOURNAL;
		load_open(l, true);	/* no snapshot begins until the commit is done */
		return 1;
	case L_JOURNAL:
		for (; l->i < l->ps.n; l->i++) {
			if (l->i % LOAD_SLICE == 0 && mx_mono_us() >= deadline_us)
				return 1;
			if (state_batch_ban(&l->batch, MX_REC_BAN_ADD, &l->ps.p[l->i], &l->ban, l->text,
					    l->tag))
				return load_fail(l, c, "out of memory");
		}
		if (state_batch_write(a, &l->batch, l->err, sizeof(l->err)))
			return load_fail(l, c, "cannot load %s: %s", l->name, l->err);
		/* One sync for the whole list, in a thread: it may take a while. */
		l->parsed = 0;
		if (!a->persist_on || pthread_create(&l->thread, NULL, sync_thread, l)) {
			l->thread = 0;
			l->sync_r = a->persist_on ? mx_persist_sync(&a->persist) : 0;
			l->parsed = 1;
		}
		l->phase = L_SYNC;
		return 1;
	case L_SYNC:
		if (!__atomic_load_n(&l->parsed, __ATOMIC_ACQUIRE))
			return 2;
		if (l->thread)
			pthread_join(l->thread, NULL);
		l->thread = 0;
		if (l->sync_r)
			return load_fail(l, c, "cannot load %s: cannot record it on disk in %s: %s; "
					 "nothing changed", l->name, a->persist.dir, strerror(-l->sync_r));
		l->i = 0;
		l->phase = L_CLAIM;
		/* Taken again now: a collection while the list was journalled may have freed it. */
		l->ban.reason = mx_bans_reason(&a->claims, l->text);
		return 1;
	case L_CLAIM:
		for (; l->i < l->ps.n; l->i++) {
			if (l->i % LOAD_SLICE == 0 && mx_mono_us() >= deadline_us)
				return 1;
			r = mx_bans_claim(&a->claims, &l->ps.p[l->i], &l->ban);
			if (r)
				return load_fail(l, c, "cannot load %s: %s after %zu of %zu entries; the "
						 "load was undone, the list is as it was", l->name,
						 mx_table_strerror(&a->bans, &l->ps.p[l->i], r, why,
								   sizeof(why)), l->i, l->ps.n);
		}
		/*
		 * The commit: from this record on, the new list is the list. (Tests
		 * kill the agent here to show that a load is all or nothing.)
		 */
		if (getenv("MXGUARD_TEST_DIE_BEFORE_COMMIT"))
			abort();
		if (state_list_commit(a, l->name, l->tag, l->err, sizeof(l->err)))
			return load_fail(l, c, "cannot load %s: %s; the list is as it was", l->name,
					 l->err);
		l->phase = L_COMMIT;
		{
			uint32_t old = mx_bans_commit_target(&a->claims, l->pending);

			l->dropping = old && mx_bans_drop_begin(&a->claims, &l->drop, old,
								l->pending) == 0;
		}
		return 1;
	case L_COMMIT:
		if (l->dropping) {
			r = mx_bans_drop_step(&a->claims, &l->drop, deadline_us);
			if (r > 0)
				return 1;
			l->removed = l->drop.removed;
		}
		mx_bans_commit_end(&a->claims, l->pending);
		load_open(l, false);
		load_report(l, c);
		l->job.ret = 0;
		return 0;
	case L_UNDO:
		r = mx_bans_drop_step(&a->claims, &l->drop, deadline_us);
		if (r > 0)
			return 1;
		load_open(l, false);
		return 0;
	}
	return 0;
}

/* do_load - blocklist load NAME FILE [ttl D | permanent] [reason TEXT] [lenient] */
static int do_load(struct mx_cmd_ctx *c, int argc, char **argv)
{
	struct agent *a = c->agent;
	struct ban_opts o = { .permanent = true };
	struct load_job *l;
	uint64_t now = mx_now_ns();

	REQ_ARGS(2);
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
	l->tag = load_tag();
	l->ban = (struct mx_ban){ .flags = MX_BAN_F_BLOCKLIST, .added_ns = now,
				  .expires_ns = o.permanent ? 0 : now + o.ttl_ns };
	l->batch = (struct state_batch)STATE_BATCH_INIT(a);
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
	size_t n = mx_bans_expand(&ca->c->agent->claims, p, val, c, 16);

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
	struct mx_bans *bans = &c->agent->claims;

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
	return cmd_table_walk(c, &c->agent->bans, count_lists, print_lists, &ca, sizeof(ca));
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
