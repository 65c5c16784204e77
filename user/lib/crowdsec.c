// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	crowdsec.c - CrowdSec's Local API: its decisions, and alerts for it
 * DESCRIPTION
 *	See crowdsec.h. JSON in both directions is json-c's; this file only
 *	checks what LAPI said against what mxguard needs, and says what
 *	mxguard decided in LAPI's models (crowdsec 1.4: pkg/models/alert.go,
 *	decision.go, source.go; pkg/models/localapi_swagger.yaml).
 * SECURITY
 *	Untrusted input is bounded before and while it is read (crowdsec.h).
 *	A decision that is not what the model says (an id that is not a
 *	positive integer, a value that is no address, a duration that is no
 *	Go duration, a field too long or of another type) makes the whole
 *	answer an error: a LAPI that says nonsense changes nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "crowdsec.h"
#include "jsondoc.h"

/* Go's duration units, longest names first where one is a prefix of another. */
static const struct {
	const char *name;
	double ms;
} units[] = {
	{ "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "\xce\xbcs", 1e-3 },
	{ "ms", 1 }, { "s", 1e3 }, { "m", 60e3 }, { "h", 3600e3 },
};

#define TEN_YEARS_MS	(10LL * 366 * 86400 * 1000)

/* mx_cs_duration - Go's time.Duration.String(): [-]N[.F]UNIT... or "0" */
int mx_cs_duration(const char *s, int64_t *ms)
{
	double total = 0;
	bool neg = false;
	int parts = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!strcmp(s, "0")) {
		*ms = 0;
		return 0;
	}
	while (*s) {
		double v = 0, scale = 1;
		bool digits = false;
		size_t u, best = 0, best_len = 0;

		for (; *s >= '0' && *s <= '9'; s++, digits = true)
			v = v * 10 + (*s - '0');
		if (*s == '.') {
			for (s++; *s >= '0' && *s <= '9'; s++, digits = true)
				v += (*s - '0') * (scale /= 10);
		}
		if (!digits || v > 1e15)
			return -1;
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			size_t l = strlen(units[u].name);

			if (!strncmp(s, units[u].name, l) && l > best_len) {
				best = u;
				best_len = l;
			}
		}
		if (!best_len)
			return -1;
		s += best_len;
		total += v * units[best].ms;
		if (total > 1e15 || ++parts > 16)
			return -1;
	}
	if (!parts)
		return -1;
	if (total > TEN_YEARS_MS)
		total = TEN_YEARS_MS;
	*ms = (int64_t)total * (neg ? -1 : 1);
	return 0;
}

/* document - one JSON value of at most MX_CS_BODY_MAX bytes, nothing after it (jsondoc.h) */
static json_object *document(const char *body, size_t len, bool *null, char *err, size_t errlen)
{
	if (len > MX_CS_BODY_MAX) {
		mx_err(err, errlen, "an answer of %zu bytes, more than %u", len, MX_CS_BODY_MAX);
		*null = false;
		return NULL;
	}
	return mx_json_document(body, len, MX_CS_DEPTH, null, err, errlen);
}

/* field - a string member of o, at most MX_CS_FIELD_MAX bytes; NULL if absent or not one */
static const char *field(json_object *o, const char *name, bool required, char *err,
			 size_t errlen)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !v) {
		if (required)
			mx_err(err, errlen, "a decision without '%s'", name);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) > MX_CS_FIELD_MAX) {
		mx_err(err, errlen, "a decision's '%s' is not a string of at most %d bytes", name,
		     MX_CS_FIELD_MAX);
		return NULL;
	}
	return json_object_get_string(v);
}

/* intern - a text's index in the stream's table, added if new (cut at a character) */
static int intern(struct mx_cs_stream *s, const char *t, uint16_t *idx)
{
	char buf[MX_CS_TEXT_MAX + 1];
	size_t n = 0;

	/* Control characters become '?'; a cut never splits a UTF-8 character. */
	while (t[n] && n < MX_CS_TEXT_MAX) {
		unsigned char c = (unsigned char)t[n];
		size_t l = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

		if (n + l > MX_CS_TEXT_MAX)
			break;
		for (size_t i = 0; i < l && t[n]; i++, n++)
			buf[n] = (c < 0x20 || c == 0x7f) ? '?' : t[n];
	}
	buf[n] = '\0';
	for (size_t i = 0; i < s->ntext; i++) {
		if (!strcmp(s->text[i], buf)) {
			*idx = (uint16_t)i;
			return 0;
		}
	}
	if (s->ntext == MX_CS_TEXTS_MAX)
		return -1;
	if (!s->text) {
		s->text = malloc(MX_CS_TEXTS_MAX * sizeof(*s->text));
		if (!s->text)
			return -1;
	}
	memcpy(s->text[s->ntext], buf, n + 1);
	*idx = (uint16_t)s->ntext++;
	return 0;
}

/*
 * value_of - an address, or ADDR/LEN (a Range's, or an Ip's as LAPI
 * takes them too; host bits are masked, and counted); IPv4-mapped IPv6
 * as IPv4.
 */
static int value_of(struct mx_cs_stream *s, const char *v, struct mx_prefix *p,
		    char *err, size_t errlen)
{
	char addr[64], why[160];
	const char *slash = strchr(v, '/');
	uint32_t len;
	uint8_t mask[16];
	bool host = false;
	struct mx_prefix raw;

	/* A CIDR in scope Ip too: LAPI takes one (cscli decisions import makes them). */
	if (!slash) {
		if (mx_parse_addr(v, &raw, why, sizeof(why)))
			return mx_err(err, errlen, "a decision's value '%.64s': %s", v, why);
	} else {
		if ((size_t)(slash - v) >= sizeof(addr))
			return mx_err(err, errlen, "a decision's value '%.64s' is too long", v);
		memcpy(addr, v, (size_t)(slash - v));
		addr[slash - v] = '\0';
		if (mx_parse_addr(addr, &raw, why, sizeof(why)))
			return mx_err(err, errlen, "a decision's value '%.64s': %s", v, why);
		if (mx_parse_u32(slash + 1, 0, raw.family == AF_INET ? 32 : 128, &len, why,
				 sizeof(why)))
			return mx_err(err, errlen, "a decision's value '%.64s': prefix length %s",
				    v, why);
		raw.len = (uint8_t)len;
		mx_prefix_mask(raw.family, len, mask);
		for (int i = 0; i < 16; i++) {
			host |= (raw.addr[i] & ~mask[i]) != 0;
			raw.addr[i] &= mask[i];
		}
		s->masked += host;
	}
	mx_prefix_unmap(&raw, p);
	return 0;
}

/* decision - one element of "new" or "deleted"; 1 when its scope is not ours */
static int decision(struct mx_cs_stream *s, json_object *o, struct mx_cs_decision *d,
		    char *err, size_t errlen)
{
	const char *scope, *value, *dur, *type, *scenario, *origin;
	json_object *id;
	int64_t n;

	if (!json_object_is_type(o, json_type_object))
		return mx_err(err, errlen, "a decision that is not an object");
	if (!json_object_object_get_ex(o, "id", &id) || !json_object_is_type(id, json_type_int))
		return mx_err(err, errlen, "a decision without a numeric 'id'");
	n = json_object_get_int64(id);
	if (n <= 0)
		return mx_err(err, errlen, "a decision with id %lld", (long long)n);
	d->id = (uint64_t)n;
	err[0] = '\0';
	scope = field(o, "scope", true, err, errlen);
	value = field(o, "value", true, err, errlen);
	dur = field(o, "duration", true, err, errlen);
	type = field(o, "type", true, err, errlen);
	scenario = field(o, "scenario", true, err, errlen);
	origin = field(o, "origin", false, err, errlen);
	if (!scope || !value || !dur || !type || !scenario || (!origin && err[0]))
		return -1;
	if (!type[0] || strlen(type) > MX_CS_TYPE_MAX)
		return mx_err(err, errlen, "a decision's type '%.40s' is not 1 to %d bytes", type,
			    MX_CS_TYPE_MAX);
	if (mx_cs_duration(dur, &d->duration_ms))
		return mx_err(err, errlen, "a decision's duration '%.40s' is no Go duration", dur);
	if (strcasecmp(scope, "ip") && strcasecmp(scope, "range")) {
		s->other_scope++;
		return 1;
	}
	if (value_of(s, value, &d->p, err, errlen))
		return -1;
	if (intern(s, scenario, &d->scenario) || intern(s, type, &d->type))
		return mx_err(err, errlen, "more than %d scenarios and types in one answer",
			    MX_CS_TEXTS_MAX);
	return 0;
}

/* list - "new" or "deleted": an array of decisions, or null, or absent */
static int list(struct mx_cs_stream *s, json_object *root, const char *name, size_t *count,
		char *err, size_t errlen)
{
	json_object *a;
	size_t n;

	*count = 0;
	if (!json_object_object_get_ex(root, name, &a) || !a)
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return mx_err(err, errlen, "'%s' is neither an array nor null", name);
	n = json_object_array_length(a);
	if (n > MX_CS_DECISIONS_MAX - (s->n_new + s->n_del))
		return mx_err(err, errlen, "more than %d decisions in one answer", MX_CS_DECISIONS_MAX);
	if (n) {
		size_t have = s->n_new + s->n_del;
		struct mx_cs_decision *nd = realloc(s->d, (have + n) * sizeof(*nd));

		if (!nd)
			return mx_err(err, errlen, "out of memory for %zu decisions", have + n);
		s->d = nd;
	}
	for (size_t i = 0; i < n; i++) {
		struct mx_cs_decision *d = &s->d[s->n_new + s->n_del + *count];
		int r = decision(s, json_object_array_get_idx(a, i), d, err, errlen);

		if (r < 0) {
			char why[256];

			snprintf(why, sizeof(why), "%s", err);
			return mx_err(err, errlen, "%s[%zu]: %s", name, i, why);
		}
		if (r == 0)
			(*count)++;
	}
	return 0;
}

void mx_cs_stream_free(struct mx_cs_stream *s)
{
	free(s->d);
	free(s->text);
	memset(s, 0, sizeof(*s));
}

int mx_cs_stream_parse(const char *body, size_t len, struct mx_cs_stream *s, char *err,
		       size_t errlen)
{
	json_object *root;
	size_t n;
	bool null;

	memset(s, 0, sizeof(*s));
	root = document(body, len, &null, err, errlen);
	if (!root) {
		if (null)
			mx_err(err, errlen, "the answer is null, not an object");
		return -1;
	}
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return mx_err(err, errlen, "the answer is not an object");
	}
	if (list(s, root, "new", &n, err, errlen))
		goto bad;
	s->n_new = n;
	if (list(s, root, "deleted", &n, err, errlen))
		goto bad;
	s->n_del = n;
	json_object_put(root);
	return 0;
bad:
	json_object_put(root);
	mx_cs_stream_free(s);
	return -1;
}

int mx_cs_types_parse(const char *s, struct mx_cs_types *t, char *err, size_t errlen)
{
	struct mx_cs_types out = { 0 };
	const char *p = s;

	while (*p) {
		size_t l = strcspn(p, ",");

		if (!l || l > MX_CS_TYPE_MAX)
			return mx_err(err, errlen, "'%.40s': a type of 1 to %d characters, "
				    "comma-separated", s, MX_CS_TYPE_MAX);
		if (out.n == MX_CS_TYPES_MAX)
			return mx_err(err, errlen, "at most %d types", MX_CS_TYPES_MAX);
		for (size_t i = 0; i < l; i++) {
			char c = p[i];

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
			      c == '-'))
				return mx_err(err, errlen, "'%.*s': a type is lower-case letters, "
					    "digits, '_' or '-'", (int)l, p);
		}
		memcpy(out.t[out.n], p, l);
		out.t[out.n++][l] = '\0';
		p += l;
		if (*p == ',' && !*++p)
			return mx_err(err, errlen, "'%.40s' ends with a comma", s);
	}
	if (!out.n)
		return mx_err(err, errlen, "no type");
	*t = out;
	return 0;
}

bool mx_cs_types_has(const struct mx_cs_types *t, const char *type)
{
	for (unsigned int i = 0; i < t->n; i++)
		if (!strcasecmp(t->t[i], type))
			return true;
	return false;
}

int mx_cs_secret_load(const char *what, const char *path, char *out, size_t outlen,
		      char *err, size_t errlen)
{
	char buf[MX_CS_SECRET_MAX + 3];
	struct stat st;
	size_t n;
	ssize_t got;
	int fd;

	if (!path || !path[0])
		return mx_err(err, errlen, "%s is not set", what);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return mx_err(err, errlen, "%s %s: %s", what, path, errno == ELOOP ?
			    "a symbolic link; name the file itself" : strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return mx_err(err, errlen, "%s %s: not a regular file", what, path);
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		close(fd);
		return mx_err(err, errlen, "%s %s: owned by uid %u; it must be root's (chown root %s)",
			    what, path, (unsigned int)st.st_uid, path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return mx_err(err, errlen, "%s %s: mode %04o lets group or others in; it must be "
			    "0600 or 0400 (chmod 600 %s)", what, path,
			    (unsigned int)(st.st_mode & 07777), path);
	}
	got = read(fd, buf, sizeof(buf));
	close(fd);
	if (got < 0)
		return mx_err(err, errlen, "%s %s: %s", what, path, strerror(errno));
	n = (size_t)got;
	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)buf[i] <= 0x20 || buf[i] == 0x7f) {
			explicit_bzero(buf, sizeof(buf));
			return mx_err(err, errlen, "%s %s: one line of printable characters without "
				    "blanks, please", what, path);
		}
	}
	if (!n || n > MX_CS_SECRET_MAX || n >= outlen) {
		explicit_bzero(buf, sizeof(buf));
		return mx_err(err, errlen, "%s %s: 1 to %d characters on one line", what, path,
			    MX_CS_SECRET_MAX);
	}
	memcpy(out, buf, n);
	out[n] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* dup_json - an object's text, malloc'd; the object is released */
static char *dup_json(json_object *o)
{
	char *s = o ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE)) : NULL;

	json_object_put(o);
	return s;
}

char *mx_cs_login_json(const char *machine_id, const char *password)
{
	json_object *o = json_object_new_object(), *sc = json_object_new_array();
	static const char *const scenarios[] = {
		"mxguard/spam-trap", "mxguard/backscatter-trap", "mxguard/repeat-offender",
		"mxguard/manual",
	};
	char *s;

	if (!o || !sc) {
		json_object_put(o);
		json_object_put(sc);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		json_object_array_add(sc, json_object_new_string(scenarios[i]));
	json_object_object_add(o, "machine_id", json_object_new_string(machine_id));
	json_object_object_add(o, "password", json_object_new_string(password));
	json_object_object_add(o, "scenarios", sc);
	s = dup_json(o);
	return s;
}

int mx_cs_token_parse(const char *body, size_t len, char *token, size_t toklen, char *err,
		      size_t errlen)
{
	json_object *root, *t;
	const char *v;
	bool null;

	root = document(body, len, &null, err, errlen);
	if (!root)
		return null ? mx_err(err, errlen, "a login answer that is null") : -1;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "token", &t) || !json_object_is_type(t, json_type_string)) {
		json_object_put(root);
		return mx_err(err, errlen, "a login answer without a token");
	}
	v = json_object_get_string(t);
	if (!v[0] || strlen(v) >= toklen || strlen(v) > MX_CS_TOKEN_MAX ||
	    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=")
	    != strlen(v)) {
		json_object_put(root);
		return mx_err(err, errlen, "a login answer whose token is not a JWT");
	}
	snprintf(token, toklen, "%s", v);
	json_object_put(root);
	return 0;
}

/* rfc3339 - a wall-clock time as LAPI's start_at and stop_at */
static void rfc3339(int64_t wall_s, char *buf, size_t len)
{
	time_t t = (time_t)wall_s;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

/* alert - one push as an alert with its decision */
static json_object *alert(const struct mx_cs_push *p, const char *hostname, int64_t now)
{
	json_object *a = json_object_new_object(), *src = json_object_new_object();
	json_object *ds = json_object_new_array(), *d = json_object_new_object();
	bool single = p->p.len == (p->p.family == AF_INET ? 32 : 128);
	char value[64], addr[64], dur[32], at[32], msg[256];
	int64_t left = p->until_wall_s ? p->until_wall_s - now : 10LL * 365 * 86400;

	if (!a || !src || !ds || !d) {
		json_object_put(a);
		json_object_put(src);
		json_object_put(ds);
		json_object_put(d);
		return NULL;
	}
	mx_format_prefix(&p->p, value, sizeof(value));
	snprintf(addr, sizeof(addr), "%s", value);
	addr[strcspn(addr, "/")] = '\0';
	snprintf(dur, sizeof(dur), "%llds", (long long)(left > 1 ? left : 1));
	snprintf(msg, sizeof(msg), "mxguard on %s: %s banned (%s)", hostname, value, p->scenario);
	rfc3339(p->at_wall_s, at, sizeof(at));
	json_object_object_add(a, "scenario", json_object_new_string(p->scenario));
	json_object_object_add(a, "scenario_hash", json_object_new_string(""));
	json_object_object_add(a, "scenario_version", json_object_new_string(""));
	json_object_object_add(a, "message", json_object_new_string(msg));
	json_object_object_add(a, "events_count", json_object_new_int((int32_t)(p->hits ? p->hits : 1)));
	json_object_object_add(a, "start_at", json_object_new_string(at));
	json_object_object_add(a, "stop_at", json_object_new_string(at));
	json_object_object_add(a, "capacity", json_object_new_int(0));
	json_object_object_add(a, "leakspeed", json_object_new_string("0"));
	json_object_object_add(a, "simulated", json_object_new_boolean(0));
	json_object_object_add(a, "events", json_object_new_array());
	json_object_object_add(src, "scope", json_object_new_string(single ? "Ip" : "Range"));
	json_object_object_add(src, "value", json_object_new_string(single ? addr : value));
	if (single)
		json_object_object_add(src, "ip", json_object_new_string(addr));
	else
		json_object_object_add(src, "range", json_object_new_string(value));
	json_object_object_add(a, "source", src);
	json_object_object_add(d, "duration", json_object_new_string(dur));
	json_object_object_add(d, "origin", json_object_new_string("mxguard"));
	json_object_object_add(d, "scenario", json_object_new_string(p->scenario));
	json_object_object_add(d, "scope", json_object_new_string(single ? "Ip" : "Range"));
	json_object_object_add(d, "type", json_object_new_string("ban"));
	json_object_object_add(d, "value", json_object_new_string(single ? addr : value));
	json_object_array_add(ds, d);
	json_object_object_add(a, "decisions", ds);
	return a;
}

char *mx_cs_alerts_json(const struct mx_cs_push *p, size_t n, const char *hostname,
			int64_t now_wall_s)
{
	json_object *arr = json_object_new_array();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *a = alert(&p[i], hostname, now_wall_s);

		if (!a) {
			json_object_put(arr);
			return NULL;
		}
		json_object_array_add(arr, a);
	}
	return dup_json(arr);
}

int mx_cs_pushes_add(struct mx_cs_pushes *q, struct mx_cs_push *p)
{
	if (q->n >= MX_CS_PUSHES_MAX)
		return -ENOSPC;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct mx_cs_push *v = realloc(q->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	if (!p->id) {
		if (!++q->next_id)
			q->next_id = 1;
		p->id = q->next_id;
	} else if (p->id > q->next_id) {
		q->next_id = p->id;
	}
	q->v[q->n++] = *p;
	return 0;
}

int mx_cs_pushes_done(struct mx_cs_pushes *q, uint32_t id)
{
	for (size_t i = 0; i < q->n; i++) {
		if (q->v[i].id == id) {
			memmove(&q->v[i], &q->v[i + 1], (q->n - i - 1) * sizeof(q->v[0]));
			q->n--;
			return 1;
		}
	}
	return 0;
}

void mx_cs_pushes_free(struct mx_cs_pushes *q)
{
	free(q->v);
	memset(q, 0, sizeof(*q));
}
