/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	sockdiag.h - the kernel's TCP sockets, through NETLINK_SOCK_DIAG
 * DESCRIPTION
 *	mx_sockdiag_walk() lists the TCP sockets of the current network
 *	namespace; mx_sockdiag_destroy() aborts one of them. The agent
 *	uses the first to reconcile its BPF-side counts with the sockets
 *	that really exist, the second to cut a banned sender's connections.
 */
#ifndef MX_SOCKDIAG_H
#define MX_SOCKDIAG_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A request socket (SYN answered, handshake not complete) is in this
 * state inside the kernel; inet_diag reports it as TCP_SYN_RECV. Not in
 * the UAPI headers.
 */
#define MX_TCP_NEW_SYN_RECV	12

struct mx_sock {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t state;			/* TCP_* as inet_diag reports it */
	uint8_t local[16], remote[16];	/* network order; IPv4 in the first 4 bytes */
	uint16_t lport, rport;		/* host order */
	uint64_t cookie;		/* as bpf_get_socket_cookie(); never 0 */
	uint32_t inode;			/* 0 for request and TIME_WAIT sockets */
	uint32_t ifindex;		/* bound device, 0 if none: destroy needs it */
};

/* Called for each socket; a non-zero return stops the walk with that value. */
typedef int (*mx_sock_cb)(const struct mx_sock *s, void *arg);

/*
 * Walk the TCP sockets of one family (AF_INET or AF_INET6) whose local
 * port is lport (0: any) and whose state is in states, a mask of
 * 1 << TCP_*. (1 << TCP_SYN_RECV) and (1 << MX_TCP_NEW_SYN_RECV) each
 * select both request sockets and full sockets in SYN_RECV (TCP Fast
 * Open); all are reported as TCP_SYN_RECV. The socket made from a
 * request socket when the handshake completes keeps its cookie.
 *
 * The walk is not a snapshot: a socket that comes or goes meanwhile may
 * be missed, and one may be reported twice; callers keep what they
 * collect in a set.
 *
 * Returns 0, the callback's non-zero value, or a negative errno:
 * -EBADMSG (a malformed or unexpected message), -EMSGSIZE, -ETIMEDOUT
 * (no answer for 5 s), -ENOMEM, -EAFNOSUPPORT or -EINVAL (arguments),
 * or what the kernel or a socket call said.
 */
int mx_sockdiag_walk(int family, uint32_t states, uint16_t lport, mx_sock_cb cb, void *arg);

/*
 * Abort one socket (SOCK_DESTROY): an established peer gets a reset, a
 * process holding the socket gets ECONNABORTED, a request socket is
 * dropped. The socket must still be the one walked: its cookie is
 * checked, so a new connection on the same addresses and ports is left
 * alone (cookie 0: not checked). Needs CAP_NET_ADMIN.
 *
 * Returns 0 or a negative errno: -ENOENT (no such socket, or another
 * cookie), -EPERM, -EOPNOTSUPP (the kernel was built without
 * CONFIG_INET_DIAG_DESTROY).
 */
int mx_sockdiag_destroy(const struct mx_sock *s);

/* An IPv6 socket whose peer is an IPv4 address (::ffff:a.b.c.d). */
bool mx_sock_is_v4mapped(const struct mx_sock *s);

/* The socket's remote (or local) address as a full-length prefix, IPv4-mapped as IPv4. */
struct mx_prefix;
void mx_sock_addr(const struct mx_sock *s, bool remote, struct mx_prefix *out);

/*
 * End the open connections (ESTABLISHED, CLOSE_WAIT) to any of ports
 * whose peer is within ban, IPv4 peers of dual-stack listeners too, as
 * an XDP drop would end them. Returns how many were ended.
 */
unsigned int mx_sockdiag_cut(const struct mx_prefix *ban, const uint16_t *ports,
			     unsigned int nports);

#endif /* MX_SOCKDIAG_H */
