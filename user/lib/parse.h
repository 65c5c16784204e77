/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	parse.h - parsers and formatters for what operators type
 * DESCRIPTION
 *	Addresses, prefixes, durations, rates and bounded integers. Each
 *	parser takes the whole string or fails; on failure it writes a
 *	one-line reason to err (never NULL-terminated past errlen) and
 *	returns -1, leaving *out untouched.
 */
#ifndef MX_PARSE_H
#define MX_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"

/* An IPv4 or IPv6 prefix; a single address has the full length. */
struct mx_prefix {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t len;		/* 0..32 or 0..128 */
	uint8_t addr[16];	/* network order; IPv4 in the first 4 bytes */
};

/* Longest rate/duration accepted: ten years. */
#define MX_MAX_DURATION_NS	(10ULL * 366 * 86400 * MX_NS_PER_S)

int mx_parse_prefix(const char *s, struct mx_prefix *out, char *err, size_t errlen);
int mx_parse_addr(const char *s, struct mx_prefix *out, char *err, size_t errlen);
int mx_format_prefix(const struct mx_prefix *p, char *buf, size_t len);
/* Is s well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or > U+10FFFF)? */
bool mx_utf8_valid(const char *s);
bool mx_prefix_contains(const struct mx_prefix *p, const struct mx_prefix *addr);
void mx_prefix_mask(int family, unsigned int len, uint8_t mask[16]);
/* An IPv4-mapped IPv6 prefix (::ffff:a.b.c.d) as the IPv4 one; others as they are. */
void mx_prefix_unmap(const struct mx_prefix *in, struct mx_prefix *out);

int mx_parse_duration(const char *s, uint64_t *ns, char *err, size_t errlen);
int mx_format_duration(uint64_t ns, char *buf, size_t len);

/* A rate "N/s", "N/min", "N/h" or "N" (per minute) as ns per token. */
int mx_parse_rate(const char *s, uint64_t *interval_ns, char *err, size_t errlen);
int mx_format_rate(uint64_t interval_ns, char *buf, size_t len);

int mx_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out,
		 char *err, size_t errlen);
/* err gets a one-line reason (when err and errlen); returns -1. */
int mx_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A size in bytes: "N", "Nk", "NM" or "NG" (powers of 1024), at most 1 TiB. */
int mx_parse_size(const char *s, uint64_t *bytes, char *err, size_t errlen);

/*
 * Errors of a file parser, as "FILE:LINE: message" lines in one buffer
 * (as many as fit; n counts them all). Line 0 is the file as a whole.
 */
struct mx_errs {
	char *buf;
	size_t len, used;
	int n;
	const char *file;
};
void mx_errs_add(struct mx_errs *e, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The next line of a text being parsed, from *p up to end: copied into
 * line (at most max characters and a NUL), its "#" comment cut, *p and
 * *lineno moved past it. A longer line or one with a NUL byte is
 * reported in e and skipped. 1 with a line, 0 at the end of the text.
 */
int mx_next_line(const char **p, const char *end, char *line, size_t max, unsigned int *lineno,
		 struct mx_errs *e);

/*
 * Read at most max + 1 bytes of a file (one more than a parser takes, so
 * that it can say the file is too large) into *buf, to be freed. 0, or
 * -errno with "PATH: reason" in err.
 */
int mx_read_file(const char *path, size_t max, char **buf, size_t *len, char *err, size_t errlen);

#endif /* MX_PARSE_H */
