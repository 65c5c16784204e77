// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	notify.c - tell systemd (Type=notify) that the agent serves
 * DESCRIPTION
 *	The agent is ready when its programs are attached, its state is
 *	restored and its sockets listen. The protocol is one datagram,
 *	"READY=1", to the Unix socket $NOTIFY_SOCKET names (a path, or "@"
 *	for the abstract namespace): no library needed. Without the
 *	variable (not started by systemd) nothing is sent.
 * DIAGNOSTICS
 *	"cannot notify systemd: REASON" if the datagram cannot be sent.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

/* mx_notify_ready - READY=1 to $NOTIFY_SOCKET */
void mx_notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char msg[] = "READY=1";
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sun.sun_path))
		return;
	strcpy(sun.sun_path, path);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL, (struct sockaddr *)&sun, len) < 0)
		mx_log("cannot notify systemd: %s", strerror(errno));
	close(fd);
}
