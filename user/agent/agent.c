// SPDX-License-Identifier: GPL-2.0
/*
 * NAME
 *	agent.c - load, attach, pin, serve, detach
 * DESCRIPTION
 *	agent_start() loads the XDP program from its skeleton, sizes the
 *	maps from the settings, writes the default limits, attaches the
 *	program with libxdp (native first in auto mode, generic as the
 *	fallback) and pins the maps under /sys/fs/bpf/mxguard, mounting
 *	bpffs where it is missing. agent_serve() opens the services in one
 *	event loop and runs it until SIGTERM or SIGINT. agent_stop()
 *	detaches and unpins, unless the operator asked to leave the program
 *	in place.
 *
 *	libxdp would rather attach through its multi-program dispatcher,
 *	which needs freplace; where the kernel lacks it libxdp attaches the
 *	single program itself. Both work; prog show says which program id
 *	ended up on the interface.
 *
 *	The event loop never waits long on anything (loop.h): periodic work
 *	(sweeps, snapshots) and long commands (jobs: a blocklist load, ban
 *	list) are tasks that share a slice of MX_SLICE_US per turn, and a
 *	turn over 50 ms is logged with where it went.
 * SECURITY
 *	What faces untrusted input is in the services: the control socket
 *	(ctl.c), the policy service (policyd.c), metrics (metrics.c), the
 *	responder (responder.c).
 * DIAGNOSTICS
 *	Start-up failures name the step and the reason and exit non-zero.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "agent.h"
#include "mxguard.skel.h"
#include "responder.h"
#include "store.h"

static int verbose;
static bool quiet_libbpf;	/* while libxdp tries its dispatcher */

/* libbpf_print - libbpf's messages only with --verbose, warnings always */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	if (level == LIBBPF_INFO && !verbose)
		return 0;
	if (quiet_libbpf && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* libxdp_print - the same for libxdp */
static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBXDP_WARN && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ensure_bpffs - mount bpffs on /sys/fs/bpf if something else is there */
static int ensure_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir("/sys/fs/bpf", 0700) && errno != EEXIST) {
		mx_log("cannot create /sys/fs/bpf: %s", strerror(errno));
		return -1;
	}
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		mx_log("cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
		return -1;
	}
	mx_log("mounted bpffs on /sys/fs/bpf");
	return 0;
}

/* Links pinned beside the maps, so that counting goes on without the agent. */
static const char *const link_pins[] = { "link_lookup", "link_sockops", "link_cookie" };

/* unpin_all - remove our pins and the directory; leaves others alone */
static void unpin_all(struct agent *a)
{
	struct bpf_map *m;
	char path[256];

	bpf_object__for_each_map(m, a->dp.skel->obj)
		if (bpf_map__is_pinned(m))
			bpf_map__unpin(m, NULL);
	for (size_t i = 0; i < sizeof(link_pins) / sizeof(link_pins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", a->dp.pin_dir, link_pins[i]);
		unlink(path);
	}
	rmdir(a->dp.pin_dir);
}

/*
 * prepare_pin_dir - the pin directory, and whether an earlier agent
 * left its maps there. The object is opened with pin_dir as libbpf's
 * pin_root_path, so the maps that bpf/maps.h marks LIBBPF_PIN_BY_NAME
 * are pinned there by name at load. Where a pin already exists (an
 * agent crashed, or left with --keep), libbpf reuses that map instead
 * of creating one: its bans, buckets and counts go on as they were.
 */
static int prepare_pin_dir(struct agent *a)
{
	char path[256];

	if (mkdir(a->dp.pin_dir, 0700) && errno != EEXIST) {
		mx_log("cannot create %s: %s", a->dp.pin_dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/config", a->dp.pin_dir);
	a->dp.adopted = access(path, F_OK) == 0;
	return 0;
}

/* size_maps - map sizes from the settings, before load */
static int size_maps(struct agent *a)
{
	struct mxguard_bpf *s = a->dp.skel;
	const struct mx_settings *st = &a->settings;
	struct bpf_map *exact[] = { s->maps.ban4, s->maps.ban6, s->maps.allow4,
				    s->maps.allow6, s->maps.class4, s->maps.class6 };
	struct bpf_map *prefix[] = { s->maps.ban4_prefix, s->maps.ban6_prefix,
				     s->maps.allow4_prefix, s->maps.allow6_prefix,
				     s->maps.class4_prefix, s->maps.class6_prefix };
	int err = 0;

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		err |= bpf_map__set_max_entries(exact[i], st->exact_entries);
		err |= bpf_map__set_max_entries(prefix[i], st->prefix_entries);
	}
	err |= bpf_map__set_max_entries(s->maps.syn_bucket4, st->bucket_entries4);
	err |= bpf_map__set_max_entries(s->maps.syn_bucket6, st->bucket_entries6);
	err |= bpf_map__set_max_entries(s->maps.conn_count4, st->count_entries);
	err |= bpf_map__set_max_entries(s->maps.conn_count6, st->count_entries);
	err |= bpf_map__set_max_entries(s->maps.pending_flows, st->flow_entries);
	err |= bpf_map__set_max_entries(s->maps.live_flows, st->flow_entries);
	return err ? -1 : 0;
}

/* table_fds - the four maps of an address table */
static void table_fds(struct mx_table *t, const char *name, uint32_t value_size,
		      struct bpf_map *e4, struct bpf_map *e6,
		      struct bpf_map *p4, struct bpf_map *p6)
{
	t->name = name;
	t->value_size = value_size;
	t->fd[MX_EXACT4] = bpf_map__fd(e4);
	t->fd[MX_EXACT6] = bpf_map__fd(e6);
	t->fd[MX_PREFIX4] = bpf_map__fd(p4);
	t->fd[MX_PREFIX6] = bpf_map__fd(p6);
}

/*
 * replace_attached - swap the mxguard program an earlier agent left on
 * the interface for ours in one step (XDP_FLAGS_REPLACE): there is no
 * moment without a program. 1 if replaced, 0 if there was none, -1.
 */
static int replace_attached(struct agent *a)
{
	static const struct { __u32 flag; const char *name; } modes[] = {
		{ XDP_FLAGS_DRV_MODE, "native" }, { XDP_FLAGS_SKB_MODE, "skb" },
	};
	int fd = bpf_program__fd(a->dp.skel->progs.mxguard_xdp);

	for (size_t i = 0; i < 2; i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info), id = 0;
		int old, err;
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts);

		if (bpf_xdp_query_id(a->dp.ifindex, (int)modes[i].flag, &id) || !id)
			continue;
		old = bpf_prog_get_fd_by_id(id);
		if (old < 0)
			continue;
		if (bpf_obj_get_info_by_fd(old, &info, &len) || strcmp(info.name, "mxguard_xdp")) {
			close(old);
			continue;
		}
		opts.old_prog_fd = old;
		err = bpf_xdp_attach(a->dp.ifindex, fd, modes[i].flag | XDP_FLAGS_REPLACE, &opts);
		close(old);
		if (err) {
			mx_log("cannot replace the program on %s: %s", a->dp.ifname, strerror(-err));
			return -1;
		}
		a->dp.mode_name = modes[i].name;
		a->dp.xdp_prog = xdp_program__from_fd(fd);
		if (libxdp_get_error(a->dp.xdp_prog))
			a->dp.xdp_prog = NULL;
		a->dp.attached_at = time(NULL);
		info = (struct bpf_prog_info){ 0 };
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			a->dp.prog_id = info.id;
		mx_log("replaced the program left on %s (prog id %u) in one step", a->dp.ifname, id);
		return 1;
	}
	return 0;
}

/* attach - attach with libxdp in the requested mode */
static int attach(struct agent *a, enum mx_attach_mode mode)
{
	int fd = bpf_program__fd(a->dp.skel->progs.mxguard_xdp);
	struct bpf_prog_info info = { 0 };
	struct xdp_multiprog *mp;
	__u32 len = sizeof(info);
	char msg[128];
	int err = -EINVAL;

	a->dp.xdp_prog = xdp_program__from_fd(fd);
	if (libxdp_get_error(a->dp.xdp_prog)) {
		err = (int)libxdp_get_error(a->dp.xdp_prog);
		a->dp.xdp_prog = NULL;
		libxdp_strerror(err, msg, sizeof(msg));
		mx_log("cannot wrap the program for libxdp: %s", msg);
		return -1;
	}
	/*
	 * libxdp first tries its dispatcher, which fails where the kernel
	 * lacks freplace, and then attaches the program alone. The failed
	 * try is expected: keep libbpf's complaints about it for --verbose.
	 */
	quiet_libbpf = true;
	if (mode == MX_ATTACH_NATIVE || mode == MX_ATTACH_AUTO) {
		err = xdp_program__attach(a->dp.xdp_prog, a->dp.ifindex, XDP_MODE_NATIVE, 0);
		if (!err)
			a->dp.mode_name = "native";
		else if (mode == MX_ATTACH_AUTO)
			mx_log("native XDP on %s failed (%s); falling back to generic (skb) mode",
				  a->dp.ifname, strerror(-err));
	}
	if (mode == MX_ATTACH_SKB || (mode == MX_ATTACH_AUTO && err)) {
		err = xdp_program__attach(a->dp.xdp_prog, a->dp.ifindex, XDP_MODE_SKB, 0);
		if (!err)
			a->dp.mode_name = "skb";
	}
	quiet_libbpf = false;
	if (err) {
		libxdp_strerror(err, msg, sizeof(msg));
		mx_log("cannot attach to %s: %s%s", a->dp.ifname, msg,
			  err == -EEXIST ? " (another XDP program is attached; "
			  "'mxguardd --detach --interface IFACE' removes mxguard's)" : "");
		xdp_program__close(a->dp.xdp_prog);
		a->dp.xdp_prog = NULL;
		return -1;
	}
	a->dp.attached_at = time(NULL);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		a->dp.prog_id = info.id;
	mp = xdp_multiprog__get_from_ifindex(a->dp.ifindex);
	if (!libxdp_get_error(mp) && mp) {
		a->dp.dispatcher = !xdp_multiprog__is_legacy(mp);
		xdp_multiprog__close(mp);
	}
	return 0;
}

/* agent_answers - does an agent answer on this control socket? */
static bool agent_answers(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	bool yes;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return false;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	yes = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return yes;
}

/* start_conn - the parallel-connection limit, given what it needs of the agent */
static int start_conn(struct agent *a)
{
	struct conn_service *cs = &a->conn;
	struct responder_settings rs;

	cs->xdp_obj = a->dp.skel->obj;
	cs->settings = &a->settings;
	cs->store = &a->store;
	cs->loop = &a->loop;
	cs->pin_dir = a->dp.pin_dir;
	cs->cgroup_path = a->cfg.cgroup;
	cs->ifname = a->dp.ifname;
	cs->ifindex = a->dp.ifindex;
	cs->config_fd = a->dp.config_fd;
	agent_responder_settings(a, &rs);
	return conn_start(cs, &rs);
}

/* agent_start - everything up to a serving agent; 0 or -1 */
int agent_start(struct agent *a, enum mx_attach_mode mode, int verbosity)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = a->dp.pin_dir);
	int err;

	verbose = verbosity;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);

	a->dp.ifindex = (int)if_nametoindex(a->dp.ifname);
	if (!a->dp.ifindex) {
		mx_log("no interface named '%s'", a->dp.ifname);
		return -1;
	}
	if (ensure_bpffs())
		return -1;
	if (agent_answers(a->cfg.socket)) {
		mx_log("another mxguardd answers on %s", a->cfg.socket);
		return -1;
	}

	a->dp.skel = mxguard_bpf__open_opts(&open_opts);
	if (!a->dp.skel) {
		mx_log("cannot open the BPF object: %s", strerror(errno));
		return -1;
	}
	if (size_maps(a) || prepare_pin_dir(a)) {
		mx_log("cannot prepare the maps");
		goto fail;
	}
	err = mxguard_bpf__load(a->dp.skel);
	if (err) {
		mx_log("cannot load the XDP program: %s%s", strerror(-err),
			  err == -EPERM ? " (needs root: CAP_BPF and CAP_NET_ADMIN)" :
			  a->dp.adopted ? " (the maps pinned under the pin directory do not match: "
			  "sizes changed? 'mxguardd --detach' removes them; bans come back "
			  "from the journal)" : "");
		goto fail;
	}
	if (a->dp.adopted)
		mx_log("adopted the maps pinned under %s", a->dp.pin_dir);
	table_fds(&a->store.bans, "ban", sizeof(struct mx_ban), a->dp.skel->maps.ban4,
		  a->dp.skel->maps.ban6, a->dp.skel->maps.ban4_prefix, a->dp.skel->maps.ban6_prefix);
	table_fds(&a->store.allows, "allowlist", sizeof(struct mx_allow), a->dp.skel->maps.allow4,
		  a->dp.skel->maps.allow6, a->dp.skel->maps.allow4_prefix, a->dp.skel->maps.allow6_prefix);
	table_fds(&a->store.classes, "class", sizeof(struct mx_class_ref), a->dp.skel->maps.class4,
		  a->dp.skel->maps.class6, a->dp.skel->maps.class4_prefix, a->dp.skel->maps.class6_prefix);
	a->store.reasons_fd = bpf_map__fd(a->dp.skel->maps.reasons);
	a->store.settings = &a->settings;
	if (store_init(&a->store)) {
		mx_log("out of memory");
		goto fail;
	}
	a->dp.config_fd = bpf_map__fd(a->dp.skel->maps.config);
	a->dp.class_limits_fd = bpf_map__fd(a->dp.skel->maps.class_limits);
	a->dp.stats_fd = bpf_map__fd(a->dp.skel->maps.stats);
	a->dp.bucket4_fd = bpf_map__fd(a->dp.skel->maps.syn_bucket4);
	a->dp.bucket6_fd = bpf_map__fd(a->dp.skel->maps.syn_bucket6);
	a->dp.count4_fd = bpf_map__fd(a->dp.skel->maps.conn_count4);
	a->dp.count6_fd = bpf_map__fd(a->dp.skel->maps.conn_count6);

	/* Limits first, then the active flag (in config): never judge unconfigured. */
	if (mx_dp_write_classes(a->dp.class_limits_fd, &a->settings) ||
	    mx_dp_write_config(a->dp.config_fd, &a->settings)) {
		mx_log("cannot write the settings into the maps: %s", strerror(errno));
		goto fail;
	}
	/* Before any table changes: from here on the program skips only tries known empty. */
	err = mx_presence_start(&a->store.presence, a->dp.config_fd, &a->store.bans,
				&a->store.allows, &a->store.classes);
	if (err) {
		mx_log("cannot write which tables hold prefixes: %s", strerror(-err));
		goto fail;
	}
	/*
	 * The IPv4 ban summary, rebuilt from the trie (pins adopted from an
	 * earlier agent may hold prefix bans). Without it the program only
	 * looks the trie up for every source: slower, never wrong.
	 */
	err = mx_presence_summary(&a->store.presence, bpf_map__fd(a->dp.skel->maps.ban4_summary));
	if (err)
		mx_log("cannot build the IPv4 ban summary (%s): every source looks the prefix bans up",
		       strerror(-err));
	/* What was acknowledged before is in the maps before anything is attached. */
	{
		char err[2048];

		if (senders_init(&a->senders, &a->cfg, &a->settings, &a->store, err, sizeof(err))) {
			mx_log("%s", err);
			goto fail;
		}
	}
	if (state_open(&a->store)) {
		senders_free(&a->senders);
		goto fail;
	}
	err = a->dp.adopted ? replace_attached(a) : 0;
	if (err < 0 || (err == 0 && attach(a, mode))) {
		if (!a->dp.adopted)
			unpin_all(a);
		goto fail;
	}
	if (start_conn(a)) {
		conn_stop(&a->conn, false);
		xdp_program__detach(a->dp.xdp_prog, a->dp.ifindex,
				    strcmp(a->dp.mode_name, "skb") ? XDP_MODE_NATIVE : XDP_MODE_SKB, 0);
		xdp_program__close(a->dp.xdp_prog);
		a->dp.xdp_prog = NULL;
		unpin_all(a);
		goto fail;
	}
	mx_log("attached to %s in %s mode (prog id %u, %s); maps pinned under %s",
		  a->dp.ifname, a->dp.mode_name, a->dp.prog_id,
		  a->dp.dispatcher ? "through libxdp's dispatcher" : "alone: no libxdp dispatcher here",
		  a->dp.pin_dir);
	return 0;
fail:
	store_free(&a->store);
	mxguard_bpf__destroy(a->dp.skel);
	a->dp.skel = NULL;
	return -1;
}

/* agent_stop - detach and unpin, or leave both in place when keep */
void agent_stop(struct agent *a, bool keep)
{
	if (!a->dp.skel)
		return;
	conn_stop(&a->conn, keep);
	state_close(&a->store);
	mx_presence_stop(&a->store.presence);
	senders_free(&a->senders);
	if (keep) {
		/*
		 * Without the agent there is no responder and no one to release
		 * counts: go back to what XDP can do alone, dropping banned
		 * sources and ignoring parallel counts.
		 */
		a->settings.over_limit_drop = false;
		a->settings.ban_reply = false;
		mx_dp_write_config(a->dp.config_fd, &a->settings);
		mx_log("leaving the program attached to %s and the maps pinned under %s",
			  a->dp.ifname, a->dp.pin_dir);
	} else {
		if (a->dp.xdp_prog) {
			int err = xdp_program__detach(a->dp.xdp_prog, a->dp.ifindex,
						      strcmp(a->dp.mode_name, "skb") ? XDP_MODE_NATIVE
										  : XDP_MODE_SKB, 0);
			if (err)
				mx_log("detach from %s failed: %s", a->dp.ifname, strerror(-err));
			else
				mx_log("detached from %s", a->dp.ifname);
		}
		unpin_all(a);
	}
	if (a->dp.xdp_prog)
		xdp_program__close(a->dp.xdp_prog);
	store_free(&a->store);
	mxguard_bpf__destroy(a->dp.skel);
	a->dp.skel = NULL;
}

/*
 * agent_detach_stale - remove what an agent left in place: the XDP
 * program named mxguard_xdp on the interface, and the pinned maps.
 */
int agent_detach_stale(const char *ifname, const char *pin_dir)
{
	struct xdp_multiprog *mp;
	int ifindex = (int)if_nametoindex(ifname);
	char path[512];
	int ret = 0;

	libxdp_set_print(libxdp_print);
	if (!ifindex) {
		mx_log("no interface named '%s'", ifname);
		return -1;
	}
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (!libxdp_get_error(mp) && mp) {
		struct xdp_program *main = xdp_multiprog__main_prog(mp);
		struct xdp_program *p = NULL;
		bool ours = main && strcmp(xdp_program__name(main), "mxguard_xdp") == 0;

		while (!ours && (p = xdp_multiprog__next_prog(p, mp)))
			ours = strcmp(xdp_program__name(p), "mxguard_xdp") == 0;
		if (ours) {
			int err = xdp_multiprog__detach(mp);

			if (err) {
				mx_log("cannot detach from %s: %s", ifname, strerror(-err));
				ret = -1;
			} else {
				mx_log("detached mxguard from %s", ifname);
			}
		} else if (main) {
			mx_log("the XDP program on %s is '%s', not mxguard's: left alone",
				  ifname, xdp_program__name(main));
		}
		xdp_multiprog__close(mp);
	}
	if (ensure_bpffs() == 0) {
		DIR *d = opendir(pin_dir);
		struct dirent *e;

		if (d) {
			while ((e = readdir(d))) {
				if (e->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", pin_dir, e->d_name);
				unlink(path);
			}
			closedir(d);
			if (rmdir(pin_dir) == 0)
				mx_log("removed %s", pin_dir);
		}
	}
	return ret;
}
