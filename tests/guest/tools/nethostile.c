/* nethostile: a hostile xen-netfront in guest user space.
 *
 * Usage: nethostile DEVID
 *
 * Drives kxen's network backend (src/backends/vif.c, net_ring.c) for a vif
 * whose frontend directory exists but which no kernel driver has bound
 * (xen-netfront not loaded: kxen.nonet): grants pages to domain 0 through
 * /dev/xen/gntalloc, offers an event channel through /dev/xen/evtchn,
 * speaks xenstore through /dev/xen/xenbus, connects as netfront does (one
 * queue, one event channel, request-rx-copy), then sends tx packets, good
 * and malformed, and checks each slot's response: the id echoed, OKAY for
 * good packets, ERROR (or DROPPED, as Linux netback answers some) for
 * every data slot of a malformed one, NULL for extra-info slots.  It also
 * posts rx buffers (the first one's grant revoked) for two frames the host
 * injects.
 *
 * Frames (the host's tests/guest/nethost.py builds the same ones):
 *   bytes 0..5 destination, 6..11 source, 12..13 type 0x88B5, 14..29 a tag
 *   padded with '.' ("NETH-GOOD-007", "NETH-BAD-012", "NETH-RX-201"), and
 *   byte i >= 30 = (i * 31 + k * 7) & 0xFF for the frame's number k.
 * Good tx frames go to ff:ff:ff:ff:ff:ff from the vif's MAC, and this
 * program prints "NETH-SENT <k> <len>" once the backend said OKAY: the
 * host must have captured exactly that frame on the vif.  Bad frames carry
 * "NETH-BAD", and the pages granted to another domain or revoked hold
 * "NETH-SENTINEL!!\n": neither may ever reach the host.
 *
 * Output: "NETH <case> status=<n> ok|BAD [detail]" per case, then
 * "NETH-DONE pass=<n> fail=<n>".  Exit status 0 when nothing failed.
 *
 * Built static on the host (the guest image has no Xen headers). */
#define _GNU_SOURCE
#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ring.h leaves the barriers to its user with the latest interface. */
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>
#include <xen/io/xs_wire.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntalloc.h>

#define PAGE 4096u
#define BAD_GREF 0xFFFF0u
#define FOREIGN_DOM 7 /* a domain that is not 0: grants to it are not ours */
#define SENTINEL "NETH-SENTINEL!!\n" /* 16 bytes */
#define ETH_TYPE 0x88B5		     /* IEEE local experimental */
#define NDATA 4			     /* tx data pages */
#define NRX 8			     /* rx buffers posted */

static int npass, nfail;
static uint16_t next_id = 1000;
static uint8_t mac[6];
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static bool report(const char *name, long status, bool ok, const char *fmt, ...)
{
	char detail[256] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	printf("NETH %s status=%ld %s%s%s\n", name, status, ok ? "ok" : "BAD",
	       detail[0] ? " " : "", detail);
	fflush(stdout);
	if (ok)
		npass++;
	else
		nfail++;
	return ok;
}

/* ---- xenstore through /dev/xen/xenbus ---- */

static int xs_fd = -1;
static uint32_t xs_reqid;

static int full_read(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* One request; the reply's payload (NUL-terminated) in out.  Returns the
 * payload length, or -1. */
static int xs_call(uint32_t type, const char *a, size_t alen, const char *b,
		   size_t blen, char *out, size_t outsz)
{
	struct xsd_sockmsg h = {.type = type,
				.req_id = ++xs_reqid,
				.tx_id = 0,
				.len = (uint32_t)(alen + blen)};
	char msg[sizeof(h) + 4096], body[4096];

	if (alen + blen > 4096)
		return -1;
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), a, alen);
	if (blen)
		memcpy(msg + sizeof(h) + alen, b, blen);
	if (write(xs_fd, msg, sizeof(h) + alen + blen) !=
	    (ssize_t)(sizeof(h) + alen + blen))
		return -1;
	do {
		if (full_read(xs_fd, &h, sizeof(h)) || h.len >= sizeof(body) ||
		    full_read(xs_fd, body, h.len))
			return -1;
		body[h.len] = 0;
	} while (h.type == XS_WATCH_EVENT);
	if (h.type == XS_ERROR)
		return -1;
	if (out && outsz) {
		size_t n = h.len < outsz - 1 ? h.len : outsz - 1;

		memcpy(out, body, n);
		out[n] = 0;
	}
	return (int)h.len;
}

static int xs_read(const char *path, char *out, size_t outsz)
{
	return xs_call(XS_READ, path, strlen(path) + 1, NULL, 0, out, outsz);
}

static int xs_writef(const char *dir, const char *key, const char *fmt, ...)
{
	char path[256], val[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_call(XS_WRITE, path, strlen(path) + 1, val, strlen(val), NULL,
		       0) < 0
		   ? -1
		   : 0;
}

static long long xs_read_num(const char *dir, const char *key, long long def)
{
	char path[256], val[128];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (xs_read(path, val, sizeof(val)) < 0)
		return def;
	return strtoll(val, NULL, 10);
}

/* Waits until dir/state is in want (bitmask of 1 << state); returns the
 * last state seen (-1 when unreadable). */
static int wait_state(const char *dir, unsigned want, double seconds)
{
	double end = now() + seconds;
	int s;

	for (;;) {
		s = (int)xs_read_num(dir, "state", -1);
		if (s >= 0 && s < 32 && (want & (1u << s)))
			return s;
		if (now() > end)
			return s;
		usleep(20000);
	}
}

/* ---- grants and event channels ---- */

static int gnt_fd = -1, evt_fd = -1;

struct gpage {
	uint8_t *p;
	uint32_t ref;
	uint64_t index;
};

static int galloc(uint16_t domid, bool writable, struct gpage *g)
{
	struct ioctl_gntalloc_alloc_gref a = {
	    .domid = domid,
	    .flags = writable ? GNTALLOC_FLAG_WRITABLE : 0,
	    .count = 1,
	};

	if (ioctl(gnt_fd, IOCTL_GNTALLOC_ALLOC_GREF, &a) < 0)
		return -errno;
	g->p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, gnt_fd,
		    (off_t)a.index);
	if (g->p == MAP_FAILED)
		return -errno;
	g->ref = a.gref_ids[0];
	g->index = a.index;
	return 0;
}

/* Ends the grant: the ref no longer names a page of ours. */
static int gfree(struct gpage *g)
{
	struct ioctl_gntalloc_dealloc_gref d = {.index = g->index, .count = 1};

	munmap(g->p, PAGE);
	g->p = NULL;
	return ioctl(gnt_fd, IOCTL_GNTALLOC_DEALLOC_GREF, &d) < 0 ? -errno : 0;
}

static int events;

/* Takes the pending events off the evtchn device (unmasking them),
 * waiting up to ms for the first. */
static void take_events(int ms)
{
	struct pollfd p = {.fd = evt_fd, .events = POLLIN};
	uint32_t ports[16];
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return;
	n = read(evt_fd, ports, sizeof(ports));
	if (n <= 0)
		return;
	if (write(evt_fd, ports, (size_t)n) != n)
		perror("nethostile: unmask");
	events += (int)(n / sizeof(uint32_t));
}

/* ---- the device ---- */

static struct {
	unsigned devid;
	char fe[96], be[128];
	struct gpage txp, rxp;
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	uint32_t port;
} dev;

/* tx data pages (granted read-only, as netfront grants them), rx buffers
 * (writable), a page granted to another domain, one revoked (both
 * holding the sentinel). */
static struct gpage dp[NDATA], rxb[NRX], foreign;
static uint32_t revoked_ref;

static void notify(void)
{
	struct ioctl_evtchn_notify n = {.port = dev.port};

	ioctl(evt_fd, IOCTL_EVTCHN_NOTIFY, &n);
}

/* Posts rx buffers: rxb[0] under the revoked grant (the backend must
 * refuse it), the others under their own. */
static void post_rx(void)
{
	for (unsigned i = 0; i < NRX; i++) {
		netif_rx_request_t *r =
		    RING_GET_REQUEST(&dev.rx, dev.rx.req_prod_pvt);

		memset(rxb[i].p, 0, PAGE);
		r->id = (uint16_t)i;
		r->pad = 0;
		r->gref = i == 0 ? revoked_ref : rxb[i].ref;
		dev.rx.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS(&dev.rx);
	notify();
}

/* Connects as netfront does: rings, event channel, request-rx-copy,
 * Connected; waits for the backend's Connected.  Returns its state. */
static int fe_connect(void)
{
	int st;

	memset(dev.txp.p, 0, PAGE);
	memset(dev.rxp.p, 0, PAGE);
	SHARED_RING_INIT((netif_tx_sring_t *)dev.txp.p);
	SHARED_RING_INIT((netif_rx_sring_t *)dev.rxp.p);
	FRONT_RING_INIT(&dev.tx, (netif_tx_sring_t *)dev.txp.p, PAGE);
	FRONT_RING_INIT(&dev.rx, (netif_rx_sring_t *)dev.rxp.p, PAGE);
	xs_writef(dev.fe, "tx-ring-ref", "%u", dev.txp.ref);
	xs_writef(dev.fe, "rx-ring-ref", "%u", dev.rxp.ref);
	xs_writef(dev.fe, "event-channel", "%u", dev.port);
	xs_writef(dev.fe, "request-rx-copy", "1");
	xs_writef(dev.fe, "feature-rx-notify", "1");
	xs_writef(dev.fe, "state", "%d", 4);
	st = wait_state(dev.be, 1u << 4 | 1u << 5 | 1u << 6, 30);
	if (st == 4)
		post_rx();
	return st;
}

/* Closes as netfront does after the backend's Closing, and starts over:
 * returns the backend's state (2 when it waits for us again). */
static int fe_restart(void)
{
	int st;

	xs_writef(dev.fe, "state", "%d", 6);
	st = wait_state(dev.be, 1u << 6, 30);
	if (st != 6)
		return st;
	xs_writef(dev.fe, "state", "%d", 1);
	return wait_state(dev.be, 1u << 2, 30);
}

/* ---- frames and packets ---- */

static void frame(uint8_t *b, size_t n, const uint8_t *dst, const uint8_t *src,
		  const char *tag, unsigned k)
{
	uint8_t h[30];

	memcpy(h, dst, 6);
	memcpy(h + 6, src, 6);
	h[12] = ETH_TYPE >> 8;
	h[13] = ETH_TYPE & 0xFF;
	memset(h + 14, '.', 16);
	memcpy(h + 14, tag, strlen(tag) < 16 ? strlen(tag) : 16);
	for (size_t i = 0; i < n; i++)
		b[i] = i < 30 ? h[i] : (uint8_t)(i * 31 + k * 7);
}

/* One tx ring entry as this program describes it. */
struct slot {
	bool extra;
	struct netif_extra_info x; /* extra */
	uint32_t gref;		   /* data: */
	uint16_t off, flags, size;
	uint16_t id;   /* set by send */
	uint8_t *page; /* where the data goes (NULL: none written) */
};

static struct slot S[300];
static unsigned NS;

static struct slot *data_slot(uint32_t gref, uint8_t *page, uint16_t off,
			      uint16_t size, uint16_t flags)
{
	struct slot *s = &S[NS++];

	memset(s, 0, sizeof(*s));
	s->gref = gref;
	s->page = page;
	s->off = off;
	s->size = size;
	s->flags = flags;
	return s;
}

static struct slot *extra_slot(uint8_t type, uint8_t xflags)
{
	struct slot *s = &S[NS++];

	memset(s, 0, sizeof(*s));
	s->extra = true;
	s->x.type = type;
	s->x.flags = xflags;
	return s;
}

/* Writes frame k (len bytes, tag) over the data slots of S as the
 * protocol lays it: the first slot's size is the total, its own part what
 * the others leave; slots without a page or past their page get none. */
static void lay(const char *tag, unsigned k, size_t len)
{
	static uint8_t buf[70000];
	size_t at, rest = 0, first = 0, n;
	bool seen_first = false;

	if (len > sizeof(buf))
		len = sizeof(buf);
	frame(buf, len, bcast, mac, tag, k);
	for (unsigned i = 0; i < NS; i++) {
		if (S[i].extra)
			continue;
		if (!seen_first) {
			seen_first = true;
			continue;
		}
		rest += S[i].size;
	}
	seen_first = false;
	at = 0;
	for (unsigned i = 0; i < NS; i++) {
		if (S[i].extra)
			continue;
		if (!seen_first) {
			seen_first = true;
			first = S[i].size > rest ? S[i].size - rest : 0;
			n = first;
		} else {
			n = S[i].size;
		}
		if (S[i].page && S[i].off < PAGE && at < len) {
			size_t room = PAGE - S[i].off, m = n;

			if (m > room)
				m = room;
			if (m > len - at)
				m = len - at;
			memcpy(S[i].page + S[i].off, buf + at, m);
		}
		at += n;
	}
}

/* Puts S[0..NS) on the tx ring at the producer, ids assigned; publishes
 * the first `publish` of them (NS when -1) and notifies. */
static void push_slots(int publish)
{
	for (unsigned i = 0; i < NS; i++) {
		netif_tx_request_t *r =
		    RING_GET_REQUEST(&dev.tx, dev.tx.req_prod_pvt + i);

		memset(r, 0, sizeof(*r));
		if (S[i].extra) {
			memcpy(r, &S[i].x, sizeof(S[i].x));
		} else {
			S[i].id = next_id++;
			r->gref = S[i].gref;
			r->offset = S[i].off;
			r->flags = S[i].flags;
			r->id = S[i].id;
			r->size = S[i].size;
		}
	}
	dev.tx.req_prod_pvt += publish < 0 ? NS : (unsigned)publish;
	RING_PUSH_REQUESTS(&dev.tx);
	notify();
}

/* Waits up to ms for one tx response. */
static bool tx_response(netif_tx_response_t *rsp, int ms)
{
	double end = now() + ms / 1000.0;
	int more;

	while (!RING_HAS_UNCONSUMED_RESPONSES(&dev.tx)) {
		if (now() > end)
			return false;
		take_events(50);
	}
	xen_rmb();
	memcpy(rsp, RING_GET_RESPONSE(&dev.tx, dev.tx.rsp_cons), sizeof(*rsp));
	dev.tx.rsp_cons++;
	RING_FINAL_CHECK_FOR_RESPONSES(&dev.tx, more);
	(void)more;
	return true;
}

#define WANT_OK 1
#define WANT_ERR 2 /* NETIF_RSP_ERROR or NETIF_RSP_DROPPED */

/* Collects the responses of S[0..NS) (pushed from `base` on) and checks
 * them: entry i's response is at i (responses land on their requests),
 * data entries echo their id with the status wanted, extras say NULL.
 * Returns true when all is right; why says what was not. */
static bool check_responses(unsigned want, char *why, size_t whysz,
			    int *first_status)
{
	netif_tx_response_t rsp;

	*first_status = 99;
	for (unsigned i = 0; i < NS; i++) {
		if (!tx_response(&rsp, 15000)) {
			snprintf(why, whysz, "%u of %u responses within 15 s",
				 i, NS);
			return false;
		}
		if (i == 0)
			*first_status = rsp.status;
		if (S[i].extra) {
			if (rsp.status != NETIF_RSP_NULL) {
				snprintf(why, whysz,
					 "extra slot %u answered %d, not NULL",
					 i, rsp.status);
				return false;
			}
			continue;
		}
		if (rsp.id != S[i].id) {
			snprintf(why, whysz, "slot %u: response id %u, sent %u",
				 i, rsp.id, S[i].id);
			return false;
		}
		if (want == WANT_OK ? rsp.status != NETIF_RSP_OKAY
				    : rsp.status != NETIF_RSP_ERROR &&
					  rsp.status != NETIF_RSP_DROPPED) {
			snprintf(why, whysz, "slot %u: status %d, wanted %s", i,
				 rsp.status,
				 want == WANT_OK ? "OKAY" : "ERROR/DROPPED");
			return false;
		}
	}
	why[0] = 0;
	return true;
}

/* Sends S as one packet and checks the answers; a good one (frame k of
 * len bytes, already laid) is announced to the host. */
static bool send_case(const char *name, unsigned want, unsigned k, size_t len)
{
	char why[200];
	int st;
	bool ok;

	push_slots(-1);
	ok = check_responses(want, why, sizeof(why), &st);
	if (ok && want == WANT_OK)
		printf("NETH-SENT %u %zu\n", k, len);
	return report(name, st, ok, "%u slots%s%s", NS, why[0] ? ": " : "",
		      why);
}

/* A malformed packet: its data pages hold a "NETH-BAD" frame, so that
 * anything of it reaching the host is seen there. */
static void bad(const char *name, unsigned k, size_t len)
{
	lay("NETH-BAD", k, len);
	send_case(name, WANT_ERR, k, len);
}

static void good(const char *name, unsigned k, size_t len)
{
	char tag[20];

	snprintf(tag, sizeof(tag), "NETH-GOOD-%03u", k);
	lay(tag, k, len);
	send_case(name, WANT_OK, k, len);
}

/* ---- the cases ---- */

static void cases_good(void)
{
	/* One slot, inside a page. */
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 100, 200, 0);
	events = 0;
	good("good-1-slot", 1, 200);
	if (!events)
		take_events(1000);
	report("event-on-response", events, events > 0, "events=%d", events);

	/* Two slots: 3000 bytes, 2096 at the end of one page, 904 at the
	 * start of another. */
	NS = 0;
	data_slot(dp[1].ref, dp[1].p, 2000, 3000, NETTXF_more_data);
	data_slot(dp[2].ref, dp[2].p, 0, 904, 0);
	good("good-2-slots", 2, 3000);

	/* Exactly XEN_NETIF_NR_SLOTS_MIN (18) slots: the limit is allowed. */
	NS = 0;
	for (unsigned j = 0; j < XEN_NETIF_NR_SLOTS_MIN; j++)
		data_slot(
		    dp[3].ref, dp[3].p, (uint16_t)(j * 200), j ? 100 : 1800,
		    j + 1 < XEN_NETIF_NR_SLOTS_MIN ? NETTXF_more_data : 0);
	good("good-18-slots", 3, 1800);

	/* A chain whose end is published a second later: held, then sent. */
	{
		char why[200];
		netif_tx_response_t rsp;
		bool early;
		int st;

		NS = 0;
		data_slot(dp[0].ref, dp[0].p, 0, 1000, NETTXF_more_data);
		data_slot(dp[1].ref, dp[1].p, 0, 400, 0);
		lay("NETH-GOOD-004", 4, 1000);
		push_slots(1);
		early = tx_response(&rsp, 1000);
		dev.tx.req_prod_pvt += NS - 1;
		RING_PUSH_REQUESTS(&dev.tx);
		notify();
		if (early) {
			report("good-chain-ended-late", rsp.status, false,
			       "answered before its end was published");
		} else {
			bool ok =
			    check_responses(WANT_OK, why, sizeof(why), &st);

			if (ok)
				printf("NETH-SENT 4 1000\n");
			report("good-chain-ended-late", st, ok, "%s", why);
		}
	}
}

static void cases_bad(void)
{
	struct netif_extra_info *x;

	/* --- grants --- */
	NS = 0;
	data_slot(BAD_GREF, NULL, 0, 100, 0);
	bad("gref-out-of-range", 10, 100);
	NS = 0;
	data_slot(foreign.ref, NULL, 0, 100, 0);
	bad("gref-granted-to-dom7", 11, 100);
	NS = 0;
	data_slot(revoked_ref, NULL, 0, 100, 0);
	bad("gref-revoked", 12, 100);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 1100, NETTXF_more_data);
	data_slot(BAD_GREF, NULL, 0, 100, 0);
	bad("gref-bad-in-2nd-slot", 13, 1100);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 1100, NETTXF_more_data);
	data_slot(foreign.ref, NULL, 0, 100, 0);
	bad("gref-dom7-in-2nd-slot", 14, 1100);

	/* --- sizes and offsets --- */
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 5000, 0);
	bad("size-over-page", 20, 5000);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 4000, 200, 0);
	bad("offset-plus-size-crosses-page", 21, 200);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 4100, 60, 0);
	bad("offset-beyond-page", 22, 60);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 1000, NETTXF_more_data);
	data_slot(dp[1].ref, dp[1].p, 3000, 2000, 0);
	bad("size-2nd-slot-crosses-page", 23, 1000);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 1000, NETTXF_more_data);
	data_slot(dp[1].ref, dp[1].p, 0, 2000, 0);
	bad("size-fragments-bigger-than-frame", 24, 1000);
	/* 17 slots of 4096: 69632 bytes, whose 16-bit total wrapped to 4096. */
	NS = 0;
	for (unsigned j = 0; j < 17; j++)
		data_slot(dp[j % NDATA].ref, dp[j % NDATA].p, 0, 4096,
			  j < 16 ? NETTXF_more_data : 0);
	bad("size-over-64k", 25, 4096);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 0, 0);
	bad("size-zero", 26, 0);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 10, 0);
	bad("size-runt-10", 27, 10);

	/* --- slot counts --- */
	NS = 0;
	for (unsigned j = 0; j < 19; j++)
		data_slot(dp[j % NDATA].ref, dp[j % NDATA].p,
			  (uint16_t)(j * 200), j ? 100 : 1900,
			  j < 18 ? NETTXF_more_data : 0);
	bad("slots-19", 30, 1900);
	NS = 0;
	for (unsigned j = 0; j < 64; j++)
		data_slot(dp[j % NDATA].ref, dp[j % NDATA].p,
			  (uint16_t)((j / NDATA) * 200), j ? 100 : 6400,
			  j < 63 ? NETTXF_more_data : 0);
	bad("slots-64", 31, 6400);

	/* --- extra info --- */
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 200, NETTXF_extra_info);
	extra_slot(77, 0);
	bad("extra-type-77", 40, 200);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 200, NETTXF_extra_info);
	extra_slot(XEN_NETIF_EXTRA_TYPE_NONE, 0);
	bad("extra-type-none", 41, 200);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 200, NETTXF_extra_info);
	for (unsigned j = 0; j < 6; j++)
		extra_slot(XEN_NETIF_EXTRA_TYPE_HASH,
			   j < 5 ? XEN_NETIF_EXTRA_FLAG_MORE : 0);
	bad("extra-too-many", 42, 200);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 200, NETTXF_extra_info);
	x = &extra_slot(XEN_NETIF_EXTRA_TYPE_GSO, 0)->x;
	x->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	x->u.gso.size = 0;
	bad("extra-gso-size-0", 43, 200);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 200, NETTXF_extra_info);
	x = &extra_slot(XEN_NETIF_EXTRA_TYPE_GSO, 0)->x;
	x->u.gso.type = 9;
	x->u.gso.size = 1400;
	bad("extra-gso-type-9", 44, 200);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 200, NETTXF_extra_info);
	x = &extra_slot(XEN_NETIF_EXTRA_TYPE_GSO, 0)->x;
	x->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	x->u.gso.size = 1400;
	bad("extra-gso-on-non-tcp-frame", 45, 200);
	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 200, NETTXF_csum_blank);
	bad("csum-blank-on-non-ip-frame", 46, 200);

	/* Still serving. */
	NS = 0;
	data_slot(dp[2].ref, dp[2].p, 500, 1500, 0);
	good("good-after-hostile", 5, 1500);
}

/* The two frames the host injects after NETH-RX-POSTED: the first lands
 * in the buffer with the revoked grant (ERROR), the second in the next. */
static void case_rx(void)
{
	netif_rx_response_t rsp[2];
	uint8_t want[150];
	unsigned got = 0;
	double end;
	int more;

	printf("NETH-RX-POSTED\n");
	fflush(stdout);
	end = now() + 60;
	while (got < 2 && now() < end) {
		if (!RING_HAS_UNCONSUMED_RESPONSES(&dev.rx)) {
			take_events(100);
			continue;
		}
		xen_rmb();
		memcpy(&rsp[got++], RING_GET_RESPONSE(&dev.rx, dev.rx.rsp_cons),
		       sizeof(rsp[0]));
		dev.rx.rsp_cons++;
		RING_FINAL_CHECK_FOR_RESPONSES(&dev.rx, more);
		(void)more;
	}
	if (got < 1) {
		report("rx-into-revoked-grant", 99, false,
		       "no rx response within 60 s");
		report("rx-good", 99, false, "no rx response within 60 s");
		return;
	}
	report("rx-into-revoked-grant", rsp[0].status,
	       rsp[0].id == 0 && rsp[0].status == NETIF_RSP_ERROR,
	       "id %u (0 wanted), ERROR wanted", rsp[0].id);
	if (got < 2) {
		report("rx-good", 99, false, "one rx response only");
		return;
	}
	frame(want, sizeof(want), mac,
	      (const uint8_t *)"\xfe\xff\xff\xff\xff\xff", "NETH-RX-202", 202);
	report("rx-good", rsp[1].status,
	       rsp[1].id == 1 && rsp[1].status == 150 && rsp[1].offset == 0 &&
		   !memcmp(rxb[1].p, want, sizeof(want)),
	       "id %u offset %u (1, 0 wanted), 150 bytes wanted, data %s",
	       rsp[1].id, rsp[1].offset,
	       memcmp(rxb[1].p, want, sizeof(want)) ? "differs" : "right");
}

/* A full ring of packets at once, one notification: good ones mixed with
 * three kinds of malformed ones; each answered once, own id and status. */
static void case_burst(void)
{
	unsigned n = 64, base = 100, i;
	unsigned want[64];
	char why[200] = "";
	bool ok = true;
	int st;

	NS = 0;
	for (i = 0; i < n; i++) {
		switch (i % 4) {
		case 0: /* good, 200 bytes, each its own place */
			data_slot(dp[i / 4 % NDATA].ref, dp[i / 4 % NDATA].p,
				  (uint16_t)(i / 4 / NDATA * 256), 200, 0);
			want[i] = WANT_OK;
			break;
		case 1:
			data_slot(BAD_GREF, NULL, 0, 200, 0);
			want[i] = WANT_ERR;
			break;
		case 2:
			data_slot(dp[0].ref, NULL, 0, 0, 0);
			want[i] = WANT_ERR;
			break;
		default:
			data_slot(foreign.ref, NULL, 4000, 200, 0);
			want[i] = WANT_ERR;
			break;
		}
	}
	/* The good frames' bytes, each in its own slot's place. */
	for (i = 0; i < n; i += 4) {
		char tag[20];

		snprintf(tag, sizeof(tag), "NETH-GOOD-%03u", base + i);
		frame(S[i].page + S[i].off, 200, bcast, mac, tag, base + i);
	}
	push_slots(-1);
	for (i = 0; i < n && ok; i++) {
		netif_tx_response_t rsp;

		if (!tx_response(&rsp, 15000)) {
			snprintf(why, sizeof(why), "%u responses only", i);
			ok = false;
		} else if (rsp.id != S[i].id) {
			snprintf(why, sizeof(why), "entry %u: id %u, sent %u",
				 i, rsp.id, S[i].id);
			ok = false;
		} else if (want[i] == WANT_OK ? rsp.status != NETIF_RSP_OKAY
					      : rsp.status >= 0) {
			snprintf(why, sizeof(why), "entry %u: status %d", i,
				 rsp.status);
			ok = false;
		}
	}
	st = (int)i;
	if (ok)
		for (i = 0; i < n; i += 4)
			printf("NETH-SENT %u 200\n", base + i);
	report("burst-64-mixed", st, ok, "%s", why);
}

/* Reconnects after the backend stopped the ring and sends one good frame. */
static void reconnect(const char *name, unsigned k)
{
	int st = fe_restart();

	if (st != 2) {
		report(name, st, false, "backend state %d after restart", st);
		return;
	}
	st = fe_connect();
	if (st != 4) {
		report(name, st, false, "backend state %d (4 wanted)", st);
		return;
	}
	NS = 0;
	data_slot(dp[1].ref, dp[1].p, 64, 300, 0);
	good(name, k, 300);
}

/* A chain that never ends: the whole ring, every entry saying more_data.
 * The backend can never complete it: it must stop the ring (Closing) and
 * answer nothing. */
static void case_endless_chain(void)
{
	netif_tx_response_t rsp;
	unsigned n = RING_SIZE(&dev.tx);
	bool answered;
	int st;

	NS = 0;
	for (unsigned j = 0; j < n; j++)
		data_slot(dp[0].ref, dp[0].p, 0, j ? 10 : 2560,
			  NETTXF_more_data);
	lay("NETH-BAD", 50, 2560);
	push_slots(-1);
	answered = tx_response(&rsp, 2000);
	st = wait_state(dev.be, 1u << 5 | 1u << 6, 15);
	report("chain-never-ends", st, !answered && (st == 5 || st == 6),
	       "%u entries: backend state %d (5 Closing wanted)%s", n, st,
	       answered ? ", but an entry was answered" : "");
	reconnect("good-after-endless-chain", 6);
}

/* Garbage indices: req_prod far ahead of what the ring can hold. */
static void case_garbage(void)
{
	netif_tx_response_t rsp;
	bool answered;
	int st;

	NS = 0;
	data_slot(dp[0].ref, dp[0].p, 0, 200, 0);
	lay("NETH-BAD", 51, 200);
	push_slots(0);
	dev.tx.sring->req_prod = dev.tx.req_prod_pvt + 1000;
	xen_mb();
	notify();
	answered = tx_response(&rsp, 2000);
	st = wait_state(dev.be, 1u << 5 | 1u << 6, 15);
	report("garbage-req-prod-ahead", st, !answered && (st == 5 || st == 6),
	       "req_prod +1000: backend state %d (5 Closing wanted)%s", st,
	       answered ? ", but a request was answered" : "");
	reconnect("good-after-garbage", 7);
}

/* Multi-queue set-ups the backend must refuse (Closing) without mapping
 * anything: more queues than it offers, and queues whose queue-N keys are
 * missing.  The frontend then starts over, as after any refusal. */
static void cases_queues(void)
{
	long long offered = xs_read_num(dev.be, "multi-queue-max-queues", -1);
	int st;

	report("queues-offered", offered, offered >= 1 && offered <= 4,
	       "multi-queue-max-queues %lld (1 to 4 wanted)", offered);
	xs_writef(dev.fe, "multi-queue-num-queues", "%lld", offered + 1);
	st = fe_connect();
	report("queues-more-than-offered", st, st == 5 || st == 6,
	       "%lld queues: backend state %d (5 Closing wanted)", offered + 1,
	       st);
	st = fe_restart();
	if (st != 2) {
		report("queues-restart", st, false, "backend state %d", st);
		return;
	}
	if (offered >= 2) {
		/* Two queues, but the keys are at the top, not in queue-N. */
		xs_writef(dev.fe, "multi-queue-num-queues", "2");
		st = fe_connect();
		report("queues-keys-missing", st, st == 5 || st == 6,
		       "2 queues without queue-0/, queue-1/: backend state %d "
		       "(5 Closing wanted)",
		       st);
		st = fe_restart();
		report("queues-restart", st, st == 2, "backend state %d", st);
	}
	xs_writef(dev.fe, "multi-queue-num-queues", "1");
}

static int parse_mac(const char *s)
{
	unsigned m[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
		   &m[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

int main(int argc, char **argv)
{
	struct ioctl_evtchn_bind_unbound_port ub = {.remote_domain = 0};
	char path[160], val[64];
	struct gpage g;
	int port, st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: nethostile DEVID\n");
		return 2;
	}
	xs_fd = open("/dev/xen/xenbus", O_RDWR);
	gnt_fd = open("/dev/xen/gntalloc", O_RDWR);
	evt_fd = open("/dev/xen/evtchn", O_RDWR);
	if (xs_fd < 0 || gnt_fd < 0 || evt_fd < 0) {
		printf("nethostile: cannot open /dev/xen/%s: %s\n",
		       xs_fd < 0    ? "xenbus"
		       : gnt_fd < 0 ? "gntalloc"
				    : "evtchn",
		       strerror(errno));
		goto fail;
	}
	dev.devid = (unsigned)strtoul(argv[1], NULL, 0);
	snprintf(dev.fe, sizeof(dev.fe), "device/vif/%u", dev.devid);
	snprintf(path, sizeof(path), "%s/backend", dev.fe);
	if (xs_read(path, dev.be, sizeof(dev.be)) < 0) {
		printf("nethostile: no %s\n", path);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/mac", dev.fe);
	if (xs_read(path, val, sizeof(val)) < 0 || parse_mac(val)) {
		printf("nethostile: no MAC in %s\n", path);
		goto fail;
	}
	printf("NETH-MAC %s\n", val);
	if (galloc(0, true, &dev.txp) || galloc(0, true, &dev.rxp) ||
	    galloc(FOREIGN_DOM, false, &foreign))
		goto nogrant;
	for (unsigned i = 0; i < NDATA; i++)
		if (galloc(0, false, &dp[i]))
			goto nogrant;
	for (unsigned i = 0; i < NRX; i++)
		if (galloc(0, true, &rxb[i]))
			goto nogrant;
	for (unsigned i = 0; i < PAGE; i += 16)
		memcpy(foreign.p + i, SENTINEL, 16);
	/* A grant that existed and was ended: its page held the sentinel. */
	if (galloc(0, false, &g))
		goto nogrant;
	for (unsigned i = 0; i < PAGE; i += 16)
		memcpy(g.p + i, SENTINEL, 16);
	revoked_ref = g.ref;
	if (gfree(&g))
		goto nogrant;
	port = ioctl(evt_fd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &ub);
	if (port <= 0) {
		printf("nethostile: event channel: %s\n", strerror(errno));
		goto fail;
	}
	dev.port = (uint32_t)port;
	printf("NETH-GRANTS tx-ring %u rx-ring %u data %u.. foreign(dom%d) %u "
	       "revoked %u port %u\n",
	       dev.txp.ref, dev.rxp.ref, dp[0].ref, FOREIGN_DOM, foreign.ref,
	       revoked_ref, dev.port);

	st = wait_state(dev.be, 1u << 2, 30);
	if (st != 2) {
		report("connect", st, false,
		       "backend state %d, InitWait wanted", st);
		goto done;
	}
	cases_queues();
	st = fe_connect();
	if (!report("connect", st, st == 4, "backend state %d (4 wanted)", st))
		goto done;
	cases_good();
	cases_bad();
	case_rx();
	case_burst();
	case_endless_chain();
	case_garbage();
done:
	printf("NETH-DONE pass=%d fail=%d\n", npass, nfail);
	return nfail ? 1 : 0;

nogrant:
	printf("nethostile: gntalloc: %s\n", strerror(errno));
fail:
	printf("NETH-DONE pass=0 fail=1\n");
	return 1;
}
