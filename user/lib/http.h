/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	http.h - what the metrics server parses: a request head, a listen address
 */
#ifndef MX_HTTP_H
#define MX_HTTP_H

#include <stddef.h>

/* A request head at most this long; a longer one gets 431. */
#define MX_HTTP_HEAD_MAX	8192

enum mx_http_method { MX_HTTP_GET, MX_HTTP_HEAD, MX_HTTP_OTHER };

/*
 * Read a request head (request line and headers, up to the empty line).
 * Returns 1 when it is complete (method and path, without the query,
 * filled in), 0 when more is needed, or an HTTP status for a request
 * that cannot be served: 400 malformed, 414 path too long, 431 head
 * too long, 505 not HTTP/1.x.
 */
int mx_http_parse(const char *buf, size_t len, enum mx_http_method *method, char *path,
		  size_t pathlen);

/* "ADDR:PORT" or "[IPv6]:PORT" as a socket address; 0, or -1 with err. */
struct sockaddr_storage;
int mx_parse_listen(const char *s, struct sockaddr_storage *ss, unsigned int *len,
		    char *err, size_t errlen);

#endif /* MX_HTTP_H */
