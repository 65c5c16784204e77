// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	http.c - what the metrics server parses: a request head, a listen address
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "http.h"
#include "parse.h"

int mx_http_parse(const char *buf, size_t len, enum mx_http_method *method, char *path,
		  size_t pathlen)
{
	const char *end = NULL, *sp1, *sp2, *eol, *q;
	size_t mlen, plen;

	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] == '\n' && (buf[i + 1] == '\n' ||
				       (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n'))) {
			end = buf + i;
			break;
		}
	}
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
		  mlen == 4 && !memcmp(buf, "HEAD", 4) ? MX_HTTP_HEAD : MX_HTTP_OTHER;
	q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
	plen = (size_t)((q ? q : sp2) - sp1 - 1);
	if (plen >= pathlen)
		return 414;
	memcpy(path, sp1 + 1, plen);
	path[plen] = '\0';
	return 1;
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
