// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	zonefile.c - the lines of the rbldnsd data files (see zonefile.h)
 * DESCRIPTION
 *	What rbldnsd does with a line (rbldnsd(8), and its source): a line
 *	beginning with "$", "#$", ";$" or ":$" is a special entry, one
 *	beginning with "#" or ";" a comment, one beginning with ":" (and,
 *	in an ip6trie, not "::") the default A and TXT for the entries
 *	after it; leading and trailing blanks are dropped; a TXT over 255
 *	bytes is cut, and so is one over 254 once "$" is replaced. Each
 *	function here writes lines that mean one thing only.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "zonefile.h"

/* What rbldnsd answers whole: bytes as written, and once "$" is replaced. */
#define TXT_RAW_MAX	255
#define TXT_SHOWN_MAX	254
#define ADDR_SHOWN_MAX	39	/* the longest IPv6 address rbldnsd puts for "$" */

int mx_zone_a_check(const char *s, char *err, size_t errlen)
{
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, s, &a) != 1) {
		snprintf(err, errlen, "'%.40s' is not an IPv4 address", s);
		return -1;
	}
	h = ntohl(a.s_addr);
	if (h >> 24 != 127) {
		snprintf(err, errlen, "'%s' is not in 127.0.0.0/8, where DNSBL answers are", s);
		return -1;
	}
	if (h <= 0x7f000001) {
		snprintf(err, errlen, "'%s' means no listing (RFC 5782 2.1): use 127.0.0.2 or above", s);
		return -1;
	}
	if ((h & 0xffffff00) == 0x7fffff00) {
		snprintf(err, errlen, "'%s' is in 127.255.255.0/24, which DNSBLs answer for errors", s);
		return -1;
	}
	return 0;
}

/* The template being made: as written (raw) and as rbldnsd shows it. */
struct txt {
	char *out;
	size_t len, n;		/* out's size; bytes written */
	size_t shown;		/* characters once "$" stands for an address */
	bool full;		/* nothing more fits */
};

/*
 * unit - append one unit (a character, "$$", or "$") if it fits whole;
 * blanks before the first character are dropped, a leading "=" doubled
 */
static void unit(struct txt *t, const char *raw, size_t rawlen, size_t shown)
{
	if (t->full || (t->n == 0 && raw[0] == ' '))
		return;
	if (t->n == 0 && raw[0] == '=') {
		raw = "==";
		rawlen = 2;
	}
	if (t->n + rawlen > TXT_RAW_MAX || t->n + rawlen + 1 > t->len ||
	    t->shown + shown > TXT_SHOWN_MAX) {
		t->full = true;
		return;
	}
	memcpy(t->out + t->n, raw, rawlen);
	t->n += rawlen;
	t->shown += shown;
}

/* text - append printable ASCII of s, each "$" as "$$" */
static void text(struct txt *t, const char *s)
{
	for (; s && *s && !t->full; s++) {
		if (*s == '$')
			unit(t, "$$", 2, 1);
		else if (*s >= 0x20 && *s < 0x7f)
			unit(t, s, 1, 1);
	}
}

size_t mx_zone_txt(char *out, size_t len, const char *tmpl, const struct mx_text_vars *v)
{
	struct txt t = { .out = out, .len = len };

	if (!len)
		return 0;
	for (const char *p = tmpl; *p && !t.full; p++) {
		char one[2] = { *p, '\0' };

		if (*p != '%' || !p[1]) {
			text(&t, one);
			continue;
		}
		switch (*++p) {
		case 'a': unit(&t, "$", 1, ADDR_SHOWN_MAX); break;
		case 'h': text(&t, v->host); break;
		case 'r': text(&t, v->reason); break;
		case 'u': text(&t, v->url); break;
		case 's': text(&t, v->samples); break;
		default: one[0] = *p; text(&t, one); break;
		}
	}
	while (t.n && out[t.n - 1] == ' ')
		t.n--;
	out[t.n] = '\0';
	return t.n;
}

/* printable - s cut to printable ASCII, for a comment line */
static void printable(char *out, size_t len, const char *s)
{
	size_t n = 0;

	for (; s && *s && n + 1 < len; s++)
		if (*s >= 0x20 && *s < 0x7f)
			out[n++] = *s;
	out[n] = '\0';
}

int mx_zone_header(char *out, size_t len, const char *file, const char *what,
		   const char *dataset, const char *host, int64_t wall_s)
{
	char h[256], w[256], when[32] = "?";
	time_t t = (time_t)wall_s;
	struct tm tm;

	printable(h, sizeof(h), host);
	printable(w, sizeof(w), what);
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* "# " first: a line beginning "#$" would be one of rbldnsd's special entries. */
	return snprintf(out, len,
			"# %s - %s\n"
			"# rbldnsd %s data, written by mxguardd on %s at %s.\n"
			"# mxguardd replaces this file whole at each change: do not edit it.\n",
			file, w, dataset, h, when);
}

int mx_zone_default(char *out, size_t len, const char *a, const char *txt)
{
	return snprintf(out, len, ":%s:%s\n", a, txt);
}

/* format6 - an IPv6 address in hexadecimal groups, the longest run of zeros as "::" */
static void format6(const uint8_t a[16], char *out, size_t len)
{
	uint16_t g[8];
	int best = -1, best_n = 0, n = 0;
	size_t o = 0;

	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	/* RFC 5952 4.2: the longest run of two or more zero groups, the first if tied. */
	for (int i = 0; i < 8; i++) {
		n = g[i] ? 0 : n + 1;
		if (n > best_n) {
			best_n = n;
			best = i - n + 1;
		}
	}
	if (best_n < 2)
		best = -1;
	for (int i = 0; i < 8 && o < len; i++) {
		if (i == best) {
			o += (size_t)snprintf(out + o, len - o, "::");
			i += best_n - 1;
			continue;
		}
		o += (size_t)snprintf(out + o, len - o, "%s%x",
				      i && i != best + best_n ? ":" : "", g[i]);
	}
}

int mx_zone_entry(char *out, size_t len, const struct mx_prefix *p)
{
	char a[INET6_ADDRSTRLEN] = "";
	unsigned int bits = p->family == AF_INET ? 32 : 128;

	if ((p->family != AF_INET && p->family != AF_INET6) || !p->len || p->len > bits)
		return 0;
	if (p->family == AF_INET)
		inet_ntop(AF_INET, p->addr, a, sizeof(a));
	else
		format6(p->addr, a, sizeof(a));
	if (p->len == bits)
		return snprintf(out, len, "%s\n", a);
	return snprintf(out, len, "%s/%u\n", a, p->len);
}
