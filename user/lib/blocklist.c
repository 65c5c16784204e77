// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	blocklist.c - address lists to ban: plain, Spamhaus DROP, gzip
 * DESCRIPTION
 *	The format is told from the lines themselves:
 *
 *	  plain		"198.51.100.7" or "198.51.100.0/24" a line; "#" or ";"
 *			starts a comment
 *	  drop.txt	"198.51.100.0/24 ; SBL123456"; ";" comment lines
 *	  drop_*.json	{"cidr":"198.51.100.0/24","sblid":"SBL123456",...}
 *			a line, and one {"type":"metadata",...} line
 *
 *	and a file starting with the gzip magic is decompressed first
 *	(zlib). Each line is judged alone: an address with host bits set
 *	under its prefix, garbage, an object without "cidr" is a bad line.
 * SECURITY
 *	Files are bounded (MX_BL_MAX_BYTES after decompression, lines of
 *	MX_BL_LINE_MAX); the JSON reader looks for one string field only
 *	and never builds a tree.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "blocklist.h"

#define MX_BL_MAX_BYTES	(256UL << 20)
#define MX_BL_LINE_MAX	4096

const char *mx_bl_format_name(enum mx_bl_format f)
{
	switch (f) {
	case MX_BL_PLAIN: return "plain";
	case MX_BL_DROP_TXT: return "Spamhaus DROP (text)";
	case MX_BL_DROP_JSON: return "Spamhaus DROP (JSON)";
	default: return "empty";
	}
}

/* json_string - the value of "key":"..." in a JSON object line, or NULL */
static const char *json_string(const char *line, const char *key, char *out, size_t outlen)
{
	char pat[32];
	const char *p, *q;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(line, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != ':')
		return NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p++ != '"')
		return NULL;
	q = strchr(p, '"');
	if (!q || (size_t)(q - p) >= outlen)
		return NULL;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return out;
}

/* one_line - the prefix on a line: 1 found, 0 nothing (comment), -1 bad */
static int one_line(char *line, enum mx_bl_format *fmt, struct mx_prefix *p,
		    char *why, size_t wlen)
{
	char *s = line, *e, cidr[64];

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '{') {
		if (*fmt != MX_BL_EMPTY && *fmt != MX_BL_DROP_JSON) {
			snprintf(why, wlen, "a JSON line in a %s list", mx_bl_format_name(*fmt));
			return -1;
		}
		*fmt = MX_BL_DROP_JSON;
		if (strstr(s, "\"metadata\"") && !strstr(s, "\"cidr\""))
			return 0;
		if (!json_string(s, "cidr", cidr, sizeof(cidr))) {
			snprintf(why, wlen, "JSON line without a \"cidr\" string");
			return -1;
		}
		return mx_parse_prefix(cidr, p, why, wlen) ? -1 : 1;
	}
	if (*fmt == MX_BL_DROP_JSON) {
		snprintf(why, wlen, "a text line in a JSON list");
		return -1;
	}
	e = strpbrk(s, ";#");
	if (e) {
		if (*e == ';')
			*fmt = *fmt == MX_BL_PLAIN ? MX_BL_PLAIN : MX_BL_DROP_TXT;
		*e = '\0';
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
	} else if (*fmt == MX_BL_EMPTY) {
		*fmt = MX_BL_PLAIN;
	}
	if (strpbrk(s, " \t")) {
		snprintf(why, wlen, "'%.64s': one address or prefix a line", s);
		return -1;
	}
	return mx_parse_prefix(s, p, why, wlen) ? -1 : 1;
}

/* mx_blocklist_parse - see blocklist.h */
int mx_blocklist_parse(const char *name, const char *text, size_t len, bool lenient,
		       mx_bl_cb cb, void *arg, struct mx_bl_report *rep, char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	unsigned long lineno = 0;
	char line[MX_BL_LINE_MAX + 1];

	memset(rep, 0, sizeof(*rep));
	if (err && errlen)
		err[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct mx_prefix pfx;
		char why[160];
		int r;

		lineno++;
		if (l > MX_BL_LINE_MAX || memchr(p, '\0', l)) {
			snprintf(why, sizeof(why), l > MX_BL_LINE_MAX ? "line too long" : "NUL byte");
			r = -1;
		} else {
			memcpy(line, p, l);
			line[l] = '\0';
			r = one_line(line, &rep->format, &pfx, why, sizeof(why));
		}
		p += l + 1;
		if (r < 0) {
			if (!rep->first_bad_line)
				rep->first_bad_line = lineno;
			if (!lenient) {
				snprintf(err, errlen, "%s:%lu: %s", name, lineno, why);
				return -1;
			}
			rep->skipped++;
			continue;
		}
		if (r == 0)
			continue;
		r = cb(&pfx, arg);
		if (r)
			return r;
		rep->entries++;
	}
	return 0;
}

/* mx_blocklist_read - the file's text, gunzipped when gzip (zlib reads both) */
char *mx_blocklist_read(const char *path, size_t *len, char *err, size_t errlen)
{
	gzFile gz = gzopen(path, "rb");
	size_t cap = 1 << 20, n = 0;
	char *buf;

	if (!gz) {
		snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "cannot open");
		return NULL;
	}
	buf = malloc(cap);
	while (buf) {
		int got;

		if (n == cap) {
			char *nb;

			if (cap >= MX_BL_MAX_BYTES) {
				snprintf(err, errlen, "%s: larger than %lu MiB", path, MX_BL_MAX_BYTES >> 20);
				free(buf);
				buf = NULL;
				break;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		got = gzread(gz, buf + n, (unsigned int)(cap - n));
		if (got < 0) {
			int e;

			snprintf(err, errlen, "%s: %s", path, gzerror(gz, &e));
			free(buf);
			buf = NULL;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	gzclose(gz);
	if (buf)
		*len = n;
	else if (!err[0])
		snprintf(err, errlen, "%s: out of memory", path);
	return buf;
}
