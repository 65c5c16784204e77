// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	policy.c - trap addresses and the Postfix policy delegation protocol
 * DESCRIPTION
 *	See policy.h. Both parsers take untrusted input: the trap file
 *	from an operator, requests from any process the socket's group
 *	admits. Lengths are checked before every copy; nothing is assumed
 *	to be NUL-terminated.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

#define TRAP_FILE_MAX	(64 << 20)
#define TRAP_LINE_MAX	1024

static int cmp_trap(const void *a, const void *b)
{
	return strcmp(((const struct mx_trap *)a)->addr, ((const struct mx_trap *)b)->addr);
}

/* valid_addr - "local@domain" or "@domain", printable, no blanks */
static const char *valid_addr(const char *s)
{
	const char *at = strchr(s, '@');

	if (strlen(s) > MX_TRAP_ADDR_MAX)
		return "address longer than 254 characters";
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '<' || *p == '>')
			return "address has a blank, a control character, <, > or non-ASCII";
	if (!at || strchr(at + 1, '@'))
		return "expected local@domain or @domain";
	if (!at[1] || at[1] == '.')
		return "no domain after '@'";
	return NULL;
}

int mx_traps_parse(struct mx_traps *t, const char *name, const char *text, size_t len,
		   char *err, size_t errlen)
{
	struct mx_errs e = { .buf = err, .len = errlen, .file = name };
	const char *p = text, *end = text + len;
	struct mx_traps next = { 0 };
	size_t cap = 0;
	unsigned int lineno = 0;

	memset(t, 0, sizeof(*t));
	if (err && errlen)
		err[0] = '\0';
	if (len > TRAP_FILE_MAX) {
		mx_errs_add(&e, 0, "file larger than %d bytes", TRAP_FILE_MAX);
		return e.n;
	}
	char line[TRAP_LINE_MAX + 1];

	while (e.n < 100 && mx_next_line(&p, end, line, TRAP_LINE_MAX, &lineno, &e)) {
		char *addr, *kind, *extra, *save = NULL;
		enum mx_trap_kind k;
		const char *why;

		addr = strtok_r(line, " \t\r", &save);
		if (!addr)
			continue;
		kind = strtok_r(NULL, " \t\r", &save);
		extra = strtok_r(NULL, " \t\r", &save);
		if (!kind || extra || mx_trap_kind_parse(kind, &k)) {
			mx_errs_add(&e, lineno, "expected 'ADDRESS spam' or 'ADDRESS backscatter'");
			continue;
		}
		why = valid_addr(addr);
		if (why) {
			mx_errs_add(&e, lineno, "'%.64s': %s", addr, why);
			continue;
		}
		if (next.n == MX_TRAPS_MAX) {
			mx_errs_add(&e, lineno, "more than %d trap addresses", MX_TRAPS_MAX);
			break;
		}
		if (next.n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct mx_trap *nv = realloc(next.v, ncap * sizeof(*nv));

			if (!nv) {
				mx_errs_add(&e, lineno, "out of memory");
				break;
			}
			next.v = nv;
			cap = ncap;
		}
		for (char *c = addr; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		next.v[next.n].addr = strdup(addr);
		next.v[next.n].kind = k;
		if (!next.v[next.n].addr) {
			mx_errs_add(&e, lineno, "out of memory");
			break;
		}
		next.n++;
	}
	if (next.n)
		qsort(next.v, next.n, sizeof(*next.v), cmp_trap);
	for (size_t i = 1; i < next.n && !e.n; i++) {
		if (!strcmp(next.v[i].addr, next.v[i - 1].addr) &&
		    next.v[i].kind != next.v[i - 1].kind)
			mx_errs_add(&e, 0, "'%s' is listed as both spam and backscatter",
			       next.v[i].addr);
	}
	if (e.n) {
		mx_traps_free(&next);
		return e.n;
	}
	*t = next;
	return 0;
}

int mx_traps_load(struct mx_traps *t, const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t n;
	int r;

	memset(t, 0, sizeof(*t));
	if (mx_read_file(path, TRAP_FILE_MAX, &buf, &n, err, errlen))
		return 1;
	r = mx_traps_parse(t, path, buf, n, err, errlen);
	free(buf);
	return r;
}

void mx_traps_free(struct mx_traps *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].addr);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* find - exact lookup of a lower-case key */
static const struct mx_trap *find(const struct mx_traps *t, const char *key)
{
	struct mx_trap k = { .addr = (char *)key };

	return t->n ? bsearch(&k, t->v, t->n, sizeof(*t->v), cmp_trap) : NULL;
}

bool mx_traps_match(const struct mx_traps *t, const char *rcpt, enum mx_trap_kind *kind)
{
	char low[MX_TRAP_ADDR_MAX + 1];
	const struct mx_trap *hit;
	const char *at;
	size_t n = strlen(rcpt);

	if (!n || n > MX_TRAP_ADDR_MAX)
		return false;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)rcpt[i]);
	at = strrchr(low, '@');
	if (!at || at == low)
		return false;
	hit = find(t, low);
	if (!hit)
		hit = find(t, at);
	if (hit)
		*kind = hit->kind;
	return hit != NULL;
}

/* attribute - copy a value into a field, or note that it did not fit */
static void attribute(struct mx_policy_req *req, const char *name, size_t nlen,
		      const char *val, size_t vlen)
{
	static const struct {
		const char *name;
		size_t off, size;
	} known[] = {
#define A(f) { #f, offsetof(struct mx_policy_req, f), sizeof(((struct mx_policy_req *)0)->f) }
		A(request), A(protocol_state), A(client_address), A(client_name),
		A(reverse_client_name), A(helo_name), A(sender), A(recipient), A(instance), A(size),
#undef A
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		char *field;

		if (strlen(known[i].name) != nlen || memcmp(known[i].name, name, nlen))
			continue;
		field = (char *)req + known[i].off;
		if (vlen >= known[i].size) {
			req->too_long = true;
			field[0] = '\0';
			return;
		}
		memcpy(field, val, vlen);
		field[vlen] = '\0';
		return;
	}
}

int mx_policy_parse(const char *buf, size_t len, struct mx_policy_req *req, size_t *used,
		    char *err, size_t errlen)
{
	size_t off = 0;

	memset(req, 0, sizeof(*req));
	while (off < len) {
		const char *line = buf + off;
		const char *nl = memchr(line, '\n', len - off);
		const char *eq;
		size_t l;

		if (!nl)
			break;
		l = (size_t)(nl - line);
		if (l && line[l - 1] == '\r')
			l--;
		if (l == 0) {
			*used = (size_t)(nl - buf) + 1;
			if (strcmp(req->request, "smtpd_access_policy")) {
				snprintf(err, errlen, "request '%s' is not smtpd_access_policy",
					 req->request);
				return -1;
			}
			return 1;
		}
		if (memchr(line, '\0', l)) {
			snprintf(err, errlen, "NUL byte in request");
			return -1;
		}
		eq = memchr(line, '=', l);
		if (!eq || eq == line) {
			snprintf(err, errlen, "expected name=value");
			return -1;
		}
		attribute(req, line, (size_t)(eq - line), eq + 1, l - (size_t)(eq - line) - 1);
		off = (size_t)(nl - buf) + 1;
	}
	if (len >= MX_POLICY_REQUEST_MAX) {
		snprintf(err, errlen, "request longer than %d bytes", MX_POLICY_REQUEST_MAX);
		return -1;
	}
	return 0;
}

bool mx_policy_role_address(const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	size_t n = at ? (size_t)(at - rcpt) : strlen(rcpt);

	return (n == 10 && !strncasecmp(rcpt, "postmaster", 10)) ||
	       (n == 5 && !strncasecmp(rcpt, "abuse", 5));
}
