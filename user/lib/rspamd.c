// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	rspamd.c - what rspamd pushes: a message's verdict, and who may push it
 * DESCRIPTION
 *	See rspamd.h. The body is parsed by json-c in strict mode with
 *	UTF-8 validation; what mxguard reads of it (ip, action, rcpt, qid,
 *	from) is checked field by field, and any doubt refuses the whole
 *	body: a verdict is acted on whole or not at all.
 * SECURITY
 *	Every input here is untrusted until the credentials match: the
 *	head is bounded by MX_HTTP_HEAD_MAX, the body by
 *	MX_RSPAMD_BODY_MAX before it is parsed, the document's depth by
 *	MX_RSPAMD_DEPTH. The password is read from a file only root (or the
 *	agent's user) can read, and is never written anywhere: no error
 *	message quotes it, and it is cleared from memory when replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "http.h"
#include "jsondoc.h"
#include "rspamd.h"

static const char *const action_names[MX_RSPAMD_ACTIONS] = {
	[MX_RSPAMD_NO_ACTION] = "no action",
	[MX_RSPAMD_GREYLIST] = "greylist",
	[MX_RSPAMD_ADD_HEADER] = "add header",
	[MX_RSPAMD_REWRITE_SUBJECT] = "rewrite subject",
	[MX_RSPAMD_SOFT_REJECT] = "soft reject",
	[MX_RSPAMD_REJECT] = "reject",
	[MX_RSPAMD_DISCARD] = "discard",
	[MX_RSPAMD_QUARANTINE] = "quarantine",
};

const char *mx_rspamd_action_name(enum mx_rspamd_action a)
{
	return (unsigned int)a < MX_RSPAMD_ACTIONS ? action_names[a] : "?";
}

/* action_of - rspamd's name of an action (len bytes of s); underscore for space when loose */
static int action_of(const char *s, size_t len, bool loose, enum mx_rspamd_action *a)
{
	for (int i = 0; i < MX_RSPAMD_ACTIONS; i++) {
		const char *n = action_names[i];
		size_t j;

		if (strlen(n) != len)
			continue;
		for (j = 0; j < len; j++)
			if (s[j] != n[j] && !(loose && n[j] == ' ' && s[j] == '_'))
				break;
		if (j == len) {
			*a = (enum mx_rspamd_action)i;
			return 0;
		}
	}
	return -1;
}

int mx_rspamd_actions_parse(const char *list, uint32_t *mask, char *err, size_t errlen)
{
	const char *p = list;
	uint32_t m = 0;

	if (!strcmp(list, "none")) {
		*mask = 0;
		return 0;
	}
	for (;;) {
		const char *end = strchr(p, ','), *b, *e;
		enum mx_rspamd_action a;

		if (!end)
			end = p + strlen(p);
		for (b = p; b < end && (*b == ' ' || *b == '\t'); b++)
			;
		for (e = end; e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (e == b)
			return mx_err(err, errlen, "an empty action in '%s'", list);
		if (action_of(b, (size_t)(e - b), true, &a))
			return mx_err(err, errlen, "'%.*s' is no rspamd action (reject, add header, "
				    "rewrite subject, soft reject, greylist, no action, discard, "
				    "quarantine)", (int)(e - b > 40 ? 40 : e - b), b);
		m |= 1U << a;
		if (!*end)
			break;
		p = end + 1;
	}
	*mask = m;
	return 0;
}

void mx_rspamd_actions_format(uint32_t mask, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (int i = 0; i < MX_RSPAMD_ACTIONS; i++) {
		int n;

		if (!(mask & (1U << i)))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", action_names[i]);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "none");
}

/* for_log - a string as logs may show it: printable ASCII, the rest '?', cut to fit */
static void for_log(char *dst, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	dst[i] = '\0';
}

/* string_of - obj as a C string: no NUL inside, valid UTF-8, at most max bytes */
static const char *string_of(json_object *obj, size_t max, const char *what, char *err,
			     size_t errlen)
{
	const char *s;
	size_t len;

	if (!json_object_is_type(obj, json_type_string)) {
		mx_err(err, errlen, "%s is not a string", what);
		return NULL;
	}
	s = json_object_get_string(obj);
	len = (size_t)json_object_get_string_len(obj);
	if (strlen(s) != len) {
		mx_err(err, errlen, "%s holds a NUL character", what);
		return NULL;
	}
	if (len > max) {
		mx_err(err, errlen, "%s is longer than %zu bytes", what, max);
		return NULL;
	}
	if (!mx_utf8_valid(s)) {
		mx_err(err, errlen, "%s is not valid UTF-8", what);
		return NULL;
	}
	return s;
}

/* recipient - one rcpt entry: a string of 1..MX_RSPAMD_ADDR_MAX bytes, no control characters */
static const char *recipient(json_object *obj, size_t i, char *err, size_t errlen)
{
	char what[32];
	const char *s;

	snprintf(what, sizeof(what), "rcpt[%zu]", i);
	s = string_of(obj, MX_RSPAMD_ADDR_MAX, what, err, errlen);
	if (!s)
		return NULL;
	if (!*s) {
		mx_err(err, errlen, "%s is empty", what);
		return NULL;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			mx_err(err, errlen, "%s holds a control character", what);
			return NULL;
		}
	}
	return s;
}

/* recipients - rcpt: an array of strings, or rspamd's "unknown" for none */
static int recipients(json_object *rcpt, struct mx_rspamd_verdict *v, char *err, size_t errlen)
{
	size_t n;

	if (json_object_is_type(rcpt, json_type_string)) {
		if (strcmp(json_object_get_string(rcpt), "unknown") ||
		    json_object_get_string_len(rcpt) != 7)
			return mx_err(err, errlen, "rcpt is neither an array nor \"unknown\"");
		v->nrcpts = 0;
		return 0;
	}
	if (!json_object_is_type(rcpt, json_type_array))
		return mx_err(err, errlen, "rcpt is not an array of strings");
	n = json_object_array_length(rcpt);
	if (n > MX_RSPAMD_RCPTS_MAX)
		return mx_err(err, errlen, "more than %d recipients", MX_RSPAMD_RCPTS_MAX);
	for (size_t i = 0; i < n; i++) {
		v->rcpts[i] = recipient(json_object_array_get_idx(rcpt, i), i, err, errlen);
		if (!v->rcpts[i])
			return -1;
	}
	v->nrcpts = n;
	return 0;
}

/*
 * raw_control - the offset of a control character inside a string of
 * the document (RFC 8259 7: they must be escaped; json-c lets some
 * through), or -1. Outside strings the tokenizer refuses them itself.
 */
static long raw_control(const char *s, size_t len)
{
	bool in = false;

	for (size_t i = 0; i < len; i++) {
		if (!in) {
			in = s[i] == '"';
		} else if (s[i] == '\\') {
			i++;
		} else if (s[i] == '"') {
			in = false;
		} else if ((unsigned char)s[i] < 0x20) {
			return (long)i;
		}
	}
	return -1;
}

/*
 * document - the body (len bytes and a NUL after them) as one JSON
 * object, nothing after it; NULL with err (jsondoc.h)
 */
static json_object *document(const char *body, size_t len, char *err, size_t errlen)
{
	json_object *root;
	bool null;

	root = mx_json_document(body, len, MX_RSPAMD_DEPTH, &null, err, errlen);
	if (!root && !null)
		return NULL;
	if (!root || !json_object_is_type(root, json_type_object)) {	/* NULL: JSON's null */
		json_object_put(root);
		mx_err(err, errlen, "not a JSON object");
		return NULL;
	}
	return root;
}

int mx_rspamd_parse(const char *body, size_t len, struct mx_rspamd_verdict *v,
		    char *err, size_t errlen)
{
	json_object *root, *f;
	const char *s;
	char perr[96], *copy;
	long at;

	memset(v, 0, sizeof(*v));
	if (len > MX_RSPAMD_BODY_MAX)
		return mx_err(err, errlen, "body larger than %d bytes", MX_RSPAMD_BODY_MAX);
	if (memchr(body, '\0', len))
		return mx_err(err, errlen, "a NUL byte in the body");
	if ((at = raw_control(body, len)) >= 0)
		return mx_err(err, errlen, "not JSON: a control character in a string at byte %ld", at);
	copy = malloc(len + 1);
	if (!copy)
		return mx_err(err, errlen, "out of memory");
	memcpy(copy, body, len);
	copy[len] = '\0';
	/* RFC 3629 exactly (json-c's own check lets overlong forms through). */
	if (!mx_utf8_valid(copy)) {
		free(copy);
		return mx_err(err, errlen, "not UTF-8 (RFC 3629)");
	}
	root = document(copy, len, err, errlen);
	free(copy);
	if (!root)
		return -1;

	if (!json_object_object_get_ex(root, "ip", &f)) {
		mx_err(err, errlen, "no ip");
		goto bad;
	}
	if (!(s = string_of(f, 64, "ip", err, errlen)))
		goto bad;
	if (!strcmp(s, "unknown")) {
		mx_err(err, errlen, "ip is \"unknown\": rspamd was not told the client's address");
		goto bad;
	}
	if (mx_parse_addr(s, &v->addr, perr, sizeof(perr))) {
		mx_err(err, errlen, "ip: %s", perr);
		goto bad;
	}

	if (!json_object_object_get_ex(root, "action", &f)) {
		mx_err(err, errlen, "no action");
		goto bad;
	}
	if (!(s = string_of(f, 32, "action", err, errlen)))
		goto bad;
	if (action_of(s, strlen(s), false, &v->action)) {
		char shown[33];

		for_log(shown, sizeof(shown), s);
		mx_err(err, errlen, "unknown action '%s'", shown);
		goto bad;
	}

	if (!json_object_object_get_ex(root, "rcpt", &f)) {
		mx_err(err, errlen, "no rcpt");
		goto bad;
	}
	if (recipients(f, v, err, errlen))
		goto bad;

	if (json_object_object_get_ex(root, "qid", &f)) {
		if (!(s = string_of(f, sizeof(v->qid) - 1, "qid", err, errlen)))
			goto bad;
		for_log(v->qid, sizeof(v->qid), s);
	}
	if (json_object_object_get_ex(root, "from", &f)) {
		if (!(s = string_of(f, MX_RSPAMD_ADDR_MAX, "from", err, errlen)))
			goto bad;
		for_log(v->from, sizeof(v->from), s);
	}
	v->json = root;
	return 0;
bad:
	json_object_put(root);
	v->nrcpts = 0;
	return -1;
}

void mx_rspamd_verdict_free(struct mx_rspamd_verdict *v)
{
	json_object_put(v->json);
	v->json = NULL;
	v->nrcpts = 0;
}

/* The credentials. */

#define PWF	"verdict_password_file %s: "

int mx_rspamd_auth_load(struct mx_rspamd_auth *a, const char *user, const char *path,
			char *err, size_t errlen)
{
	char buf[MX_RSPAMD_PASSWORD_MAX + 3];
	size_t ulen = strlen(user), plen;
	struct stat st;
	ssize_t got;
	int fd;

	mx_rspamd_auth_clear(a);
	if (!ulen || ulen > MX_RSPAMD_USER_MAX || strchr(user, ':'))
		return mx_err(err, errlen, "verdict_user: 1 to %d characters, no ':'",
			    MX_RSPAMD_USER_MAX);
	if (!path || !path[0])
		return mx_err(err, errlen, "verdict_listen is set but verdict_password_file is not");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return mx_err(err, errlen, PWF "%s", path, errno == ELOOP ?
			    "a symbolic link; name the file itself" : strerror(errno));
	if (fstat(fd, &st)) {
		close(fd);
		return mx_err(err, errlen, PWF "%s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return mx_err(err, errlen, PWF "not a regular file", path);
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		close(fd);
		return mx_err(err, errlen, PWF "owned by uid %u; it must be root's (chown root %s)",
			    path, (unsigned int)st.st_uid, path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return mx_err(err, errlen, PWF "mode %04o lets group or others in; it must be "
			    "0600 or 0400 (chmod 600 %s)", path, (unsigned int)(st.st_mode & 07777),
			    path);
	}
	got = read(fd, buf, sizeof(buf));
	close(fd);
	if (got < 0)
		return mx_err(err, errlen, PWF "%s", path, strerror(errno));
	plen = (size_t)got;
	if (plen && buf[plen - 1] == '\n')
		plen--;
	if (plen && buf[plen - 1] == '\r')
		plen--;
	for (size_t i = 0; i < plen; i++) {
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) {
			explicit_bzero(buf, sizeof(buf));
			return mx_err(err, errlen, PWF "the password must be one line of printable "
				    "characters", path);
		}
	}
	if (!plen || plen > MX_RSPAMD_PASSWORD_MAX) {
		explicit_bzero(buf, sizeof(buf));
		return mx_err(err, errlen, PWF "the password must be 1 to %d characters on one "
			    "line", path, MX_RSPAMD_PASSWORD_MAX);
	}
	memcpy(a->cred, user, ulen);
	a->cred[ulen] = ':';
	memcpy(a->cred + ulen + 1, buf, plen);
	a->len = ulen + 1 + plen;
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

void mx_rspamd_auth_clear(struct mx_rspamd_auth *a)
{
	explicit_bzero(a, sizeof(*a));
}

/* auth_matches - "Basic B64" whose credentials are a's, compared in constant time */
static bool auth_matches(const char *v, size_t len, const struct mx_rspamd_auth *a)
{
	uint8_t got[sizeof(a->cred)] = { 0 };
	unsigned int diff = 0;
	ssize_t n;
	size_t i;

	if (len < 6 || strncasecmp(v, "Basic", 5) || (v[5] != ' ' && v[5] != '\t'))
		return false;
	for (i = 5; i < len && (v[i] == ' ' || v[i] == '\t'); i++)
		;
	n = mx_base64_decode(v + i, len - i, got, sizeof(got));
	if (n <= 0 || !a || !a->len)
		return false;
	diff = (unsigned int)((size_t)n ^ a->len);
	for (i = 0; i < sizeof(got); i++)
		diff |= (unsigned int)(got[i] ^ (uint8_t)a->cred[i]);
	explicit_bzero(got, sizeof(got));
	return diff == 0;
}

/* field_is - is f's name (case-insensitively) name? */
static bool field_is(const struct mx_http_field *f, const char *name)
{
	return f->name_len == strlen(name) && !strncasecmp(f->name, name, f->name_len);
}

/* content_length - 1*DIGIT: the number (MX_RSPAMD_BODY_MAX + 1 for any larger), or -1 */
static long content_length(const char *v, size_t len)
{
	long n = 0;

	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
		if (n > MX_RSPAMD_BODY_MAX)
			n = MX_RSPAMD_BODY_MAX + 1;
	}
	return n;
}

int mx_rspamd_head(const char *buf, size_t len, const struct mx_rspamd_auth *auth,
		   struct mx_rspamd_request *req)
{
	enum mx_http_method method = MX_HTTP_OTHER;
	bool has_auth = false, auth_ok = false, has_te = false;
	size_t hl = mx_http_head_len(buf, len), pos = 0;
	struct mx_http_field f;
	long clen = -1;
	char path[256];
	int r;

	memset(req, 0, sizeof(*req));
	if (hl > MX_HTTP_HEAD_MAX)
		return 431;
	r = mx_http_parse(buf, hl ? hl : len < MX_HTTP_HEAD_MAX ? len : MX_HTTP_HEAD_MAX,
			  &method, path, sizeof(path));
	if (r != 1)
		return r;
	if (strcmp(path, MX_RSPAMD_PATH))
		return 404;
	if (method != MX_HTTP_POST)
		return 405;
	while ((r = mx_http_field_next(buf, hl, &pos, &f)) == 1) {
		if (field_is(&f, "Content-Length")) {
			if (clen >= 0)
				return 400;
			clen = content_length(f.value, f.value_len);
			if (clen < 0)
				return 400;
		} else if (field_is(&f, "Authorization")) {
			if (has_auth)
				return 400;
			has_auth = true;
			auth_ok = auth_matches(f.value, f.value_len, auth);
		} else if (field_is(&f, "Transfer-Encoding")) {
			has_te = true;
		} else if (field_is(&f, "Expect")) {
			req->expect_continue = f.value_len == 12 &&
					       !strncasecmp(f.value, "100-continue", 12);
		}
	}
	if (r < 0 || (has_te && clen >= 0))
		return 400;
	if (!auth_ok)
		return 401;
	if (clen < 0)
		return 411;
	if (clen > MX_RSPAMD_BODY_MAX)
		return 413;
	req->head_len = hl;
	req->body_len = (size_t)clen;
	return 100;
}
