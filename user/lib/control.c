// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	control.c - framing of the control socket protocol
 * DESCRIPTION
 *	See control.h for the wire format.
 * SECURITY
 *	The agent reads at most MX_CTL_MAX_REQUEST bytes and MX_CTL_MAX_ARGS
 *	arguments; a request that is longer, not NUL-terminated, or has an
 *	unknown mode is refused with a message, before any command runs.
 *	Socket timeouts bound every read and write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"

/* write_all - write len bytes or fail */
static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* read_all - read exactly len bytes; -1 on error or early end */
static int read_all(int fd, void *data, size_t len)
{
	char *p = data;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* mx_ctl_send_request - send MODE and argv as one request */
int mx_ctl_send_request(int fd, const char *mode, int argc, char **argv)
{
	size_t len = strlen(mode) + 1;
	uint32_t len32;
	char *buf, *p;

	if (argc > MX_CTL_MAX_ARGS)
		return -E2BIG;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (len > MX_CTL_MAX_REQUEST)
		return -E2BIG;
	buf = malloc(len + 4);
	if (!buf)
		return -ENOMEM;
	len32 = (uint32_t)len;
	memcpy(buf, &len32, 4);
	p = buf + 4;
	p = stpcpy(p, mode) + 1;
	for (int i = 0; i < argc; i++)
		p = stpcpy(p, argv[i]) + 1;
	if (write_all(fd, buf, len + 4)) {
		free(buf);
		return -errno ? -errno : -EIO;
	}
	free(buf);
	return 0;
}

/* mx_ctl_parse_request - split req->buf[0..len) into mode and argv */
int mx_ctl_parse_request(struct mx_request *req, size_t len, char *err, size_t errlen)
{
	char *p = req->buf, *end = req->buf + len;

	req->argc = 0;
	if (len == 0 || req->buf[len - 1] != '\0') {
		snprintf(err, errlen, "malformed request: not NUL-terminated");
		return -1;
	}
	req->mode = p;
	if (strcmp(p, "plain") && strcmp(p, "json") && strcmp(p, "pretty")) {
		snprintf(err, errlen, "malformed request: unknown output mode");
		return -1;
	}
	p += strlen(p) + 1;
	while (p < end) {
		if (req->argc == MX_CTL_MAX_ARGS) {
			snprintf(err, errlen, "request has more than %d arguments", MX_CTL_MAX_ARGS);
			return -1;
		}
		req->argv[req->argc++] = p;
		p += strlen(p) + 1;
	}
	req->argv[req->argc] = NULL;
	return 0;
}

/* mx_ctl_write_frame - one frame of the reply */
int mx_ctl_write_frame(int fd, char type, const void *data, uint32_t len)
{
	char hdr[5];

	hdr[0] = type;
	memcpy(hdr + 1, &len, 4);
	if (write_all(fd, hdr, sizeof(hdr)))
		return -1;
	return len ? write_all(fd, data, len) : 0;
}

struct stream_cookie {
	int fd;
	char type;
};

/* stream_write - fopencookie writer: each buffer flush becomes a frame */
static ssize_t stream_write(void *cookie, const char *buf, size_t size)
{
	struct stream_cookie *sc = cookie;

	if (size > UINT32_MAX)
		size = UINT32_MAX;
	if (mx_ctl_write_frame(sc->fd, sc->type, buf, (uint32_t)size))
		return -1;
	return (ssize_t)size;
}

/* stream_close - free the cookie */
static int stream_close(void *cookie)
{
	free(cookie);
	return 0;
}

/* mx_ctl_stream - a FILE whose output goes out as frames of a type */
FILE *mx_ctl_stream(int fd, char type)
{
	cookie_io_functions_t io = { .write = stream_write, .close = stream_close };
	struct stream_cookie *sc = malloc(sizeof(*sc));
	FILE *f;

	if (!sc)
		return NULL;
	sc->fd = fd;
	sc->type = type;
	f = fopencookie(sc, "w", io);
	if (!f)
		free(sc);
	return f;
}

/* mx_ctl_read_reply - copy frames to out/err until the exit frame */
int mx_ctl_read_reply(int fd, FILE *out, FILE *err, int *status)
{
	char buf[65536];

	for (;;) {
		char hdr[5];
		uint32_t len;

		if (read_all(fd, hdr, sizeof(hdr)))
			return -1;
		memcpy(&len, hdr + 1, 4);
		if (hdr[0] == MX_FRAME_EXIT) {
			unsigned char st;

			if (len != 1 || read_all(fd, &st, 1))
				return -1;
			*status = st;
			return 0;
		}
		if (hdr[0] != MX_FRAME_OUT && hdr[0] != MX_FRAME_ERR)
			return -1;
		while (len) {
			uint32_t n = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);

			if (read_all(fd, buf, n))
				return -1;
			fwrite(buf, 1, n, hdr[0] == MX_FRAME_OUT ? out : err);
			len -= n;
		}
	}
}

/* mx_ctl_connect - connect to the agent's socket, with timeouts */
int mx_ctl_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = MX_CTL_TIMEOUT_MS / 1000 * 12 };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path '%s' is too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		snprintf(err, errlen, "cannot reach mxguardd at %s: %s%s", path, strerror(errno),
			 errno == ENOENT || errno == ECONNREFUSED ? " (is mxguardd running?)" : "");
		close(fd);
		return -1;
	}
	/* Replies to big listings stream; allow a minute of silence at most. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}
