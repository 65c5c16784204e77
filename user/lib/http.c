// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	http.c - what the HTTP servers parse: a request head, its fields, a listen address
 * SECURITY
 *	Untrusted input, never assumed NUL-terminated: every scan is
 *	bounded by the length given.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "http.h"
#include "parse.h"

/* head_end - the '\n' that ends the last line before the empty one, or NULL */
static const char *head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] == '\n' && (buf[i + 1] == '\n' ||
				       (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')))
			return buf + i;
	}
	return NULL;
}

/* mx_http_head_len - up to and with the empty line */
size_t mx_http_head_len(const char *buf, size_t len)
{
	const char *end = head_end(buf, len);

	if (!end)
		return 0;
	return (size_t)(end - buf) + (end[1] == '\n' ? 2 : 3);
}

int mx_http_parse(const char *buf, size_t len, enum mx_http_method *method, char *path,
		  size_t pathlen)
{
	const char *end = head_end(buf, len), *sp1, *sp2, *eol, *q;
	size_t mlen, plen;

	if (memchr(buf, '\0', len))
		return 400;
	if (!end)
		return len >= MX_HTTP_HEAD_MAX ? 431 : 0;
	eol = memchr(buf, '\n', (size_t)(end - buf) + 1);
	if (eol > buf && eol[-1] == '\r')
		eol--;
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	if (!sp1 || sp1 == buf)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || sp1[1] != '/')
		return 400;
	if ((size_t)(eol - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7))
		return 505;
	mlen = (size_t)(sp1 - buf);
	*method = mlen == 3 && !memcmp(buf, "GET", 3) ? MX_HTTP_GET :
		  mlen == 4 && !memcmp(buf, "HEAD", 4) ? MX_HTTP_HEAD :
		  mlen == 4 && !memcmp(buf, "POST", 4) ? MX_HTTP_POST : MX_HTTP_OTHER;
	q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
	plen = (size_t)((q ? q : sp2) - sp1 - 1);
	if (plen >= pathlen)
		return 414;
	memcpy(path, sp1 + 1, plen);
	path[plen] = '\0';
	return 1;
}

/* is_tchar - a character of a token (RFC 9110 5.6.2) */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* mx_http_field_next - "name: value" lines after the request line, to the empty one */
int mx_http_field_next(const char *head, size_t head_len, size_t *pos, struct mx_http_field *f)
{
	const char *line, *eol, *colon, *v, *ve;
	size_t at = *pos;

	if (at == 0) {
		const char *nl = memchr(head, '\n', head_len);

		if (!nl)
			return 0;
		at = (size_t)(nl - head) + 1;
	}
	if (at >= head_len)
		return 0;
	line = head + at;
	eol = memchr(line, '\n', head_len - at);
	if (!eol)
		return -1;
	*pos = (size_t)(eol - head) + 1;
	ve = eol > line && eol[-1] == '\r' ? eol - 1 : eol;
	if (ve == line)
		return 0;	/* the empty line */
	if (*line == ' ' || *line == '\t')
		return -1;	/* obsolete line folding (RFC 9112 5.2) */
	colon = memchr(line, ':', (size_t)(ve - line));
	if (!colon || colon == line)
		return -1;
	for (const char *p = line; p < colon; p++)
		if (!is_tchar(*p))
			return -1;	/* "Name :" too (RFC 9112 5.1) */
	for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
		;
	for (; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
		;
	for (const char *p = v; p < ve; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return -1;
	f->name = line;
	f->name_len = (size_t)(colon - line);
	f->value = v;
	f->value_len = (size_t)(ve - v);
	return 1;
}

/* b64 - the value of a base64 character, or -1 */
static int b64(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* mx_base64_decode - groups of four characters, '=' only to pad the last, canonical */
ssize_t mx_base64_decode(const char *in, size_t len, uint8_t *out, size_t outlen)
{
	size_t n = 0;

	if (len % 4)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		bool last = i + 4 == len;

		for (int j = 0; j < 4; j++) {
			if (last && j >= 2 && in[i + j] == '=' && (j == 2 ? in[i + 3] == '=' : true)) {
				v[j] = 0;
				pad++;
				continue;
			}
			v[j] = b64(in[i + j]);
			if (v[j] < 0 || pad)
				return -1;
		}
		if (n + 3 - (size_t)pad > outlen)
			return -1;
		if ((pad == 2 && (v[1] & 0xf)) || (pad == 1 && (v[2] & 0x3)))
			return -1;	/* bits past the data: not the canonical encoding */
		out[n++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[n++] = (uint8_t)((v[1] & 0xf) << 4 | v[2] >> 2);
		if (pad < 1)
			out[n++] = (uint8_t)((v[2] & 0x3) << 6 | v[3]);
	}
	return (ssize_t)n;
}

/* mx_parse_listen - "ADDR:PORT" or "[ADDR6]:PORT" */
int mx_parse_listen(const char *s, struct sockaddr_storage *ss, unsigned int *len,
		    char *err, size_t errlen)
{
	char host[64];
	const char *colon;
	uint32_t port;
	size_t hl;
	char perr[96];
	bool bracketed = s[0] == '[';

	memset(ss, 0, sizeof(*ss));
	if (bracketed) {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			goto bad;
		hl = (size_t)(close - s - 1);
		colon = close + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		hl = (size_t)(colon - s);
	}
	if (!hl || hl >= sizeof(host))
		goto bad;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (!bracketed && strchr(host, ':'))
		goto bad;	/* an IPv6 address needs its brackets: [::1]:9489 */
	if (mx_parse_u32(colon + 1, 1, 65535, &port, perr, sizeof(perr))) {
		snprintf(err, errlen, "port: %s", perr);
		return -1;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
bad:
	snprintf(err, errlen, "expected ADDRESS:PORT or [IPv6]:PORT, e.g. 127.0.0.1:9489");
	return -1;
}
