// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	parse.c - parsers and formatters for what operators type
 * SECURITY
 *	Input comes from the CLI, the control socket and (later) files:
 *	lengths are bounded before copying, numbers are range-checked
 *	before arithmetic, nothing is accepted with trailing garbage.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int mx_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}


/* mx_prefix_mask - the netmask of a prefix length, network order */
void mx_prefix_mask(int family, unsigned int len, uint8_t mask[16])
{
	unsigned int bits = family == AF_INET ? 32 : 128;

	memset(mask, 0, 16);
	if (len > bits)
		len = bits;
	for (unsigned int i = 0; i < len / 8; i++)
		mask[i] = 0xff;
	if (len % 8)
		mask[len / 8] = (uint8_t)(0xff << (8 - len % 8));
}

/* parse_any - an address or prefix; require_addr forbids "/LEN" */
static int parse_any(const char *s, struct mx_prefix *out, bool require_addr,
		     char *err, size_t errlen)
{
	struct mx_prefix p = { 0 };
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	size_t alen;
	unsigned int bits;
	uint8_t mask[16];

	if (!s || !*s)
		return mx_err(err, errlen, "empty address");
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= INET6_ADDRSTRLEN)
		return mx_err(err, errlen, "'%.64s' is not an IP address", s);
	memcpy(buf, s, alen);
	buf[alen] = '\0';

	if (inet_pton(AF_INET, buf, p.addr) == 1) {
		p.family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, buf, p.addr) == 1) {
		p.family = AF_INET6;
		bits = 128;
	} else {
		return mx_err(err, errlen, "'%.64s' is not an IP address", buf);
	}

	p.len = (uint8_t)bits;
	if (slash) {
		uint32_t len;
		char lerr[64];

		if (require_addr)
			return mx_err(err, errlen, "'%.64s': expected an address, not a prefix", s);
		if (mx_parse_u32(slash + 1, 0, bits, &len, lerr, sizeof(lerr)))
			return mx_err(err, errlen, "'%.64s': bad prefix length: %s", s, lerr);
		p.len = (uint8_t)len;
	}

	mx_prefix_mask(p.family, p.len, mask);
	for (int i = 0; i < 16; i++) {
		if (p.addr[i] & ~mask[i])
			return mx_err(err, errlen,
				    "'%.64s': host bits set below /%u (did you mean the network address?)",
				    s, p.len);
	}
	*out = p;
	return 0;
}

/* mx_parse_prefix - "ADDR" or "ADDR/LEN", no host bits under LEN */
int mx_parse_prefix(const char *s, struct mx_prefix *out, char *err, size_t errlen)
{
	return parse_any(s, out, false, err, errlen);
}

/* mx_parse_addr - a single IPv4 or IPv6 address */
int mx_parse_addr(const char *s, struct mx_prefix *out, char *err, size_t errlen)
{
	return parse_any(s, out, true, err, errlen);
}

/* mx_format_prefix - "ADDR" for a single address, "ADDR/LEN" otherwise */
int mx_format_prefix(const struct mx_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	unsigned int bits = p->family == AF_INET ? 32 : 128;

	if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
		return snprintf(buf, len, "?");
	if (p->len == bits)
		return snprintf(buf, len, "%s", a);
	return snprintf(buf, len, "%s/%u", a, p->len);
}

/* mx_prefix_contains - is addr (any length) inside prefix p? */
bool mx_prefix_contains(const struct mx_prefix *p, const struct mx_prefix *addr)
{
	uint8_t mask[16];

	if (p->family != addr->family || addr->len < p->len)
		return false;
	mx_prefix_mask(p->family, p->len, mask);
	for (int i = 0; i < 16; i++) {
		if ((addr->addr[i] & mask[i]) != p->addr[i])
			return false;
	}
	return true;
}

/* mx_parse_u32 - a decimal integer in [min, max], nothing else */
int mx_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out,
		 char *err, size_t errlen)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return mx_err(err, errlen, "'%.32s' is not a number", s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return mx_err(err, errlen, "'%.32s' is not a number", s);
	if (errno == ERANGE || v < min || v > max)
		return mx_err(err, errlen, "%.32s is out of range %" PRIu32 "..%" PRIu32,
			    s, min, max);
	*out = (uint32_t)v;
	return 0;
}

int mx_parse_size(const char *s, uint64_t *bytes, char *err, size_t errlen)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return mx_err(err, errlen, "'%.32s' is not a size (N, Nk, NM or NG)", s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'M')
		shift = 20;
	else if (*end == 'G')
		shift = 30;
	if ((shift && end[1]) || (!shift && *end))
		return mx_err(err, errlen, "'%.32s' is not a size (N, Nk, NM or NG)", s);
	if (errno == ERANGE || v > (1ULL << 40) >> shift)
		return mx_err(err, errlen, "%.32s is more than 1 TiB", s);
	*bytes = (uint64_t)v << shift;
	return 0;
}

static const struct {
	const char *unit;
	uint64_t ns;
} duration_units[] = {
	{ "ms", 1000000ULL },
	{ "s", MX_NS_PER_S },
	{ "m", 60ULL * MX_NS_PER_S },
	{ "h", 3600ULL * MX_NS_PER_S },
	{ "d", 86400ULL * MX_NS_PER_S },
	{ "w", 7ULL * 86400ULL * MX_NS_PER_S },
};

/*
 * mx_parse_duration - "90", "90s", "15m", "24h", "7d", "1h30m"
 *
 * A bare number is seconds. Zero and more than ten years are refused:
 * a ban that ends at once or outlives the host is a typo.
 */
int mx_parse_duration(const char *s, uint64_t *ns, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t total = 0;

	if (!s || !*s)
		return mx_err(err, errlen, "empty duration");
	while (*p) {
		const char *num = p;
		unsigned long long v;
		uint64_t unit = 0;
		size_t ulen = 0;
		char *end;

		if (!isdigit((unsigned char)*p))
			return mx_err(err, errlen, "'%.32s' is not a duration (e.g. 90s, 15m, 24h, 7d)", s);
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno == ERANGE || v > MX_MAX_DURATION_NS / 1000000ULL)
			return mx_err(err, errlen, "duration '%.32s' is too long", s);
		p = end;
		for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
			size_t l = strlen(duration_units[i].unit);

			if (strncmp(p, duration_units[i].unit, l) == 0 && l > ulen &&
			    (p[l] == '\0' || isdigit((unsigned char)p[l]))) {
				unit = duration_units[i].ns;
				ulen = l;
			}
		}
		if (!ulen) {
			if (*p)
				return mx_err(err, errlen, "'%.32s' has an unknown unit (use ms, s, m, h, d, w)", s);
			if (num != s)
				return mx_err(err, errlen, "'%.32s': a bare number must stand alone", s);
			unit = MX_NS_PER_S;
		}
		p += ulen;
		if (v > (MX_MAX_DURATION_NS - total) / unit)
			return mx_err(err, errlen, "duration '%.32s' is longer than ten years", s);
		total += v * unit;
	}
	if (total == 0)
		return mx_err(err, errlen, "duration '%.32s' is zero", s);
	*ns = total;
	return 0;
}

/* mx_format_duration - the largest units that fit: "1d2h", "15m", "500ms" */
int mx_format_duration(uint64_t ns, char *buf, size_t len)
{
	size_t off = 0;

	if (ns < MX_NS_PER_S)
		return snprintf(buf, len, "%" PRIu64 "ms", (uint64_t)(ns / 1000000ULL));
	if (len)
		buf[0] = '\0';
	for (int i = 5; i >= 1 && off < len; i--) {
		uint64_t u = duration_units[i].ns;
		int n;

		if (i == 5)	/* weeks read worse than days */
			continue;
		if (ns >= u) {
			n = snprintf(buf + off, len - off, "%" PRIu64 "%s", ns / u,
				     duration_units[i].unit);
			if (n < 0)
				return n;
			off += (size_t)n;
			ns %= u;
		}
	}
	return (int)off;
}

/*
 * mx_parse_rate - "30/min", "2/s", "100/h", or "30" meaning per minute
 *
 * Stored as nanoseconds per token. At least one per day, at most one
 * million per second.
 */
int mx_parse_rate(const char *s, uint64_t *interval_ns, char *err, size_t errlen)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "s", MX_NS_PER_S }, { "sec", MX_NS_PER_S },
		{ "m", 60000000000ULL }, { "min", 60000000000ULL },
		{ "h", 3600000000000ULL }, { "hour", 3600000000000ULL },
		{ "d", 86400000000000ULL }, { "day", 86400000000000ULL },
	};
	uint64_t per = 60000000000ULL;
	const char *slash;
	char num[24];
	uint32_t n;
	char nerr[80];
	size_t nlen;

	if (!s || !*s)
		return mx_err(err, errlen, "empty rate");
	slash = strchr(s, '/');
	nlen = slash ? (size_t)(slash - s) : strlen(s);
	if (nlen == 0 || nlen >= sizeof(num))
		return mx_err(err, errlen, "'%.32s' is not a rate (e.g. 30/min)", s);
	memcpy(num, s, nlen);
	num[nlen] = '\0';
	if (mx_parse_u32(num, 1, 1000000000U, &n, nerr, sizeof(nerr)))
		return mx_err(err, errlen, "rate '%.32s': %s", s, nerr);
	if (slash) {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (strcmp(slash + 1, units[i].unit) == 0)
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return mx_err(err, errlen, "rate '%.32s': unit must be /s, /min, /h or /day", s);
		per = units[i].ns;
	}
	if (per / n < 1000)
		return mx_err(err, errlen, "rate '%.32s' is over one million per second", s);
	*interval_ns = per / n;
	return 0;
}

/* mx_format_rate - tokens per minute, or per second when that reads better */
int mx_format_rate(uint64_t interval_ns, char *buf, size_t len)
{
	double per_min;

	if (interval_ns == 0)
		return snprintf(buf, len, "unlimited");
	per_min = 60e9 / (double)interval_ns;
	if (per_min >= 600)
		/* Whole numbers from 1,000/s up: never "1e+06/s", which cannot be typed back. */
		return snprintf(buf, len, per_min / 60 >= 1000 ? "%.0f/s" : "%.4g/s", per_min / 60);
	return snprintf(buf, len, "%.4g/min", per_min);
}

/* mx_errs_add - add "FILE:LINE: message" to the errors */
void mx_errs_add(struct mx_errs *e, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int w;

	e->n++;
	if (!e->buf || !e->len || e->used + 1 >= e->len)
		return;
	w = snprintf(e->buf + e->used, e->len - e->used, "%s%s:%u: ", e->used ? "\n" : "",
		     e->file, line);
	if (w < 0 || (size_t)w >= e->len - e->used) {
		e->used = e->len - 1;
		return;
	}
	e->used += (size_t)w;
	va_start(ap, fmt);
	w = vsnprintf(e->buf + e->used, e->len - e->used, fmt, ap);
	va_end(ap);
	e->used = w < 0 || (size_t)w >= e->len - e->used ? e->len - 1 : e->used + (size_t)w;
}

/* mx_read_file - see parse.h */
int mx_read_file(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int e = 0;

	*buf = NULL;
	if (!f) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		return e;
	}
	*buf = malloc(max + 1);
	if (!*buf) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	*len = fread(*buf, 1, max + 1, f);
	if (ferror(f)) {
		e = -EIO;
		snprintf(err, errlen, "%s: %s", path, strerror(EIO));
		free(*buf);
		*buf = NULL;
	}
	fclose(f);
	return e;
}

/* mx_next_line - see parse.h */
int mx_next_line(const char **p, const char *end, char *line, size_t max, unsigned int *lineno,
		 struct mx_errs *e)
{
	while (*p < end) {
		const char *nl = memchr(*p, '\n', (size_t)(end - *p));
		size_t l = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
		char *hash;

		++*lineno;
		if (l > max) {
			mx_errs_add(e, *lineno, "line longer than %zu characters", max);
			*p += l + 1;
			continue;
		}
		memcpy(line, *p, l);
		line[l] = '\0';
		*p += l + 1;
		if (memchr(line, '\0', l)) {
			mx_errs_add(e, *lineno, "NUL byte in line");
			continue;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		return 1;
	}
	return 0;
}

/* mx_utf8_valid - well-formed UTF-8, as RFC 3629 defines it */
bool mx_utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned int c = *s, n, cp;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;	/* a continuation byte, 0xc0/0xc1, or 0xf5.. */
		}
		for (unsigned int i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;	/* the string's NUL ends here too */
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

/* mx_prefix_unmap - an IPv4-mapped IPv6 prefix (::ffff:a.b.c.d/96+n) as IPv4 (/n) */
void mx_prefix_unmap(const struct mx_prefix *in, struct mx_prefix *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	*out = *in;
	if (in->family != AF_INET6 || in->len < 96 || memcmp(in->addr, mapped, 12))
		return;
	out->family = AF_INET;
	out->len = (uint8_t)(in->len - 96);
	memmove(out->addr, in->addr + 12, 4);
	memset(out->addr + 4, 0, 12);
}
