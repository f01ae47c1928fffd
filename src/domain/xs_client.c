/* The domain process's xenstore client: introduce, tree, release. */
#include "domain/xs_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "common/log.h"
#include "domain/backends.h"
#include "domain/boot/layout.h"
#include "domain/domain.h"
#include "domain/loop.h"

/* libxenstore's default socket when XENSTORED_PATH is not set. */
#define XS_DEFAULT_SOCKET "/run/xenstored/socket"
#define XS_RETRY_NS 500000000ull /* reconnect attempts after a drop */
#define XS_TIMEOUT_S 5

struct xs_client {
	int sock;             /* -1 when not connected */
	int kick_fd;          /* guest -> kxend */
	int notify_fd;        /* kxend -> guest (irqfd) */
	uint32_t port;        /* the guest's store event channel */
	uint32_t req_id;
	uint64_t retry_at;    /* monotonic ns, 0 = no retry pending */
	char path[108];
};

static const char *xs_socket_path(void)
{
	const char *p = getenv("XENSTORED_PATH");

	return p && *p ? p : XS_DEFAULT_SOCKET;
}

static int xs_connect(struct xs_client *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = XS_TIMEOUT_S};
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->sock = fd;
	return 0;
}

/* Sends one request (with fds if nfds > 0) and reads its reply into
 * reply (NUL-terminated, may be NULL).  Returns 0, -EIO on a broken
 * connection, or -EINVAL/-EACCES/... from an XS_ERROR reply. */
static int xs_request(struct xs_client *c, uint32_t type, uint32_t tx,
		      const void *payload, uint32_t len, const int *fds,
		      int nfds, char *reply, size_t replylen)
{
	struct xsd_sockmsg h = {.type = type, .req_id = ++c->req_id,
				.tx_id = tx, .len = len};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)payload, len}};
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	char body[XENSTORE_PAYLOAD_MAX + 1];
	size_t got = 0;

	if (c->sock < 0)
		return -EIO;
	if (nfds > 0) {
		struct cmsghdr *cm;

		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	if (sendmsg(c->sock, &msg, MSG_NOSIGNAL) != (ssize_t)(sizeof(h) + len))
		return -EIO;
	for (;;) { /* skip watch events: we set none, but be robust */
		if (recv(c->sock, &h, sizeof(h), MSG_WAITALL) != sizeof(h) ||
		    h.len > XENSTORE_PAYLOAD_MAX)
			return -EIO;
		if (h.len && recv(c->sock, body, h.len, MSG_WAITALL) != h.len)
			return -EIO;
		body[h.len] = '\0';
		if (h.type != XS_WATCH_EVENT)
			break;
	}
	if (h.type == XS_ERROR) {
		for (unsigned i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]);
		     i++)
			if (strcmp(body, xsd_errors[i].errstring) == 0)
				return -xsd_errors[i].errnum;
		return -EINVAL;
	}
	got = h.len < replylen ? h.len : replylen - 1;
	if (reply) {
		memcpy(reply, body, got);
		reply[got] = '\0';
	}
	return 0;
}

static int xs_write(struct xs_client *c, uint32_t tx, const char *path,
		    const char *value)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t pl = strlen(path) + 1, vl = strlen(value);

	if (pl + vl > sizeof(buf))
		return -E2BIG;
	memcpy(buf, path, pl);
	memcpy(buf + pl, value, vl);
	return xs_request(c, XS_WRITE, tx, buf, (uint32_t)(pl + vl), NULL, 0,
			  NULL, 0);
}

/* perms: "n0\0rN\0..." already joined, with its total length. */
static int xs_set_perms(struct xs_client *c, uint32_t tx, const char *path,
			const char *perms, size_t plen)
{
	char buf[512];
	size_t l = strlen(path) + 1;

	if (l + plen > sizeof(buf))
		return -E2BIG;
	memcpy(buf, path, l);
	memcpy(buf + l, perms, plen);
	return xs_request(c, XS_SET_PERMS, tx, buf, (uint32_t)(l + plen), NULL,
			  0, NULL, 0);
}

static int xs_simple(struct xs_client *c, uint32_t type, const char *arg)
{
	return xs_request(c, type, 0, arg, (uint32_t)strlen(arg) + 1, NULL, 0,
			  NULL, 0);
}

/* Who may do what under /local/domain/<id>, as libxl sets it up: the
 * domain reads its tree; it owns (reads and writes) the nodes where it
 * reports to the toolstack. */
enum xs_node_perm { XS_GUEST_READ, XS_GUEST_OWNS };

struct xs_node {
	const char *fmt;  /* path under the domain's root, may use %u */
	enum xs_node_perm perm;
	int value;        /* which value to write (see xs_tree_value) */
};

enum { V_NONE, V_NAME, V_DOMID, V_VM, V_TARGET, V_MAXMEM, V_CON_PORT,
       V_CON_REF, V_CON_TYPE, V_STORE_PORT, V_STORE_REF, V_EMPTY, V_ONE };

static const struct xs_node xs_domain_nodes[] = {
	{"", XS_GUEST_READ, V_NONE},
	{"/name", XS_GUEST_READ, V_NAME},
	{"/domid", XS_GUEST_READ, V_DOMID},
	{"/vm", XS_GUEST_READ, V_VM},
	{"/memory/target", XS_GUEST_READ, V_TARGET},
	{"/memory/static-max", XS_GUEST_READ, V_MAXMEM},
	{"/console/port", XS_GUEST_READ, V_CON_PORT},
	{"/console/ring-ref", XS_GUEST_READ, V_CON_REF},
	{"/console/type", XS_GUEST_READ, V_CON_TYPE},
	{"/store/port", XS_GUEST_READ, V_STORE_PORT},
	{"/store/ring-ref", XS_GUEST_READ, V_STORE_REF},
	{"/device", XS_GUEST_READ, V_EMPTY},
	{"/control", XS_GUEST_READ, V_EMPTY},
	/* What the platform offers; Linux's xenbus reads these. */
	{"/control/platform-feature-multiprocessor-suspend", XS_GUEST_READ, V_ONE},
	{"/control/platform-feature-xs_reset_watches", XS_GUEST_READ, V_ONE},
	{"/control/shutdown", XS_GUEST_OWNS, V_EMPTY},
	{"/control/sysrq", XS_GUEST_OWNS, V_EMPTY},
	{"/control/feature-poweroff", XS_GUEST_OWNS, V_EMPTY},
	{"/control/feature-reboot", XS_GUEST_OWNS, V_EMPTY},
	{"/control/feature-suspend", XS_GUEST_OWNS, V_EMPTY},
	{"/control/feature-balloon", XS_GUEST_OWNS, V_EMPTY},
	{"/data", XS_GUEST_OWNS, V_EMPTY},
	{"/drivers", XS_GUEST_OWNS, V_EMPTY},
	{"/attr", XS_GUEST_OWNS, V_EMPTY},
	{"/error", XS_GUEST_OWNS, V_EMPTY},
};

static void xs_tree_value(struct domain *d, int which, char *out, size_t len,
			  const char *uuid)
{
	const struct domain_config *cfg = d->cfg;

	switch (which) {
	case V_NAME: snprintf(out, len, "%s", cfg->name); break;
	case V_DOMID: snprintf(out, len, "%u", cfg->domid); break;
	case V_VM: snprintf(out, len, "/vm/%s", uuid); break;
	case V_TARGET:
	case V_MAXMEM:
		snprintf(out, len, "%llu", (unsigned long long)cfg->memory_mb * 1024);
		break;
	case V_CON_PORT:
		snprintf(out, len, "%llu",
			 (unsigned long long)d->hvm_params[HVM_PARAM_CONSOLE_EVTCHN]);
		break;
	case V_CON_REF:
		snprintf(out, len, "%llu",
			 (unsigned long long)d->hvm_params[HVM_PARAM_CONSOLE_PFN]);
		break;
	case V_CON_TYPE: snprintf(out, len, "xenconsoled"); break;
	case V_ONE: snprintf(out, len, "1"); break;
	case V_STORE_PORT: snprintf(out, len, "%u", d->xs->port); break;
	case V_STORE_REF:
		snprintf(out, len, "%llu", (unsigned long long)(GUEST_XENSTORE_GPA >> 12));
		break;
	default: out[0] = '\0'; break;
	}
}

static void format_uuid(const uint8_t u[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* Writes the whole tree in one transaction, retrying on EAGAIN. */
static int xs_write_tree(struct domain *d)
{
	struct xs_client *c = d->xs;
	uint32_t id = d->cfg->domid;
	char root[64], path[128], value[128], perms[64], uuid[37], txs[16];
	int plen, ret = 0;

	format_uuid(d->cfg->uuid, uuid);
	snprintf(root, sizeof(root), "/local/domain/%u", id);
	for (int attempt = 0; attempt < 5; attempt++) {
		uint32_t tx;

		ret = xs_request(c, XS_TRANSACTION_START, 0, "", 1, NULL, 0, txs,
				 sizeof(txs));
		if (ret)
			return ret;
		tx = (uint32_t)strtoul(txs, NULL, 10);
		for (size_t i = 0; !ret && i < sizeof(xs_domain_nodes) /
						      sizeof(xs_domain_nodes[0]);
		     i++) {
			const struct xs_node *n = &xs_domain_nodes[i];

			snprintf(path, sizeof(path), "%s%s", root, n->fmt);
			xs_tree_value(d, n->value, value, sizeof(value), uuid);
			ret = xs_write(c, tx, path, value);
			if (ret)
				break;
			/* "nX" = owner X, others none; "rY" = Y may read. */
			if (n->perm == XS_GUEST_OWNS)
				plen = snprintf(perms, sizeof(perms), "n%u", id) + 1;
			else
				plen = snprintf(perms, sizeof(perms), "n0%cr%u",
						'\0', id) + 1;
			ret = xs_set_perms(c, tx, path, perms, (size_t)plen);
		}
		for (unsigned v = 0; !ret && v < d->nr_vcpus; v++) {
			snprintf(path, sizeof(path), "%s/cpu/%u/availability",
				 root, v);
			ret = xs_write(c, tx, path, "online");
		}
		if (!ret) {
			snprintf(path, sizeof(path), "/vm/%s/name", uuid);
			ret = xs_write(c, tx, path, d->cfg->name);
		}
		if (!ret) {
			snprintf(path, sizeof(path), "/vm/%s/uuid", uuid);
			ret = xs_write(c, tx, path, uuid);
		}
		if (!ret) {
			snprintf(path, sizeof(path), "/vm/%s", uuid);
			plen = snprintf(perms, sizeof(perms), "n0%cr%u", '\0',
					id) + 1;
			ret = xs_set_perms(c, tx, path, perms, (size_t)plen);
		}
		ret = xs_request(c, XS_TRANSACTION_END, tx, ret ? "F" : "T", 2,
				 NULL, 0, NULL, 0) ?: ret;
		if (ret != -EAGAIN)
			break;
	}
	return ret;
}

/* XS_INTRODUCE "<domid>\0<gfn>\0<port>\0" with [ram memfd, kick, notify]. */
static int xs_introduce(struct domain *d)
{
	struct xs_client *c = d->xs;
	int64_t off = gmem_file_offset(&d->mem, GUEST_XENSTORE_GPA);
	int fds[3] = {d->mem.fd, c->kick_fd, c->notify_fd};
	char buf[64];
	int len;

	if (off < 0)
		return -EFAULT;
	len = snprintf(buf, sizeof(buf), "%u%c%llu%c%u", d->cfg->domid, '\0',
		       (unsigned long long)(off >> 12), '\0', c->port) + 1;
	return xs_request(c, XS_INTRODUCE, 0, buf, (uint32_t)len, fds, 3, NULL,
			  0);
}

static void xs_on_socket(int fd, void *arg)
{
	struct domain *d = arg;
	struct xs_client *c = d->xs;
	char junk[256];

	/* We keep no watches: anything readable here is the daemon going
	 * away (EOF) or noise.  On EOF, reconnect soon. */
	if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		return;
	log_warnx("domain %s: lost the xenstore connection; reconnecting",
		  d->cfg->name);
	loop_del(fd);
	close(fd);
	c->sock = -1;
	c->retry_at = now_ns() + XS_RETRY_NS;
	backends_store_lost(d);
}

/* Connects, introduces, and writes the tree unless kxend still has it. */
static int xs_session(struct domain *d, bool first)
{
	struct xs_client *c = d->xs;
	char path[64], name[80];
	int ret;

	ret = xs_connect(c);
	if (ret)
		return ret;
	ret = xs_introduce(d);
	if (!ret) {
		snprintf(path, sizeof(path), "/local/domain/%u/name",
			 d->cfg->domid);
		if (first || xs_request(c, XS_READ, 0, path, strlen(path) + 1,
					NULL, 0, name, sizeof(name)))
			ret = xs_write_tree(d);
	}
	if (!ret)
		ret = loop_add(c->sock, xs_on_socket, d);
	if (ret) {
		close(c->sock);
		c->sock = -1;
	}
	return ret;
}

int xs_client_attach(struct domain *d)
{
	struct xs_client *c = calloc(1, sizeof(*c));
	int port, ret;

	if (!c)
		return -ENOMEM;
	c->sock = c->kick_fd = c->notify_fd = -1;
	d->xs = c;
	snprintf(c->path, sizeof(c->path), "%s", xs_socket_path());
	c->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->kick_fd < 0 || c->notify_fd < 0)
		return -errno;
	if (!gmem_ptr(&d->mem, GUEST_XENSTORE_GPA, GUEST_PAGE_SIZE))
		return -EFAULT;
	memset(gmem_ptr(&d->mem, GUEST_XENSTORE_GPA, GUEST_PAGE_SIZE), 0,
	       GUEST_PAGE_SIZE);
	port = evtchn_alloc_backend(d, c->kick_fd);
	if (port < 0)
		return port;
	c->port = (uint32_t)port;
	ret = evtchn_irqfd(d, c->port, c->notify_fd);
	if (ret)
		return ret;
	ret = xs_session(d, true);
	if (ret) {
		log_warnx("domain %s: no xenstore at %s (%s): running without "
			  "one",
			  d->cfg->name, c->path, strerror(-ret));
		return 0;
	}
	/* Only now does the guest learn of a store: it exists. */
	d->hvm_params[HVM_PARAM_STORE_PFN] = GUEST_XENSTORE_GPA >> 12;
	d->hvm_params[HVM_PARAM_STORE_EVTCHN] = c->port;
	return 0;
}

uint64_t xs_client_poll(struct domain *d, uint64_t now)
{
	struct xs_client *c = d->xs;

	if (!c || !c->retry_at)
		return 0;
	if (now < c->retry_at)
		return c->retry_at;
	if (xs_session(d, false) == 0) {
		log_info("domain %s: introduced to xenstore again",
			 d->cfg->name);
		c->retry_at = 0;
		return 0;
	}
	c->retry_at = now + XS_RETRY_NS;
	return c->retry_at;
}

void xs_client_detach(struct domain *d)
{
	struct xs_client *c = d->xs;
	char path[64], uuid[37], id[16];

	if (!c)
		return;
	if (c->sock >= 0) {
		loop_del(c->sock);
		format_uuid(d->cfg->uuid, uuid);
		snprintf(path, sizeof(path), "/local/domain/%u", d->cfg->domid);
		xs_simple(c, XS_RM, path);
		snprintf(path, sizeof(path), "/vm/%s", uuid);
		xs_simple(c, XS_RM, path);
		snprintf(id, sizeof(id), "%u", d->cfg->domid);
		xs_simple(c, XS_RELEASE, id);
		close(c->sock);
	}
	if (c->kick_fd >= 0)
		close(c->kick_fd);
	if (c->notify_fd >= 0)
		close(c->notify_fd);
	free(c);
	d->xs = NULL;
}
