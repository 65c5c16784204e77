/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	control.h - the control socket protocol between mxguard and mxguardd
 * DESCRIPTION
 *	One request per connection. The CLI sends
 *
 *		u32 length (host order), then length bytes:
 *		MODE '\0' ARG '\0' ... ARG '\0'
 *
 *	where MODE is "plain", "json" or "pretty". The agent answers with
 *	frames: u8 type, u32 length, payload. Type 'o' is the command's
 *	standard output, 'e' its standard error, and 'x' ends the reply
 *	with a one-byte exit status. Output streams as it is produced.
 */
#ifndef MX_CONTROL_H
#define MX_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MX_CTL_MAX_REQUEST	65536
#define MX_CTL_MAX_ARGS		256
#define MX_CTL_TIMEOUT_MS	5000

#define MX_FRAME_OUT	'o'
#define MX_FRAME_ERR	'e'
#define MX_FRAME_EXIT	'x'

struct mx_request {
	char buf[MX_CTL_MAX_REQUEST + 1];
	const char *mode;
	int argc;
	char *argv[MX_CTL_MAX_ARGS + 1];
};

int mx_ctl_send_request(int fd, const char *mode, int argc, char **argv);
int mx_ctl_parse_request(struct mx_request *req, size_t len, char *err, size_t errlen);
int mx_ctl_write_frame(int fd, char type, const void *data, uint32_t len);
FILE *mx_ctl_stream(int fd, char type);
int mx_ctl_read_reply(int fd, FILE *out, FILE *err, int *status);
int mx_ctl_connect(const char *path, char *err, size_t errlen);

#endif /* MX_CONTROL_H */
