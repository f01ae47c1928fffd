/* Plays a guest for kxend's ring transport (tests/host/test_xs_ring.sh): a
 * memfd as guest RAM with a xenstore ring page in it, a kick eventfd (the
 * guest notifies the store) and a notify eventfd (the store notifies the
 * guest), introduced over kxend's socket exactly as kxen-domain does
 * (src/xenstore/client.h); then requests are written into the ring and the
 * replies read back as Linux's xenbus driver does, with its sparse
 * notifications (xb_write/xb_read in drivers/xen/xenbus/xenbus_comms.c).
 *
 *   xs_fake_guest basic DOMID     own nodes, denials, watches, quota, big
 *                                 messages, transactions, release
 *   xs_fake_guest restart DOMID   survive a kxend kill -9 (the script kills
 *                                 and restarts kxend after "# ready")
 *   xs_fake_guest hostile DOMID   bad ring indexes
 *   xs_fake_guest oversized DOMID a header over the payload limit
 *   xs_fake_guest deaf DOMID      100 watches, then never reads its ring
 *
 * Host-side requests go through libxenstore ($XENSTORED_PATH).  Checks
 * print "PASS: name" or "FAIL: name: reason". */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include <xen/io/xs_wire.h>

#include "xenstore/client.h"

#define PAGES 16
#define RING_GFN 5

struct guest {
	uint32_t domid;
	int memfd, kick, notify, sock;
	char *mem;
	struct xenstore_domain_interface *intf;
	uint32_t req_id;
	/* Watch events received while waiting for replies. */
	char events[64][128];
	int nevents;
};

static int failures;

static void result(bool ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void result(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS: %s\n", name);
	} else {
		failures++;
		printf("FAIL: %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static int guest_setup(struct guest *g, uint32_t domid)
{
	memset(g, 0, sizeof(*g));
	g->domid = domid;
	g->memfd = memfd_create("fake-guest-ram", MFD_CLOEXEC);
	g->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	g->notify = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g->memfd < 0 || g->kick < 0 || g->notify < 0 ||
	    ftruncate(g->memfd, PAGES * 4096))
		return -errno;
	g->mem = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->memfd, 0);
	if (g->mem == MAP_FAILED)
		return -errno;
	g->intf = (void *)(g->mem + RING_GFN * 4096);
	g->sock = -1;
	return 0;
}

static int guest_introduce(struct guest *g)
{
	if (g->sock >= 0)
		close(g->sock);
	g->sock = xs_client_connect(NULL);
	if (g->sock < 0)
		return g->sock;
	return xs_client_introduce(g->sock, g->domid, RING_GFN, 3, g->memfd,
				   g->kick, g->notify);
}

static void guest_kick(struct guest *g)
{
	uint64_t one = 1;

	if (write(g->kick, &one, sizeof(one)) != sizeof(one))
		perror("kick");
}

/* Waits up to ms for the store's notification. */
static bool guest_wait(struct guest *g, int ms)
{
	struct pollfd p = {g->notify, POLLIN, 0};
	uint64_t cnt;

	if (poll(&p, 1, ms) != 1)
		return false;
	if (read(g->notify, &cnt, sizeof(cnt)) != sizeof(cnt))
		return false;
	return true;
}

static uint32_t load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Writes len bytes into the request ring, waiting for room: Linux's
 * xb_write(), notifications included (only when the store had consumed
 * everything before this chunk). */
static int ring_write(struct guest *g, const void *buf, uint32_t len)
{
	const char *p = buf;

	while (len) {
		uint32_t prod = g->intf->req_prod;
		uint32_t space =
		    XENSTORE_RING_SIZE - (prod - load(&g->intf->req_cons));
		uint32_t off = MASK_XENSTORE_IDX(prod), chunk;

		if (!space) {
			if (!guest_wait(g, 5000))
				return -ETIMEDOUT;
			continue;
		}
		chunk = XENSTORE_RING_SIZE - off;
		if (chunk > space)
			chunk = space;
		if (chunk > len)
			chunk = len;
		memcpy(g->intf->req + off, p, chunk);
		store(&g->intf->req_prod, prod + chunk);
		if (prod <= load(&g->intf->req_cons))
			guest_kick(g);
		p += chunk;
		len -= chunk;
	}
	return 0;
}

/* Reads len bytes from the response ring, waiting up to ms each time:
 * Linux's xb_read(), notifying only after draining a full ring. */
static int ring_read(struct guest *g, void *buf, uint32_t len, int ms)
{
	char *p = buf;

	while (len) {
		uint32_t cons = g->intf->rsp_cons;
		uint32_t avail = load(&g->intf->rsp_prod) - cons;
		uint32_t off = MASK_XENSTORE_IDX(cons), chunk;

		if (!avail) {
			if (!guest_wait(g, ms))
				return -ETIMEDOUT;
			continue;
		}
		chunk = XENSTORE_RING_SIZE - off;
		if (chunk > avail)
			chunk = avail;
		if (chunk > len)
			chunk = len;
		memcpy(p, g->intf->rsp + off, chunk);
		store(&g->intf->rsp_cons, cons + chunk);
		if (load(&g->intf->rsp_prod) - cons >= XENSTORE_RING_SIZE)
			guest_kick(g);
		p += chunk;
		len -= chunk;
	}
	return 0;
}

/* Header and payload written separately, as Linux's process_writes(). */
static int send_req(struct guest *g, uint32_t type, uint32_t tx, const void *pl,
		    uint32_t len)
{
	struct xsd_sockmsg h = {type, ++g->req_id, tx, len};
	int rc = ring_write(g, &h, sizeof(h));

	return rc || !len ? rc : ring_write(g, pl, len);
}

/* Reads messages until the reply to the last request; watch events are
 * kept in g->events.  Returns the reply type, or -errno on timeout. */
static int get_reply(struct guest *g, char *out, uint32_t *outlen, int ms)
{
	struct xsd_sockmsg h;
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	int rc;

	for (;;) {
		rc = ring_read(g, &h, sizeof(h), ms);
		if (!rc)
			rc = h.len > XENSTORE_PAYLOAD_MAX
				 ? -EPROTO
				 : ring_read(g, buf, h.len, ms);
		if (rc)
			return rc;
		buf[h.len] = '\0';
		if (h.type == XS_WATCH_EVENT) {
			if (g->nevents < 64)
				snprintf(g->events[g->nevents++], 128,
					 "%.60s|%.60s", buf,
					 buf + strlen(buf) + 1);
			continue;
		}
		if (h.req_id != g->req_id)
			continue;
		if (out) {
			memcpy(out, buf, h.len + 1);
			*outlen = h.len;
		}
		return (int)h.type;
	}
}

/* One request; returns 0 with the reply in out, or -errno from an error
 * reply (or a timeout). */
static int call(struct guest *g, uint32_t type, uint32_t tx, const void *pl,
		uint32_t len, char *out, uint32_t *outlen)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t n;
	int t;

	if (!out) {
		out = buf;
		outlen = &n;
	}
	if (send_req(g, type, tx, pl, len))
		return -ETIMEDOUT;
	t = get_reply(g, out, outlen, 5000);
	if (t < 0)
		return t;
	if (t == XS_ERROR) {
		static const struct {
			const char *s;
			int e;
		} errs[] = {{"EACCES", EACCES}, {"ENOENT", ENOENT},
			    {"EINVAL", EINVAL}, {"ENOSPC", ENOSPC},
			    {"EEXIST", EEXIST}, {"EAGAIN", EAGAIN},
			    {"E2BIG", E2BIG},	{"EPERM", EPERM}};
		size_t i;

		for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
			if (!strcmp(out, errs[i].s))
				return -errs[i].e;
		return -EIO;
	}
	return t == (int)type ? 0 : -EPROTO;
}

static int g_read(struct guest *g, uint32_t tx, const char *path, char *out)
{
	uint32_t len;

	return call(g, XS_READ, tx, path, (uint32_t)strlen(path) + 1, out,
		    &len);
}

static int g_write(struct guest *g, uint32_t tx, const char *path,
		   const char *val, size_t vlen)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t pl = strlen(path) + 1;

	memcpy(buf, path, pl);
	memcpy(buf + pl, val, vlen);
	return call(g, XS_WRITE, tx, buf, (uint32_t)(pl + vlen), NULL, NULL);
}

static int g_two(struct guest *g, uint32_t type, uint32_t tx, const char *a,
		 const char *b)
{
	char buf[512];
	size_t la = strlen(a) + 1, lb = strlen(b) + 1;

	memcpy(buf, a, la);
	memcpy(buf + la, b, lb);
	return call(g, type, tx, buf, (uint32_t)(la + lb), NULL, NULL);
}

static bool has_event(struct guest *g, const char *ev)
{
	int i;

	for (i = 0; i < g->nevents; i++)
		if (!strcmp(g->events[i], ev))
			return true;
	return false;
}

/* Waits for a watch event (reads the ring without a request). */
static bool wait_event(struct guest *g, const char *ev, int ms)
{
	struct xsd_sockmsg h;
	char buf[XENSTORE_PAYLOAD_MAX + 1];

	while (!has_event(g, ev)) {
		if (ring_read(g, &h, sizeof(h), ms) ||
		    h.len > XENSTORE_PAYLOAD_MAX ||
		    ring_read(g, buf, h.len, ms))
			return false;
		buf[h.len] = '\0';
		if (h.type == XS_WATCH_EVENT && g->nevents < 64)
			snprintf(g->events[g->nevents++], 128, "%.60s|%.60s",
				 buf, buf + strlen(buf) + 1);
	}
	return true;
}

static struct xs_handle *host(void)
{
	static struct xs_handle *h;

	if (!h)
		h = xs_open(0);
	if (!h) {
		printf("FAIL: host: xs_open: %s\n", strerror(errno));
		exit(1);
	}
	return h;
}

static int mode_basic(struct guest *g)
{
	char out[XENSTORE_PAYLOAD_MAX + 1], path[64], want[64], big[3000];
	uint32_t len, tx;
	int rc, n;
	unsigned int hl;
	char *hv;

	rc = guest_introduce(g);
	result(!rc, "ring: INTRODUCE with the memfd and eventfds", "%s",
	       strerror(-rc));
	if (rc)
		return 1;
	result(xs_is_domain_introduced(host(), g->domid),
	       "ring: IS_DOMAIN_INTRODUCED answers yes", "no");

	snprintf(want, sizeof(want), "/local/domain/%u", g->domid);
	n = snprintf(path, sizeof(path), "%u", g->domid) + 1;
	rc = call(g, XS_GET_DOMAIN_PATH, 0, path, (uint32_t)n, out, &len);
	result(!rc && !strcmp(out, want), "ring: GET_DOMAIN_PATH of itself",
	       "rc %d, %s", rc, out);

	rc = g_write(g, 0, "data/greeting", "hello", 5);
	result(!rc, "ring: the guest writes its own node (relative path)", "%s",
	       strerror(-rc));
	rc = g_read(g, 0, "data/greeting", out);
	result(!rc && !strcmp(out, "hello"), "ring: the guest reads it back",
	       "rc %d", rc);
	snprintf(path, sizeof(path), "/local/domain/%u/data/greeting",
		 g->domid);
	hv = xs_read(host(), XBT_NULL, path, &hl);
	result(hv && !strcmp(hv, "hello"), "ring: dom0 sees the guest's write",
	       "%s", hv ? hv : strerror(errno));
	free(hv);
	{
		struct xs_permissions *p;
		unsigned int np;

		p = xs_get_permissions(host(), XBT_NULL, path, &np);
		result(p && np >= 1 && p[0].id == g->domid,
		       "ring: a node the guest creates is owned by the guest",
		       "owner %u", p ? p[0].id : 0);
		free(p);
	}

	rc = g_read(g, 0, "/local/domain/0/secret", out);
	result(rc == -EACCES, "ring: EACCES reading dom0's private node",
	       "rc %d", rc);
	rc = g_write(g, 0, "/local/domain/0/secret", "pwned", 5);
	result(rc == -EACCES, "ring: EACCES writing dom0's private node",
	       "rc %d", rc);
	rc = g_write(g, 0, "/tool/evil", "x", 1);
	result(rc == -EACCES, "ring: EACCES creating a node under dom0's /tool",
	       "rc %d", rc);
	rc = g_read(g, 0, "/local/domain/99/x", out);
	result(rc == -EACCES, "ring: EACCES reading another domain's node",
	       "rc %d", rc);
	rc = g_write(g, 0, "/local/domain/99/x", "y", 1);
	result(rc == -EACCES, "ring: EACCES writing another domain's node",
	       "rc %d", rc);
	hv = xs_read(host(), XBT_NULL, "/local/domain/0/secret", &hl);
	result(hv && !strcmp(hv, "s3cret"), "ring: dom0's node is untouched",
	       "%s", hv ? hv : strerror(errno));
	free(hv);
	{
		char pl[64];
		int l = snprintf(pl, sizeof(pl), "data/greeting%cn%u%cr0%c", 0,
				 g->domid, 0, 0);

		rc = call(g, XS_SET_PERMS, 0, pl, (uint32_t)l, NULL, NULL);
		result(!rc, "ring: the owner sets its node's permissions", "%d",
		       rc);
		l = snprintf(pl, sizeof(pl), "data/greeting%cn0%c", 0, 0);
		rc = call(g, XS_SET_PERMS, 0, pl, (uint32_t)l, NULL, NULL);
		result(rc == -EPERM, "ring: a guest may not give its node away",
		       "rc %d", rc);
	}
	rc = call(g, XS_CONTROL, 0, "quota", 6, NULL, NULL);
	result(rc == -EACCES, "ring: CONTROL is for dom0 only", "rc %d", rc);

	/* Watches: the initial event, then the host's write. */
	rc = g_two(g, XS_WATCH, 0, "data", "gtok");
	result(!rc, "ring: WATCH on a relative path", "%d", rc);
	result(wait_event(g, "data|gtok", 2000),
	       "ring: the initial watch event", "%d events", g->nevents);
	snprintf(path, sizeof(path), "/local/domain/%u/data/poke", g->domid);
	xs_write(host(), XBT_NULL, path, "ping", 4);
	result(wait_event(g, "data/poke|gtok", 2000),
	       "ring: a host write fires the guest's watch (relative path)",
	       "%d events", g->nevents);

	/* A reply bigger than the ring, a request bigger than the ring. */
	memset(big, 'b', sizeof(big));
	snprintf(path, sizeof(path), "/local/domain/%u/big", g->domid);
	xs_write(host(), XBT_NULL, path, big, sizeof(big));
	rc = g_read(g, 0, "big", out);
	result(!rc && strlen(out) == sizeof(big) && out[2999] == 'b',
	       "ring: a 3000-byte reply through the 1024-byte ring",
	       "rc %d len %zu", rc, strlen(out));
	memset(big, 'c', 1500);
	rc = g_write(g, 0, "data/big", big, 1500);
	hv = xs_read(host(), XBT_NULL, "/local/domain/0/secret", &hl);
	free(hv);
	snprintf(path, sizeof(path), "/local/domain/%u/data/big", g->domid);
	hv = xs_read(host(), XBT_NULL, path, &hl);
	result(!rc && hv && hl == 1500,
	       "ring: a 1500-byte request through the 1024-byte ring",
	       "rc %d len %u", rc, hv ? hl : 0);
	free(hv);
	rc = g_write(g, 0, "data/huge", big, 2100);
	result(rc == -ENOSPC, "ring: a node over the size quota: ENOSPC",
	       "rc %d", rc);

	/* Transactions from the guest. */
	rc = call(g, XS_TRANSACTION_START, 0, "", 1, out, &len);
	tx = (uint32_t)strtoul(out, NULL, 10);
	result(!rc && tx, "ring: TRANSACTION_START", "rc %d %s", rc, out);
	g_write(g, tx, "data/tx", "1", 1);
	rc = g_read(g, 0, "data/tx", out);
	result(rc == -ENOENT,
	       "ring: a transaction's write is invisible outside it", "rc %d",
	       rc);
	rc = call(g, XS_TRANSACTION_END, tx, "T", 2, NULL, NULL);
	rc = rc ? rc : g_read(g, 0, "data/tx", out);
	result(!rc && !strcmp(out, "1"), "ring: TRANSACTION_END commits",
	       "rc %d", rc);

	/* Quota: the guest creates nodes until refused; dom0 carries on.  (50
	 * per directory: one directory's children list would hit the node
	 * size quota first, as in xenstored.) */
	for (n = 0; n < 5000; n++) {
		snprintf(path, sizeof(path), "data/flood/d%d/n%d", n / 50, n);
		rc = g_write(g, 0, path, "x", 1);
		if (rc)
			break;
		if (n % 100 == 0) {
			char hp[64];

			snprintf(hp, sizeof(hp),
				 "/local/domain/0/during-flood-%d", n);
			if (!xs_write(host(), XBT_NULL, hp, "ok", 2))
				break;
		}
	}
	printf("# flood: %d nodes created, then %s\n", n, strerror(-rc));
	result(rc == -ENOSPC && n > 900 && n < 1000,
	       "ring: a flooding guest is stopped by its node quota (ENOSPC, "
	       "xenstored's quota error)",
	       "n=%d rc=%d", n, rc);
	rc = xs_write(host(), XBT_NULL, "/local/domain/0/after-flood", "fine",
		      4);
	hv = xs_read(host(), XBT_NULL, "/local/domain/0/after-flood", &hl);
	result(rc && hv && !strcmp(hv, "fine"),
	       "ring: dom0 keeps working while the guest is at its quota", "%s",
	       hv ? hv : strerror(errno));
	free(hv);
	rc = g_read(g, 0, "data/greeting", out);
	result(!rc, "ring: the guest at its quota can still read", "rc %d", rc);
	rc = g_write(g, 0, "data/greeting", "updated", 7);
	result(!rc, "ring: ... and overwrite its existing nodes", "rc %d", rc);
	snprintf(path, sizeof(path), "/local/domain/%u/data/flood", g->domid);
	xs_rm(host(), XBT_NULL, path);
	rc = g_write(g, 0, "data/after", "1", 1);
	result(!rc,
	       "ring: after dom0 removes its nodes the guest may create again",
	       "rc %d", rc);

	/* RELEASE: @releaseDomain fires, the domain's nodes go. */
	{
		struct pollfd p = {xs_fileno(host()), POLLIN, 0};
		bool initial = false, released = false;
		unsigned int nv;
		char **vec;

		xs_watch(host(), "@releaseDomain", "rel");
		if (poll(&p, 1, 2000) == 1) {
			vec = xs_read_watch(host(), &nv);
			initial = vec && !strcmp(vec[XS_WATCH_TOKEN], "rel");
			free(vec);
		}
		result(!xs_client_release(g->sock, g->domid),
		       "ring: RELEASE of the domain", "%s", strerror(errno));
		if (initial && poll(&p, 1, 2000) == 1) {
			vec = xs_read_watch(host(), &nv);
			released =
			    vec && !strcmp(vec[XS_WATCH_TOKEN], "rel") &&
			    !strcmp(vec[XS_WATCH_PATH], "@releaseDomain");
			free(vec);
		}
		result(released, "ring: @releaseDomain fires on RELEASE",
		       "initial event %d", initial);
	}
	snprintf(path, sizeof(path), "/local/domain/%u/data/greeting",
		 g->domid);
	hv = xs_read(host(), XBT_NULL, path, &hl);
	result(!hv && errno == ENOENT,
	       "ring: the released domain's own nodes are removed", "%s",
	       hv ? hv : "");
	free(hv);
	result(!xs_is_domain_introduced(host(), g->domid),
	       "ring: IS_DOMAIN_INTRODUCED is no after RELEASE", "yes");
	return failures ? 1 : 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int mode_restart(struct guest *g)
{
	char out[XENSTORE_PAYLOAD_MAX + 1], buf[16], want[80];
	struct pollfd p;
	double t0;
	uint32_t len;
	int rc;

	rc = guest_introduce(g);
	if (rc) {
		result(false, "restart: INTRODUCE", "%s", strerror(-rc));
		return 1;
	}
	g_write(g, 0, "data/before", "1", 1);
	g_two(g, XS_WATCH, 0, "control/shutdown", "shut");
	wait_event(g, "control/shutdown|shut", 2000);
	g->nevents = 0;
	printf("# ready\n");
	fflush(stdout);

	/* kxend is killed: the socket closes. */
	p.fd = g->sock;
	p.events = POLLIN;
	while (poll(&p, 1, 30000) == 1 && read(g->sock, buf, sizeof(buf)) > 0)
		;
	t0 = now_ms();
	/* A request written while no kxend runs is answered later. */
	send_req(g, XS_READ, 0, "data/before", 12);
	/* Reconnect and introduce again, as kxen-domain does. */
	do {
		rc = guest_introduce(g);
		if (rc)
			usleep(20000);
	} while (rc && now_ms() - t0 < 20000);
	result(!rc, "restart: the domain is introduced again to the new kxend",
	       "%s", strerror(-rc));
	if (rc)
		return 1;
	printf("# re-introduced %.0f ms after the old kxend went away\n",
	       now_ms() - t0);
	rc = get_reply(g, out, &len, 5000);
	result(rc == XS_READ && !strcmp(out, "1"),
	       "restart: the request left in the ring is answered",
	       "type %d %s", rc, rc > 0 ? out : "");
	result(wait_event(g, "control/shutdown|shut", 3000),
	       "restart: the guest's watch survives and fires once",
	       "%d events", g->nevents);
	snprintf(want, sizeof(want), "/local/domain/%u/control/shutdown",
		 g->domid);
	xs_write(host(), XBT_NULL, want, "poweroff", 8);
	g->nevents = 0;
	result(wait_event(g, "control/shutdown|shut", 3000),
	       "restart: a host write after the restart fires the watch",
	       "%d events", g->nevents);
	rc = g_read(g, 0, "control/shutdown", out);
	result(!rc && !strcmp(out, "poweroff"),
	       "restart: the guest reads what the host wrote", "rc %d", rc);
	rc = g_write(g, 0, "data/after", "2", 1);
	result(!rc, "restart: the guest writes after the restart", "rc %d", rc);
	return failures ? 1 : 0;
}

static int mode_hostile(struct guest *g, bool oversized)
{
	struct xs_handle *h = host();
	unsigned int hl;
	char *hv;
	int i, rc;

	rc = guest_introduce(g);
	if (rc) {
		result(false, "hostile: INTRODUCE", "%s", strerror(-rc));
		return 1;
	}
	if (oversized) {
		struct xsd_sockmsg hdr = {XS_READ, 1, 0, 5000};

		ring_write(g, &hdr, sizeof(hdr));
	} else {
		/* Claims 2000 bytes in a 1024-byte ring. */
		store(&g->intf->req_prod, load(&g->intf->req_cons) + 2000);
		guest_kick(g);
	}
	for (i = 0; i < 200 && !load(&g->intf->error); i++)
		usleep(10000);
	if (oversized)
		result(
		    load(&g->intf->error) == XENSTORE_ERROR_PROTO,
		    "hostile: a header over 4096 bytes disconnects the guest "
		    "(error PROTO)",
		    "error %u", load(&g->intf->error));
	else
		result(load(&g->intf->error) == XENSTORE_ERROR_RINGIDX,
		       "hostile: a producer index 2000 ahead disconnects the "
		       "guest "
		       "(error RINGIDX)",
		       "error %u", load(&g->intf->error));
	hv = xs_read(h, XBT_NULL, "/local/domain/0/secret", &hl);
	result(hv && !strcmp(hv, "s3cret"), "hostile: dom0 keeps working", "%s",
	       hv ? hv : strerror(errno));
	free(hv);
	/* The disconnected domain can be introduced again (reset). */
	memset(g->intf, 0, sizeof(*g->intf));
	rc = guest_introduce(g);
	result(!rc, "hostile: the domain can be introduced again", "%s",
	       strerror(-rc));
	rc = g_write(g, 0, "data/again", "1", 1);
	result(!rc, "hostile: ... and is served again", "rc %d", rc);
	return failures ? 1 : 0;
}

/* A guest that sets watches and stops reading: its queue is bounded. */
static int mode_deaf(struct guest *g)
{
	char tok[16], path[80];
	unsigned int hl;
	char *hv;
	int i, rc;

	rc = guest_introduce(g);
	if (rc) {
		result(false, "deaf: INTRODUCE", "%s", strerror(-rc));
		return 1;
	}
	for (i = 0; i < 100; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		if (g_two(g, XS_WATCH, 0, "data", tok))
			break;
	}
	result(i == 100, "deaf: 100 watches set", "%d", i);
	/* From now on nothing is read: the host's writes pile up events. */
	for (i = 0; i < 2000 && !load(&g->intf->error); i++) {
		snprintf(path, sizeof(path), "/local/domain/%u/data/n%d",
			 g->domid, i);
		xs_write(host(), XBT_NULL, path, "x", 1);
	}
	for (i = 0; i < 200 && !load(&g->intf->error); i++)
		usleep(10000);
	result(
	    load(&g->intf->error) == XENSTORE_ERROR_COMM,
	    "deaf: a guest that leaves 1 MiB of events unread is disconnected",
	    "error %u", load(&g->intf->error));
	hv = xs_read(host(), XBT_NULL, "/local/domain/0/secret", &hl);
	result(hv && !strcmp(hv, "s3cret"), "deaf: dom0 keeps working", "%s",
	       hv ? hv : strerror(errno));
	free(hv);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct guest g;
	uint32_t domid;

	if (argc != 3) {
		fprintf(stderr, "usage: xs_fake_guest basic|restart|hostile|"
				"oversized|deaf DOMID\n");
		return 2;
	}
	domid = (uint32_t)atoi(argv[2]);
	if (guest_setup(&g, domid)) {
		printf("FAIL: fake guest: setup: %s\n", strerror(errno));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "basic"))
		return mode_basic(&g);
	if (!strcmp(argv[1], "restart"))
		return mode_restart(&g);
	if (!strcmp(argv[1], "hostile"))
		return mode_hostile(&g, false);
	if (!strcmp(argv[1], "oversized"))
		return mode_hostile(&g, true);
	if (!strcmp(argv[1], "deaf"))
		return mode_deaf(&g);
	return 2;
}
