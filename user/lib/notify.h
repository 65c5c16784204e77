/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAME
 *	notify.h - tell systemd (Type=notify) that the agent serves
 */
#ifndef MX_NOTIFY_H
#define MX_NOTIFY_H

/* READY=1 to $NOTIFY_SOCKET; nothing without it. */
void mx_notify_ready(void);

#endif /* MX_NOTIFY_H */
