/* The domain control channel's server (see control.h): a request table
 * {name, handler, flags} dispatched by one function that checks the
 * line, the peer and the argument. */
#include "domain/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "backends/console.h"
#include "backends/vbd.h"
#include "backends/vif.h"
#include "common/ctl_wire.h"
#include "common/log.h"
#include "domain/backends.h"
#include "domain/domain.h"
#include "domain/dumpcore.h"
#include "domain/loop.h"

#define CTL_MAX_CONNS 8
#define CTL_REQ_MAX 512	 /* requests are short; replies up to CTL_LINE_MAX */
#define CTL_MAX_STATS 32 /* devices of each kind "stats" reports */

struct ctl_conn {
	int fd;	       /* -1: free slot */
	bool waiting;  /* wait-shutdown: a reply is due at shutdown */
	int passed_fd; /* sent with the request (SCM_RIGHTS); -1: none */
	size_t len;
	char buf[CTL_REQ_MAX];
};

static struct {
	int listen_fd;
	char path[128];
	char dying_path[128];
	struct domain_config *cfg;
	struct domain *d; /* built and started, NULL between boots */
	unsigned boots;
	time_t boot_time;
	unsigned pause_count; /* as Xen's controller_pause_count */
	struct ctl_conn conns[CTL_MAX_CONNS];
} ctl = {.listen_fd = -1};

static const char *ctl_action_name(int action)
{
	switch (action) {
	case ACTION_DESTROY:
		return "destroy";
	case ACTION_RESTART:
		return "restart";
	case ACTION_PRESERVE:
		return "preserve";
	case ACTION_RENAME_RESTART:
		return "rename-restart";
	case ACTION_COREDUMP_DESTROY:
		return "coredump-destroy";
	case ACTION_COREDUMP_RESTART:
		return "coredump-restart";
	case ACTION_SOFT_RESET:
		return "soft-reset";
	default:
		return "unknown";
	}
}

/* ---- requests ---- */

/* A handler fills reply (an "ok" line without its newline) and returns
 * 0, or returns -errno with msg describing the failure. */
typedef int (*ctl_handler)(struct ctl_conn *c, const char *arg, char *reply,
			   size_t len, const char **msg);

static int ctl_info(struct ctl_conn *c, const char *arg, char *reply,
		    size_t len, const char **msg)
{
	const struct domain_config *cfg = ctl.cfg;
	const uint8_t *u = cfg->uuid;
	struct domain *d = ctl.d;
	char uuid[37], key[16];
	const char *pty = d ? console_pty_path(d) : NULL;
	int ret = 0;

	snprintf(uuid, sizeof(uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
	snprintf(reply, len, "ok");
	ret |= ctl_put(reply, len, "name", cfg->name);
	ret |= ctl_put_num(reply, len, "domid", cfg->domid);
	ret |= ctl_put(reply, len, "uuid", uuid);
	ret |= ctl_put_num(reply, len, "vcpus", cfg->vcpus);
	ret |= ctl_put_num(reply, len, "memory", (long long)cfg->memory_mb);
	ret |= ctl_put_num(reply, len, "paused", ctl.pause_count);
	ret |=
	    ctl_put_num(reply, len, "shutdown",
			d ? atomic_load(&d->shutdown_reason) : DOMAIN_RUNNING);
	ret |= ctl_put_num(reply, len, "boots", ctl.boots);
	ret |= ctl_put_num(reply, len, "boot_time", (long long)ctl.boot_time);
	ret |= ctl_put(reply, len, "pty", pty ? pty : "-");
	ret |= ctl_put_num(reply, len, "cpu_exited_ns",
			   d ? (long long)atomic_load(&d->cpu_exited_ns) : 0);
	ret |= ctl_put(reply, len, "kernel", cfg->kernel);
	ret |= ctl_put(reply, len, "ramdisk", cfg->ramdisk ? cfg->ramdisk : "");
	ret |= ctl_put(reply, len, "cmdline", cfg->cmdline ? cfg->cmdline : "");
	ret |= ctl_put(reply, len, "on_poweroff",
		       ctl_action_name(cfg->on_poweroff));
	ret |=
	    ctl_put(reply, len, "on_reboot", ctl_action_name(cfg->on_reboot));
	ret |= ctl_put(reply, len, "on_crash", ctl_action_name(cfg->on_crash));
	ret |= ctl_put(reply, len, "on_watchdog",
		       ctl_action_name(cfg->on_watchdog));
	ret |= ctl_put_num(reply, len, "disks", cfg->nr_disks);
	for (unsigned i = 0; i < cfg->nr_disks; i++) {
		snprintf(key, sizeof(key), "disk%u", i);
		ret |= ctl_put(reply, len, key, cfg->disks[i]);
	}
	if (ret) {
		*msg = "reply too long";
		return -E2BIG;
	}
	return 0;
}

static int ctl_pause(struct ctl_conn *c, const char *arg, char *reply,
		     size_t len, const char **msg)
{
	if (!ctl.d) {
		*msg = "the domain is not running";
		return -ESRCH;
	}
	if (ctl.pause_count == 255) { /* Xen's limit */
		*msg = "paused too many times";
		return -EUSERS;
	}
	if (ctl.pause_count++ == 0) {
		log_info("domain %s: paused", ctl.cfg->name);
		if (domain_pause(ctl.d) < 0)
			log_warnx("domain %s: a vCPU did not stop within 2 s",
				  ctl.cfg->name);
	}
	snprintf(reply, len, "ok");
	return 0;
}

static int ctl_unpause(struct ctl_conn *c, const char *arg, char *reply,
		       size_t len, const char **msg)
{
	if (!ctl.d || ctl.pause_count == 0) {
		*msg = "the domain is not paused";
		return -EINVAL;
	}
	if (--ctl.pause_count == 0) {
		domain_unpause(ctl.d);
		log_info("domain %s: unpaused", ctl.cfg->name);
	}
	snprintf(reply, len, "ok");
	return 0;
}

static int ctl_rename(struct ctl_conn *c, const char *arg, char *reply,
		      size_t len, const char **msg)
{
	char *name;

	/* The same rule as kxl create's for names. */
	if (!*arg || strlen(arg) >= 64 || strpbrk(arg, " /\t\n")) {
		*msg = "a name is 1 to 63 characters, without spaces or '/'";
		return -EINVAL;
	}
	name = strdup(arg);
	if (!name) {
		*msg = "out of memory";
		return -ENOMEM;
	}
	log_info("domain %s: renamed %s", ctl.cfg->name, name);
	/* The old string may still be in use by a vCPU thread's message:
	 * it is never freed (names change rarely and are short). */
	ctl.cfg->name = name;
	snprintf(reply, len, "ok");
	return 0;
}

static int ctl_wait_shutdown(struct ctl_conn *c, const char *arg, char *reply,
			     size_t len, const char **msg)
{
	c->waiting = true;
	snprintf(reply, len, "ok");
	ctl_put_num(reply, len, "waiting", 1);
	ctl_put_num(reply, len, "boots", ctl.boots);
	return 0;
}

/* The domain's memory and its devices' counters (kxl top). */
static int ctl_stats(struct ctl_conn *c, const char *arg, char *reply,
		     size_t len, const char **msg)
{
	static struct vbd_stats vbd[CTL_MAX_STATS];
	static struct vif_stats vif[CTL_MAX_STATS];
	unsigned nvbd = CTL_MAX_STATS, nvif = CTL_MAX_STATS;
	uint64_t max_kb = ctl.cfg->memory_mb * 1024, kb = max_kb;
	struct domain *d = ctl.d;
	char key[16], val[160];
	int ret = 0;

	if (d) {
		pthread_mutex_lock(&d->lock); /* the balloon's count */
		kb = ((d->mem.size >> 12) - d->nr_ballooned) * 4;
		pthread_mutex_unlock(&d->lock);
		max_kb = d->mem.size >> 10;
		backends_stats(d, vbd, &nvbd, vif, &nvif);
	} else {
		nvbd = nvif = 0;
	}
	snprintf(reply, len, "ok");
	ret |= ctl_put_num(reply, len, "mem_kb", (long long)kb);
	ret |= ctl_put_num(reply, len, "maxmem_kb", (long long)max_kb);
	ret |= ctl_put_num(reply, len, "vbds", nvbd);
	for (unsigned i = 0; i < nvbd; i++) {
		snprintf(key, sizeof(key), "vbd%u", i);
		snprintf(val, sizeof(val), "%u,%llu,%llu,%llu,%llu,%llu",
			 vbd[i].devid, (unsigned long long)vbd[i].rd_req,
			 (unsigned long long)vbd[i].wr_req,
			 (unsigned long long)vbd[i].oo_req,
			 (unsigned long long)vbd[i].rd_sect,
			 (unsigned long long)vbd[i].wr_sect);
		ret |= ctl_put(reply, len, key, val);
	}
	ret |= ctl_put_num(reply, len, "vifs", nvif);
	for (unsigned i = 0; i < nvif; i++) {
		snprintf(key, sizeof(key), "vif%u", i);
		snprintf(val, sizeof(val), "%u,%llu,%llu,%llu,%llu",
			 vif[i].devid, (unsigned long long)vif[i].tx_packets,
			 (unsigned long long)vif[i].tx_bytes,
			 (unsigned long long)vif[i].rx_packets,
			 (unsigned long long)vif[i].rx_bytes);
		ret |= ctl_put(reply, len, key, val);
	}
	if (ret) {
		*msg = "reply too long";
		return -E2BIG;
	}
	return 0;
}

/* The core file comes as a descriptor kxl opened (with its user's rights)
 * and sent with the request: this process opens no path for a client.
 * The vCPUs stop for the copy and run again after it, unless the domain
 * was paused already. */
static int ctl_dump_core(struct ctl_conn *c, const char *arg, char *reply,
			 size_t len, const char **msg)
{
	struct domain *d = ctl.d;
	bool stopped = true, was_paused = ctl.pause_count > 0;
	unsigned nregs = 0;
	uint64_t bytes = 0;
	int ret;

	if (!d) {
		*msg = "the domain is not running";
		return -ESRCH;
	}
	if (c->passed_fd < 0) {
		*msg = "no file descriptor sent with the request";
		return -EBADF;
	}
	if (!was_paused && domain_pause(d) < 0) {
		log_warnx("domain %s: dump-core: a vCPU did not stop within "
			  "2 s; dumping without registers",
			  ctl.cfg->name);
		stopped = false;
	}
	ret = dumpcore_write(d, c->passed_fd, stopped, &bytes, &nregs);
	if (!was_paused)
		domain_unpause(d);
	if (ret) {
		*msg = ret == -EINVAL ? "not a regular file" : strerror(-ret);
		return ret;
	}
	log_info("domain %s: core dumped (%llu bytes, registers of %u "
		 "vCPU%s)",
		 ctl.cfg->name, (unsigned long long)bytes, nregs,
		 nregs == 1 ? "" : "s");
	snprintf(reply, len, "ok");
	ctl_put_num(reply, len, "bytes", (long long)bytes);
	ctl_put_num(reply, len, "vcpus", nregs);
	return 0;
}

#define CTL_ARG 1 /* takes one argument */

static const struct ctl_request {
	const char *name;
	ctl_handler fn;
	unsigned flags;
} ctl_requests[] = {
    {"info", ctl_info, 0},
    {"pause", ctl_pause, 0},
    {"unpause", ctl_unpause, 0},
    {"rename", ctl_rename, CTL_ARG},
    {"wait-shutdown", ctl_wait_shutdown, 0},
    {"stats", ctl_stats, 0},
    {"dump-core", ctl_dump_core, 0},
};

/* ---- connections ---- */

static void ctl_conn_close(struct ctl_conn *c)
{
	loop_del(c->fd);
	close(c->fd);
	c->fd = -1;
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	c->passed_fd = -1;
}

/* recv() that also takes a descriptor sent along (SCM_RIGHTS); a second
 * one replaces the first, more than one per message are closed. */
static ssize_t ctl_recv(struct ctl_conn *c, char *buf, size_t len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf)};
	ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0)
		return n;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h;
	     h = CMSG_NXTHDR(&mh, h)) {
		size_t nfd;
		int fds[4];

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfd > 4)
			nfd = 4;
		memcpy(fds, CMSG_DATA(h), nfd * sizeof(int));
		for (size_t i = 0; i < nfd; i++) {
			if (i == 0) {
				if (c->passed_fd >= 0)
					close(c->passed_fd);
				c->passed_fd = fds[i];
			} else {
				close(fds[i]);
			}
		}
	}
	return n;
}

static void ctl_send(struct ctl_conn *c, const char *line)
{
	size_t n = strlen(line);

	/* Replies are small and the socket's buffer empty: one send. */
	if (send(c->fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n ||
	    send(c->fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
		c->waiting = false; /* the client went away */
}

/* One request line (NUL-terminated, newline removed). */
static void ctl_dispatch(struct ctl_conn *c, char *line)
{
	static char reply[CTL_LINE_MAX];
	const struct ctl_request *r = NULL;
	const char *msg = "", *arg = "";
	char *sp = strchr(line, ' ');
	int ret;

	if (sp) {
		*sp = '\0';
		arg = sp + 1;
	}
	for (size_t i = 0; i < sizeof(ctl_requests) / sizeof(ctl_requests[0]);
	     i++)
		if (strcmp(line, ctl_requests[i].name) == 0)
			r = &ctl_requests[i];
	if (!r) {
		ret = -ENOSYS;
		msg = "unknown request";
	} else if (!(r->flags & CTL_ARG) != !sp) {
		ret = -EINVAL;
		msg = sp ? "no argument expected" : "argument missing";
	} else {
		ret = r->fn(c, arg, reply, sizeof(reply), &msg);
	}
	if (c->passed_fd >= 0) { /* the request's; a handler used it or not */
		close(c->passed_fd);
		c->passed_fd = -1;
	}
	if (ret < 0)
		snprintf(reply, sizeof(reply), "error %d %s", -ret, msg);
	ctl_send(c, reply);
	if (!c->waiting)
		ctl_conn_close(c);
}

static void ctl_on_conn(int fd, void *arg)
{
	struct ctl_conn *c = arg;
	char *nl;
	ssize_t n;

	if (c->waiting) { /* nothing more is read: EOF or junk ends it */
		char junk[64];

		n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			ctl_conn_close(c);
		return;
	}
	n = ctl_recv(c, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ctl_conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	nl = strchr(c->buf, '\n');
	if (!nl) {
		if (c->len == sizeof(c->buf) - 1) {
			ctl_send(c, "error 7 request too long"); /* E2BIG */
			ctl_conn_close(c);
		}
		return;
	}
	*nl = '\0';
	ctl_dispatch(c, c->buf);
}

static void ctl_on_listen(int fd, void *arg)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct ctl_conn *c = NULL;
	int cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return;
	/* The socket's mode already admits only its owner (and root); the
	 * peer's credentials are checked once more. */
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		close(cfd);
		return;
	}
	for (unsigned i = 0; i < CTL_MAX_CONNS && !c; i++)
		if (ctl.conns[i].fd < 0)
			c = &ctl.conns[i];
	if (!c || loop_add(cfd, ctl_on_conn, c) < 0) {
		close(cfd); /* busy: the client sees EOF and may retry */
		return;
	}
	c->fd = cfd;
	c->passed_fd = -1;
	c->len = 0;
	c->waiting = false;
}

/* ---- life cycle ---- */

static void ctl_close_listener(void)
{
	if (ctl.listen_fd < 0)
		return;
	loop_del(ctl.listen_fd);
	close(ctl.listen_fd);
	ctl.listen_fd = -1;
	unlink(ctl.path);
}

static void control_close(void)
{
	ctl_close_listener();
	if (ctl.dying_path[0])
		unlink(ctl.dying_path);
}

void control_open(struct domain_config *cfg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, ret;

	ctl.cfg = cfg;
	for (unsigned i = 0; i < CTL_MAX_CONNS; i++) {
		ctl.conns[i].fd = -1;
		ctl.conns[i].passed_fd = -1;
	}
	if (ctl_path(cfg->domid, "sock", ctl.path, sizeof(ctl.path)) < 0 ||
	    ctl_path(cfg->domid, "dying", ctl.dying_path,
		     sizeof(ctl.dying_path)) < 0) {
		log_warnx("domain %s: run directory %s: path too long: no "
			  "control channel",
			  cfg->name, ctl_run_dir());
		ctl.dying_path[0] = '\0';
		return;
	}
	atexit(control_close);
	if (mkdir(ctl_run_dir(), 0755) < 0 && errno != EEXIST)
		log_warn("mkdir %s", ctl_run_dir());
	/* The domid is ours (kxl's registry): anything there is left over
	 * from a process that died. */
	unlink(ctl.path);
	unlink(ctl.dying_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		log_warn("control socket");
		return;
	}
	memcpy(sa.sun_path, ctl.path,
	       strlen(ctl.path) + 1); /* fits: ctl_path */
	old = umask(0177);	      /* the socket is born 0600 */
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(fd, CTL_MAX_CONNS) < 0 ||
	    loop_add(fd, ctl_on_listen, NULL) < 0) {
		log_warn("domain %s: control socket %s", cfg->name, ctl.path);
		close(fd);
		return;
	}
	ctl.listen_fd = fd;
}

void control_booted(struct domain *d)
{
	ctl.d = d;
	ctl.boots++;
	ctl.boot_time = time(NULL);
	ctl.pause_count = atomic_load(&d->paused) ? 1 : 0; /* create -p */
}

void control_shutdown(int reason, int action)
{
	char line[128];

	snprintf(line, sizeof(line), "ok reason=%d action=%s", reason,
		 ctl_action_name(action));
	for (unsigned i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *c = &ctl.conns[i];

		if (c->fd < 0 || !c->waiting)
			continue;
		ctl_send(c, line);
		ctl_conn_close(c);
	}
	if (action == ACTION_PRESERVE)
		return;
	ctl.d = NULL;
	if (action != ACTION_RESTART && action != ACTION_RENAME_RESTART &&
	    action != ACTION_COREDUMP_RESTART)
		control_dying();
}

void control_dying(void)
{
	int fd;

	ctl.d = NULL;
	for (unsigned i = 0; i < CTL_MAX_CONNS; i++)
		if (ctl.conns[i].fd >= 0)
			ctl_conn_close(&ctl.conns[i]);
	if (ctl.listen_fd < 0)
		return;
	ctl_close_listener();
	fd = open(ctl.dying_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}
