// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	fuzz_http - libFuzzer harness for the metrics server's request parser
 * DESCRIPTION
 *	Any bytes as a request head, whole and at every length the server
 *	could have read so far: the answer is 0 (more), 1 (a path that
 *	starts with / and fits, without its query) or an HTTP error status;
 *	a complete answer never turns incomplete as more bytes arrive. The
 *	same bytes as a listen address must not crash either.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum mx_http_method m;
	char path[64], addr[80], err[128];
	struct sockaddr_storage ss;
	unsigned int len;
	int done = 0;

	if (size > MX_HTTP_HEAD_MAX)
		size = MX_HTTP_HEAD_MAX;
	for (size_t n = 0; n <= size; n++) {
		int r = mx_http_parse((const char *)data, n, &m, path, sizeof(path));

		if (r == 1 && (path[0] != '/' || strchr(path, '?') || strlen(path) >= sizeof(path)))
			abort();
		if (r != 0 && r != 1 && r != 400 && r != 414 && r != 431 && r != 505)
			abort();
		if (done && r == 0)
			abort();	/* an answer does not go back to "more" */
		done = done || r;
	}
	if (size < sizeof(addr)) {
		memcpy(addr, data, size);
		addr[size] = '\0';
		mx_parse_listen(addr, &ss, &len, err, sizeof(err));
	}
	return 0;
}
