/* blkhostile: a hostile xen-blkfront in guest user space.
 *
 * Usage: blkhostile RW_DEVID [RO_DEVID]
 *
 * Drives kxen's block backend (src/backends/vbd.c, blk_ring.c) for devices
 * whose frontend directory exists but which no kernel driver has bound
 * (xen-blkfront not loaded): grants pages to domain 0 through
 * /dev/xen/gntalloc, offers an event channel to domain 0 through
 * /dev/xen/evtchn, speaks xenstore through /dev/xen/xenbus, connects as
 * blkfront does, then sends one request at a time, well-formed and
 * malformed, and checks each response's status and id, and that no byte
 * outside what was granted (or outside the sectors a segment names) was
 * touched.
 *
 * The host fills the disks with a pattern: every 16-byte chunk k of the
 * image (byte offset 16 k) holds printf("%015llx\n", k).  On the
 * read-write disk this program writes sectors 64..79 (16 sectors) with
 * "BLKH-WROTE-PAGE\n" repeated; every other hostile write must leave the
 * disk alone (the host compares the whole image afterwards).
 *
 * Output: "BLKH <case> status=<n> ok|BAD [detail]" per case, then
 * "BLKH-DONE pass=<n> fail=<n>".  Exit status 0 when nothing failed.
 *
 * Built static on the host (the guest image has no Xen headers). */
#define _GNU_SOURCE
#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include <xen/io/blkif.h>
#include <xen/io/xs_wire.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntalloc.h>

#define PAGE 4096u
#define SECT 512u
#define WRITE_SECTOR 64u /* the 16 sectors this program writes, 64..79 */
#define WRITE_NSECT 16u
#define WRITE_TEXT "BLKH-WROTE-PAGE\n" /* 16 bytes */
#define CANARY 0xC5
#define BAD_GREF 0xFFFF0u
#define FOREIGN_DOM 7 /* a domain that is not 0: grants to it are not ours */

static int npass, nfail;
static uint64_t next_id = 0xB10C000000000100ull;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* One result line; returns ok. */
static bool report(const char *name, long status, bool ok, const char *fmt,
		   ...)
{
	char detail[256] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	printf("BLKH %s status=%ld %s%s%s\n", name, status, ok ? "ok" : "BAD",
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
 * payload length, or -1 (XS_ERROR, or the device failed). */
static int xs_call(uint32_t type, const char *a, size_t alen, const char *b,
		   size_t blen, char *out, size_t outsz)
{
	struct xsd_sockmsg h = {.type = type, .req_id = ++xs_reqid,
				.tx_id = 0, .len = (uint32_t)(alen + blen)};
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
	for (;;) {
		if (full_read(xs_fd, &h, sizeof(h)) || h.len >= sizeof(body) ||
		    full_read(xs_fd, body, h.len))
			return -1;
		body[h.len] = 0;
		if (h.type == XS_WATCH_EVENT)
			continue; /* none set, but be safe */
		break;
	}
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

static int xs_write(const char *path, const char *val)
{
	return xs_call(XS_WRITE, path, strlen(path) + 1, val, strlen(val), NULL,
		       0) < 0
		   ? -1
		   : 0;
}

static int xs_writef(const char *dir, const char *key, const char *fmt, ...)
{
	char path[256], val[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_write(path, val);
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

static int events; /* events received on the device's port */

/* Takes the pending events off the evtchn device (unmasking each port),
 * waiting up to ms for the first.  Returns how many were taken. */
static int take_events(int ms)
{
	struct pollfd p = {.fd = evt_fd, .events = POLLIN};
	uint32_t ports[16];
	ssize_t n;
	int got = 0;

	if (poll(&p, 1, ms) != 1)
		return 0;
	n = read(evt_fd, ports, sizeof(ports));
	if (n <= 0)
		return 0;
	got = (int)(n / sizeof(uint32_t));
	if (write(evt_fd, ports, (size_t)n) != n)
		perror("blkhostile: unmask");
	events += got;
	return got;
}

/* ---- the device ---- */

struct dev {
	unsigned devid;
	char fe[96], be[128];
	bool ro;
	struct gpage ring;
	blkif_front_ring_t fr;
	uint32_t port;
	unsigned long long sectors;
	unsigned max_indirect;
};

/* What the pattern holds at byte offset off of the image. */
static uint8_t pattern_byte(uint64_t off)
{
	char s[20];

	snprintf(s, sizeof(s), "%015llx\n", (unsigned long long)(off / 16));
	return (uint8_t)s[off % 16];
}

/* What the read-write disk holds at off once this program has written. */
static uint8_t disk_byte(const struct dev *d, uint64_t off)
{
	if (!d->ro && off >= (uint64_t)WRITE_SECTOR * SECT &&
	    off < (uint64_t)(WRITE_SECTOR + WRITE_NSECT) * SECT)
		return (uint8_t)WRITE_TEXT[off % 16];
	return pattern_byte(off);
}

static bool written; /* the good write happened (disk_byte applies) */

/* Checks that buf[0..len) holds the disk's bytes from sector on; returns
 * the first wrong offset or -1. */
static long check_disk(const struct dev *d, const uint8_t *buf, size_t len,
		       uint64_t sector)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t off = sector * SECT + i;
		uint8_t want = written ? disk_byte(d, off) : pattern_byte(off);

		if (buf[i] != want)
			return (long)i;
	}
	return -1;
}

static bool all_canary(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != CANARY)
			return false;
	return true;
}

/* Connects as blkfront does: ring page, event channel, protocol,
 * Initialised; waits for Connected.  ring_ref overrides the ref written
 * (hostile set-up) when not ~0u.  Returns the backend's state at the end
 * (4 when connected). */
static int fe_connect(struct dev *d, uint32_t ring_ref)
{
	blkif_sring_t *s = (blkif_sring_t *)d->ring.p;
	int st;

	memset(d->ring.p, 0, PAGE);
	SHARED_RING_INIT(s);
	FRONT_RING_INIT(&d->fr, s, PAGE);
	xs_writef(d->fe, "ring-ref", "%u",
		  ring_ref != ~0u ? ring_ref : d->ring.ref);
	xs_writef(d->fe, "event-channel", "%u", d->port);
	xs_writef(d->fe, "protocol", "%s", "x86_64-abi");
	xs_writef(d->fe, "state", "%d", 3);
	st = wait_state(d->be, 1u << 4 | 1u << 5 | 1u << 6, 30);
	if (st == 4) {
		xs_writef(d->fe, "state", "%d", 4);
		d->sectors = (unsigned long long)xs_read_num(d->be, "sectors", 0);
		d->max_indirect = (unsigned)xs_read_num(
		    d->be, "feature-max-indirect-segments", 0);
	}
	return st;
}

/* Closes as blkfront does when the backend is Closing, and starts over
 * (Initialising) so the backend waits for us again.  Returns the backend's
 * state at the end (2 when waiting). */
static int fe_restart(struct dev *d)
{
	int st;

	xs_writef(d->fe, "state", "%d", 6);
	st = wait_state(d->be, 1u << 6, 30);
	if (st != 6)
		return st;
	xs_writef(d->fe, "state", "%d", 1);
	return wait_state(d->be, 1u << 2, 30);
}

static void notify(const struct dev *d)
{
	struct ioctl_evtchn_notify n = {.port = d->port};

	ioctl(evt_fd, IOCTL_EVTCHN_NOTIFY, &n);
}

/* Puts req on the ring and notifies.  The request slot is written whole
 * (112 bytes) from req. */
static void push(struct dev *d, const void *req)
{
	memcpy(RING_GET_REQUEST(&d->fr, d->fr.req_prod_pvt), req,
	       sizeof(blkif_request_t));
	d->fr.req_prod_pvt++;
	RING_PUSH_REQUESTS(&d->fr);
	notify(d);
}

/* Waits up to ms for one response; true and *rsp when one came. */
static bool get_response(struct dev *d, blkif_response_t *rsp, int ms)
{
	double end = now() + ms / 1000.0;
	int more;

	while (!RING_HAS_UNCONSUMED_RESPONSES(&d->fr)) {
		if (now() > end)
			return false;
		take_events(50);
	}
	xen_rmb();
	memcpy(rsp, RING_GET_RESPONSE(&d->fr, d->fr.rsp_cons), sizeof(*rsp));
	d->fr.rsp_cons++;
	RING_FINAL_CHECK_FOR_RESPONSES(&d->fr, more);
	(void)more;
	return true;
}

/* Status a case may get. */
#define WANT_OK (1u << 0)
#define WANT_ERR (1u << 1)
#define WANT_NOTSUP (1u << 2)

static unsigned status_bit(int16_t st)
{
	switch (st) {
	case BLKIF_RSP_OKAY:
		return WANT_OK;
	case BLKIF_RSP_ERROR:
		return WANT_ERR;
	case BLKIF_RSP_EOPNOTSUPP:
		return WANT_NOTSUP;
	default:
		return 1u << 8;
	}
}

/* Sends req (its id set here), waits for the response; checks the id and
 * that the status is in want.  Returns the status (or 99 for no response,
 * 98 for a wrong id) and *ok. */
static int transact(struct dev *d, void *req, unsigned want, bool *ok,
		    char *why, size_t whysz)
{
	blkif_response_t rsp;
	uint64_t id = next_id++;

	((blkif_request_t *)req)->id = id;
	push(d, req);
	if (!get_response(d, &rsp, 15000)) {
		snprintf(why, whysz, "no response within 15 s");
		*ok = false;
		return 99;
	}
	if (rsp.id != id) {
		snprintf(why, whysz, "response id %#" PRIx64 ", sent %#" PRIx64,
			 rsp.id, id);
		*ok = false;
		return 98;
	}
	*ok = (status_bit(rsp.status) & want) != 0;
	if (!*ok)
		snprintf(why, whysz, "expected %s%s%s", want & WANT_OK ? "OKAY " : "",
			 want & WANT_ERR ? "ERROR " : "",
			 want & WANT_NOTSUP ? "EOPNOTSUPP" : "");
	return rsp.status;
}

/* A request with its segments. */
static void rw_req(blkif_request_t *r, const struct dev *d, uint8_t op,
		   uint64_t sector, unsigned nseg)
{
	memset(r, 0, sizeof(*r));
	r->operation = op;
	r->nr_segments = (uint8_t)nseg;
	r->handle = (blkif_vdev_t)d->devid;
	r->sector_number = sector;
}

static void seg(blkif_request_t *r, unsigned i, uint32_t gref, uint8_t first,
		uint8_t last)
{
	r->seg[i].gref = gref;
	r->seg[i].first_sect = first;
	r->seg[i].last_sect = last;
}

/* Data pages: three granted writable, one read-only, one to another
 * domain, one for indirect segment lists (read-only, as blkfront does). */
static struct gpage dp[3], rop, foreign, indp;

static void fill_canary(void)
{
	for (int i = 0; i < 3; i++)
		memset(dp[i].p, CANARY, PAGE);
	memset(rop.p, CANARY, PAGE);
	memset(foreign.p, CANARY, PAGE);
}

/* A hostile request that must fail and leave every data page alone. */
static void hostile(struct dev *d, const char *name, void *req, unsigned want)
{
	char why[160] = "";
	bool ok;
	int st;

	fill_canary();
	st = transact(d, req, want, &ok, why, sizeof(why));
	if (ok && !(all_canary(dp[0].p, PAGE) && all_canary(dp[1].p, PAGE) &&
		    all_canary(dp[2].p, PAGE) && all_canary(rop.p, PAGE) &&
		    all_canary(foreign.p, PAGE))) {
		ok = false;
		snprintf(why, sizeof(why), "a data page was written");
	}
	report(name, st, ok, "%s", why);
}

/* Good read of one full page at sector into dp[0], data checked. */
static bool good_read(struct dev *d, const char *name, uint64_t sector)
{
	blkif_request_t r;
	char why[160] = "";
	bool ok;
	long bad;
	int st;

	fill_canary();
	rw_req(&r, d, BLKIF_OP_READ, sector, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	st = transact(d, &r, WANT_OK, &ok, why, sizeof(why));
	if (ok && (bad = check_disk(d, dp[0].p, PAGE, sector)) >= 0) {
		ok = false;
		snprintf(why, sizeof(why), "data differs at byte %ld", bad);
	}
	return report(name, st, ok, "%s", why);
}

/* ---- the cases ---- */

static void cases_rw(struct dev *d)
{
	blkif_request_t r;
	blkif_request_indirect_t ind;
	blkif_request_discard_t dis;
	union {
		blkif_request_t r;
		blkif_request_indirect_t i;
		blkif_request_discard_t d;
	} u;
	char why[160];
	bool ok;
	int st;
	long bad;
	uint64_t end = d->sectors;

	/* --- well-formed requests: the backend works --- */
	events = 0;
	good_read(d, "good-read", 0);
	/* The response came with an event (allow it a second to arrive). */
	if (!events)
		take_events(1000);
	report("event-on-response", events, events > 0, "events=%d", events);

	/* Three segments, partial pages: only the named sectors change. */
	fill_canary();
	rw_req(&r, d, BLKIF_OP_READ, 1000, 3);
	seg(&r, 0, dp[0].ref, 2, 5); /* sectors 1000..1003 -> dp0 bytes 1024.. */
	seg(&r, 1, dp[1].ref, 0, 7); /* 1004..1011 -> dp1 whole */
	seg(&r, 2, dp[2].ref, 7, 7); /* 1012 -> dp2 last sector */
	why[0] = 0;
	st = transact(d, &r, WANT_OK, &ok, why, sizeof(why));
	if (ok && ((bad = check_disk(d, dp[0].p + 2 * SECT, 4 * SECT, 1000)) >= 0 ||
		   (bad = check_disk(d, dp[1].p, PAGE, 1004)) >= 0 ||
		   (bad = check_disk(d, dp[2].p + 7 * SECT, SECT, 1012)) >= 0)) {
		ok = false;
		snprintf(why, sizeof(why), "data differs (byte %ld)", bad);
	}
	if (ok && !(all_canary(dp[0].p, 2 * SECT) &&
		    all_canary(dp[0].p + 6 * SECT, 2 * SECT) &&
		    all_canary(dp[2].p, 7 * SECT))) {
		ok = false;
		snprintf(why, sizeof(why),
			 "bytes outside the named sectors were written");
	}
	report("good-read-3seg-partial", st, ok, "%s", why);

	/* Write 16 sectors from a writable page and a read-only-granted
	 * page (a disk write only reads guest memory: allowed), read back. */
	for (unsigned i = 0; i < PAGE; i += 16) {
		memcpy(dp[1].p + i, WRITE_TEXT, 16);
		memcpy(rop.p + i, WRITE_TEXT, 16);
	}
	rw_req(&r, d, BLKIF_OP_WRITE, WRITE_SECTOR, 2);
	seg(&r, 0, dp[1].ref, 0, 7);
	seg(&r, 1, rop.ref, 0, 7);
	why[0] = 0;
	st = transact(d, &r, WANT_OK, &ok, why, sizeof(why));
	report("good-write-2seg-one-ro-grant", st, ok, "%s", why);
	written = true;
	fill_canary();
	rw_req(&r, d, BLKIF_OP_READ, WRITE_SECTOR, 2);
	seg(&r, 0, dp[0].ref, 0, 7);
	seg(&r, 1, dp[2].ref, 0, 7);
	why[0] = 0;
	st = transact(d, &r, WANT_OK, &ok, why, sizeof(why));
	if (ok && ((bad = check_disk(d, dp[0].p, PAGE, WRITE_SECTOR)) >= 0 ||
		   (bad = check_disk(d, dp[2].p, PAGE, WRITE_SECTOR + 8)) >= 0)) {
		ok = false;
		snprintf(why, sizeof(why), "read back differs (byte %ld)", bad);
	}
	report("good-read-back", st, ok, "%s", why);

	/* Last page of the disk: allowed. */
	if (end >= 8)
		good_read(d, "good-read-last-page", end - 8);

	/* Indirect: 12 one-sector segments spread over the three pages. */
	if (d->max_indirect >= 12) {
		struct blkif_request_segment *sl = (void *)indp.p;

		fill_canary();
		memset(indp.p, 0, PAGE);
		for (unsigned i = 0; i < 12; i++) {
			sl[i].gref = dp[i % 3].ref;
			sl[i].first_sect = sl[i].last_sect = (uint8_t)(i / 3);
		}
		memset(&u, 0, sizeof(u));
		u.i.operation = BLKIF_OP_INDIRECT;
		u.i.indirect_op = BLKIF_OP_READ;
		u.i.nr_segments = 12;
		u.i.sector_number = 2000;
		u.i.handle = (blkif_vdev_t)d->devid;
		u.i.indirect_grefs[0] = indp.ref;
		why[0] = 0;
		st = transact(d, &u, WANT_OK, &ok, why, sizeof(why));
		for (unsigned i = 0; ok && i < 12; i++)
			if ((bad = check_disk(d, dp[i % 3].p + (i / 3) * SECT,
					      SECT, 2000 + i)) >= 0) {
				ok = false;
				snprintf(why, sizeof(why),
					 "segment %u differs (byte %ld)", i, bad);
			}
		if (ok && !(all_canary(dp[0].p + 4 * SECT, 4 * SECT) &&
			    all_canary(dp[1].p + 4 * SECT, 4 * SECT) &&
			    all_canary(dp[2].p + 4 * SECT, 4 * SECT))) {
			ok = false;
			snprintf(why, sizeof(why),
				 "bytes outside the named sectors were written");
		}
		report("good-read-indirect-12seg", st, ok, "%s", why);
	} else {
		report("good-read-indirect-12seg", -1, false,
		       "feature-max-indirect-segments=%u", d->max_indirect);
	}

	/* --- grants --- */
	/* A disk read into a page granted read-only: the backend would
	 * write guest memory it was only allowed to read. */
	rw_req(&r, d, BLKIF_OP_READ, 0, 1);
	seg(&r, 0, rop.ref, 0, 7);
	hostile(d, "read-into-ro-grant", &r, WANT_ERR);
	/* Same, the read-only page second, after a good segment. */
	rw_req(&r, d, BLKIF_OP_READ, 0, 2);
	seg(&r, 0, dp[0].ref, 0, 7);
	seg(&r, 1, rop.ref, 0, 7);
	hostile(d, "read-into-ro-grant-2nd-seg", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_READ, 0, 1);
	seg(&r, 0, BAD_GREF, 0, 7);
	hostile(d, "read-gref-out-of-range", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_READ, 0, 1);
	seg(&r, 0, 0xFFFFFFFFu, 0, 7);
	hostile(d, "read-gref-ffffffff", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_READ, 0, 1);
	seg(&r, 0, foreign.ref, 0, 7);
	hostile(d, "read-gref-granted-to-dom7", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_WRITE, 300, 1);
	seg(&r, 0, foreign.ref, 0, 7);
	hostile(d, "write-gref-granted-to-dom7", &r, WANT_ERR);
	/* A write whose second segment is bad: nothing of the first may
	 * reach the disk (the host checks the image). */
	rw_req(&r, d, BLKIF_OP_WRITE, 300, 2);
	seg(&r, 0, dp[0].ref, 0, 7);
	seg(&r, 1, BAD_GREF, 0, 7);
	hostile(d, "write-2nd-seg-bad-gref", &r, WANT_ERR);
	{
		/* A grant ended (revoked) before the request: its ref no
		 * longer names our page. */
		struct gpage g;
		int rc = galloc(0, true, &g);

		if (rc == 0) {
			uint32_t ref = g.ref;

			memset(g.p, CANARY, PAGE);
			rc = gfree(&g);
			rw_req(&r, d, BLKIF_OP_READ, 0, 1);
			seg(&r, 0, ref, 0, 7);
			if (rc == 0)
				hostile(d, "read-revoked-gref", &r, WANT_ERR);
			else
				report("read-revoked-gref", -1, false,
				       "dealloc: %s", strerror(-rc));
		} else {
			report("read-revoked-gref", -1, false, "gntalloc: %s",
			       strerror(-rc));
		}
	}

	/* --- segments --- */
	rw_req(&r, d, BLKIF_OP_READ, 0, 0);
	hostile(d, "read-nseg-0", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_READ, 0, 12);
	for (unsigned i = 0; i < 11; i++)
		seg(&r, i, dp[i % 3].ref, 0, 0);
	hostile(d, "read-nseg-12", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_READ, 0, 255);
	for (unsigned i = 0; i < 11; i++)
		seg(&r, i, dp[i % 3].ref, 0, 0);
	hostile(d, "read-nseg-255", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_WRITE, 300, 12);
	for (unsigned i = 0; i < 11; i++)
		seg(&r, i, dp[i % 3].ref, 0, 0);
	hostile(d, "write-nseg-12", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_READ, 0, 1);
	seg(&r, 0, dp[0].ref, 5, 2);
	hostile(d, "read-first-after-last", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_READ, 0, 1);
	seg(&r, 0, dp[0].ref, 0, 8);
	hostile(d, "read-last-sect-8", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_READ, 0, 1);
	seg(&r, 0, dp[0].ref, 200, 255);
	hostile(d, "read-sect-200-255", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_WRITE, 300, 2);
	seg(&r, 0, dp[0].ref, 0, 7);
	seg(&r, 1, dp[1].ref, 3, 1);
	hostile(d, "write-2nd-seg-first-after-last", &r, WANT_ERR);

	/* --- sectors --- */
	rw_req(&r, d, BLKIF_OP_READ, end, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	hostile(d, "read-at-end", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_READ, end - 4, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	hostile(d, "read-straddling-end", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_READ, UINT64_MAX - 3, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	hostile(d, "read-sector-wraps", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_WRITE, end - 4, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	hostile(d, "write-straddling-end", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_WRITE, UINT64_MAX - 3, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	hostile(d, "write-sector-wraps", &r, WANT_ERR);
	memset(&dis, 0, sizeof(dis));
	dis.operation = BLKIF_OP_DISCARD;
	dis.handle = (blkif_vdev_t)d->devid;
	dis.sector_number = end - 8;
	dis.nr_sectors = 16;
	memset(&u, 0, sizeof(u));
	memcpy(&u, &dis, sizeof(dis));
	hostile(d, "discard-straddling-end", &u, WANT_ERR | WANT_NOTSUP);

	/* --- operations --- */
	rw_req(&r, d, 77, 0, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	hostile(d, "unknown-op-77", &r, WANT_ERR | WANT_NOTSUP);
	rw_req(&r, d, BLKIF_OP_RESERVED_1, 0, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	hostile(d, "reserved-op-4", &r, WANT_ERR | WANT_NOTSUP);
	rw_req(&r, d, 255, 0, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	hostile(d, "unknown-op-255", &r, WANT_ERR | WANT_NOTSUP);

	/* --- indirect --- */
	memset(&ind, 0, sizeof(ind));
	ind.operation = BLKIF_OP_INDIRECT;
	ind.indirect_op = BLKIF_OP_READ;
	ind.handle = (blkif_vdev_t)d->devid;
	ind.sector_number = 0;
	ind.indirect_grefs[0] = indp.ref;
	{
		struct blkif_request_segment *sl = (void *)indp.p;

		for (unsigned i = 0; i < PAGE / sizeof(*sl); i++) {
			sl[i].gref = dp[i % 3].ref;
			sl[i].first_sect = sl[i].last_sect = 0;
		}
	}
	static const struct {
		const char *name;
		unsigned nseg;
	} too_many[] = {
	    {"indirect-nseg-0", 0},
	    {"indirect-nseg-above-advertised", 0 /* max + 1 */},
	    {"indirect-nseg-4097", 4097},
	    {"indirect-nseg-65535", 65535},
	};
	for (unsigned k = 0; k < sizeof(too_many) / sizeof(too_many[0]); k++) {
		memset(&u, 0, sizeof(u));
		ind.nr_segments = (uint16_t)(k == 1 ? d->max_indirect + 1
						    : too_many[k].nseg);
		memcpy(&u, &ind, sizeof(ind));
		hostile(d, too_many[k].name, &u, WANT_ERR);
	}
	/* Bad indirect page refs, and a bad ref inside the list. */
	ind.nr_segments = 12;
	ind.indirect_grefs[0] = BAD_GREF;
	memset(&u, 0, sizeof(u));
	memcpy(&u, &ind, sizeof(ind));
	hostile(d, "indirect-page-gref-out-of-range", &u, WANT_ERR);
	ind.indirect_grefs[0] = foreign.ref;
	memset(&u, 0, sizeof(u));
	memcpy(&u, &ind, sizeof(ind));
	hostile(d, "indirect-page-granted-to-dom7", &u, WANT_ERR);
	ind.indirect_grefs[0] = indp.ref;
	((struct blkif_request_segment *)indp.p)[5].gref = BAD_GREF;
	memset(&u, 0, sizeof(u));
	memcpy(&u, &ind, sizeof(ind));
	hostile(d, "indirect-segment-bad-gref", &u, WANT_ERR);
	((struct blkif_request_segment *)indp.p)[5].gref = dp[2].ref;
	((struct blkif_request_segment *)indp.p)[7].first_sect = 6;
	((struct blkif_request_segment *)indp.p)[7].last_sect = 3;
	memset(&u, 0, sizeof(u));
	memcpy(&u, &ind, sizeof(ind));
	hostile(d, "indirect-segment-first-after-last", &u, WANT_ERR);
	((struct blkif_request_segment *)indp.p)[7].first_sect = 0;
	((struct blkif_request_segment *)indp.p)[7].last_sect = 0;
	((struct blkif_request_segment *)indp.p)[3].gref = rop.ref;
	memset(&u, 0, sizeof(u));
	memcpy(&u, &ind, sizeof(ind));
	hostile(d, "indirect-read-into-ro-grant", &u, WANT_ERR);
	((struct blkif_request_segment *)indp.p)[3].gref = dp[0].ref;
	ind.sector_number = end - 4;
	memset(&u, 0, sizeof(u));
	memcpy(&u, &ind, sizeof(ind));
	hostile(d, "indirect-straddling-end", &u, WANT_ERR);
	ind.sector_number = 0;
	ind.indirect_op = 77;
	memset(&u, 0, sizeof(u));
	memcpy(&u, &ind, sizeof(ind));
	hostile(d, "indirect-inner-op-77", &u, WANT_ERR | WANT_NOTSUP);
	ind.indirect_op = BLKIF_OP_INDIRECT;
	memset(&u, 0, sizeof(u));
	memcpy(&u, &ind, sizeof(ind));
	hostile(d, "indirect-inner-op-indirect", &u, WANT_ERR | WANT_NOTSUP);

	/* Still serving after all that. */
	good_read(d, "good-read-after-hostile", 4096);
}

/* A full ring at once (RING_SIZE requests, one notification): good reads
 * mixed with three kinds of hostile request.  Every one must be answered
 * exactly once, with its own id and the right status. */
static void case_burst(struct dev *d)
{
	unsigned n = RING_SIZE(&d->fr), got = 0, wrong = 0;
	uint64_t base = next_id;
	unsigned want[64];
	bool seen[64] = {false};
	blkif_request_t r;
	blkif_response_t rsp;
	char why[160] = "";

	next_id += n;
	for (unsigned i = 0; i < n && i < 64; i++) {
		switch (i % 4) {
		case 0: /* good read, one page */
			rw_req(&r, d, BLKIF_OP_READ, (uint64_t)i * 8, 1);
			seg(&r, 0, dp[i % 3].ref, 0, 7);
			want[i] = WANT_OK;
			break;
		case 1:
			rw_req(&r, d, BLKIF_OP_READ, 0, 0);
			want[i] = WANT_ERR;
			break;
		case 2:
			rw_req(&r, d, BLKIF_OP_READ, 0, 1);
			seg(&r, 0, BAD_GREF, 0, 7);
			want[i] = WANT_ERR;
			break;
		default:
			rw_req(&r, d, 77, 0, 1);
			want[i] = WANT_ERR | WANT_NOTSUP;
			break;
		}
		r.id = base + i;
		memcpy(RING_GET_REQUEST(&d->fr, d->fr.req_prod_pvt + i), &r,
		       sizeof(r));
	}
	d->fr.req_prod_pvt += n;
	RING_PUSH_REQUESTS(&d->fr);
	notify(d);
	while (got < n && get_response(d, &rsp, 15000)) {
		uint64_t i = rsp.id - base;

		got++;
		if (i >= n || seen[i] || !(status_bit(rsp.status) & want[i])) {
			if (!wrong)
				snprintf(why, sizeof(why),
					 "response id %#" PRIx64 " status %d%s",
					 rsp.id, rsp.status,
					 i >= n ? " (not sent)"
					 : seen[i] ? " (twice)"
						   : " (wrong status)");
			wrong++;
			continue;
		}
		seen[i] = true;
	}
	if (got < n && !wrong)
		snprintf(why, sizeof(why), "only %u responses", got);
	report("burst-full-ring-mixed", got, got == n && !wrong,
	       "%u requests, %u responses, %u wrong%s%s", n, got, wrong,
	       why[0] ? ": " : "", why);
}

/* Garbage indices: req_prod set to bad_prod (relative to our producer)
 * with a valid request in the next slot.  The backend must answer
 * nothing, stop the ring and close the device (Closing), and come back for
 * a frontend that starts over. */
static void case_garbage(struct dev *d, const char *name, int32_t bad_prod,
			 const char *again)
{
	blkif_request_t r;
	blkif_response_t rsp;
	char what[96];
	bool answered;
	int st;

	rw_req(&r, d, BLKIF_OP_READ, 0, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	r.id = next_id++;
	memcpy(RING_GET_REQUEST(&d->fr, d->fr.req_prod_pvt), &r, sizeof(r));
	xen_wmb();
	d->fr.sring->req_prod = d->fr.req_prod_pvt + (RING_IDX)bad_prod;
	xen_mb();
	notify(d);
	answered = get_response(d, &rsp, 2000);
	st = wait_state(d->be, 1u << 5 | 1u << 6, 15);
	report(name, st, !answered && (st == 5 || st == 6),
	       "req_prod %+d: backend state %d (5 Closing wanted)%s", bad_prod,
	       st, answered ? ", but a request was answered" : "");
	/* Indices made sane again: the stopped ring still answers nothing. */
	d->fr.req_prod_pvt++;
	d->fr.sring->req_prod = d->fr.req_prod_pvt;
	xen_mb();
	notify(d);
	answered = get_response(d, &rsp, 2000);
	snprintf(what, sizeof(what), "%s-stays-stopped", name);
	report(what, answered ? rsp.status : -1, !answered, "%s",
	       answered ? "the stopped ring answered" : "no response");

	/* Start over, as a rebooted frontend would. */
	st = fe_restart(d);
	if (st != 2) {
		report(again, st, false,
		       "backend state %d after close and re-init (2 wanted)", st);
		return;
	}
	st = fe_connect(d, ~0u);
	if (st != 4) {
		report(again, st, false, "backend state %d (4 Connected wanted)",
		       st);
		return;
	}
	good_read(d, again, 8);
}

static void cases_ro(struct dev *d)
{
	blkif_request_t r;
	blkif_request_indirect_t ind;
	blkif_request_discard_t dis;
	union {
		blkif_request_t r;
		blkif_request_indirect_t i;
		blkif_request_discard_t d;
	} u;
	bool wr = written;

	written = false; /* the read-only disk holds the plain pattern */
	good_read(d, "ro-good-read", 16);
	rw_req(&r, d, BLKIF_OP_WRITE, 0, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	hostile(d, "ro-write", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_WRITE, 0, 1);
	seg(&r, 0, BAD_GREF, 0, 7);
	hostile(d, "ro-write-bad-gref", &r, WANT_ERR);
	rw_req(&r, d, BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
	hostile(d, "ro-flush", &r, WANT_ERR | WANT_NOTSUP);
	rw_req(&r, d, BLKIF_OP_FLUSH_DISKCACHE, 0, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	hostile(d, "ro-flush-with-data", &r, WANT_ERR | WANT_NOTSUP);
	rw_req(&r, d, BLKIF_OP_WRITE_BARRIER, 0, 1);
	seg(&r, 0, dp[0].ref, 0, 7);
	hostile(d, "ro-barrier-with-data", &r, WANT_ERR | WANT_NOTSUP);
	memset(&dis, 0, sizeof(dis));
	dis.operation = BLKIF_OP_DISCARD;
	dis.handle = (blkif_vdev_t)d->devid;
	dis.sector_number = 0;
	dis.nr_sectors = 8;
	memset(&u, 0, sizeof(u));
	memcpy(&u, &dis, sizeof(dis));
	hostile(d, "ro-discard", &u, WANT_ERR | WANT_NOTSUP);
	memset(&ind, 0, sizeof(ind));
	ind.operation = BLKIF_OP_INDIRECT;
	ind.indirect_op = BLKIF_OP_WRITE;
	ind.handle = (blkif_vdev_t)d->devid;
	ind.nr_segments = 12;
	ind.indirect_grefs[0] = indp.ref;
	{
		struct blkif_request_segment *sl = (void *)indp.p;

		memset(indp.p, 0, PAGE);
		for (unsigned i = 0; i < 12; i++) {
			sl[i].gref = dp[i % 3].ref;
			sl[i].first_sect = sl[i].last_sect = 0;
		}
	}
	memset(&u, 0, sizeof(u));
	memcpy(&u, &ind, sizeof(ind));
	hostile(d, "ro-indirect-write", &u, WANT_ERR);
	good_read(d, "ro-good-read-after", 0);
	written = wr;
}

static int dev_open(struct dev *d, unsigned devid, bool ro)
{
	char bepath[160];
	struct ioctl_evtchn_bind_unbound_port ub = {.remote_domain = 0};
	int rc, port;

	memset(d, 0, sizeof(*d));
	d->devid = devid;
	d->ro = ro;
	snprintf(d->fe, sizeof(d->fe), "device/vbd/%u", devid);
	snprintf(bepath, sizeof(bepath), "%s/backend", d->fe);
	if (xs_read(bepath, d->be, sizeof(d->be)) < 0) {
		printf("blkhostile: no %s\n", bepath);
		return -1;
	}
	rc = galloc(0, true, &d->ring);
	if (rc) {
		printf("blkhostile: ring page: %s\n", strerror(-rc));
		return -1;
	}
	port = ioctl(evt_fd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &ub);
	if (port <= 0) {
		printf("blkhostile: event channel: %s\n", strerror(errno));
		return -1;
	}
	d->port = (uint32_t)port;
	printf("BLKH-DEV %u backend %s ring-ref %u port %u\n", devid, d->be,
	       d->ring.ref, d->port);
	return 0;
}

/* Connects d, first (when hostile_first) with a bogus ring-ref to see the
 * backend refuse the connection and recover. */
static bool dev_connect(struct dev *d, bool hostile_first)
{
	int st = wait_state(d->be, 1u << 2, 30);

	if (st != 2) {
		report(d->ro ? "ro-connect" : "connect", st, false,
		       "backend state %d, InitWait (2) wanted", st);
		return false;
	}
	if (hostile_first) {
		st = fe_connect(d, BAD_GREF);
		report("connect-bad-ring-ref", st, st == 5 || st == 6,
		       "backend state %d (5 Closing wanted)", st);
		st = fe_restart(d);
		if (st != 2) {
			report("connect-after-bad-ring-ref", st, false,
			       "backend state %d after restart", st);
			return false;
		}
	}
	st = fe_connect(d, ~0u);
	report(d->ro ? "ro-connect" : "connect", st, st == 4,
	       "backend state %d sectors %llu max-indirect %u", st, d->sectors,
	       d->max_indirect);
	return st == 4 && d->sectors >= 16;
}

int main(int argc, char **argv)
{
	struct dev rw, ro;
	char dom[32];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: blkhostile RW_DEVID [RO_DEVID]\n");
		return 2;
	}
	xs_fd = open("/dev/xen/xenbus", O_RDWR);
	gnt_fd = open("/dev/xen/gntalloc", O_RDWR);
	evt_fd = open("/dev/xen/evtchn", O_RDWR);
	if (xs_fd < 0 || gnt_fd < 0 || evt_fd < 0) {
		printf("blkhostile: cannot open /dev/xen/%s: %s\n",
		       xs_fd < 0 ? "xenbus" : gnt_fd < 0 ? "gntalloc" : "evtchn",
		       strerror(errno));
		printf("BLKH-DONE pass=0 fail=1\n");
		return 1;
	}
	if (xs_read("domid", dom, sizeof(dom)) >= 0)
		printf("BLKH-DOMID %s\n", dom);
	for (int i = 0; i < 3; i++)
		if (galloc(0, true, &dp[i]))
			goto nogrant;
	if (galloc(0, false, &rop) || galloc(0, false, &indp) ||
	    galloc(FOREIGN_DOM, true, &foreign))
		goto nogrant;
	printf("BLKH-GRANTS data %u %u %u ro %u indirect %u foreign(dom%d) %u\n",
	       dp[0].ref, dp[1].ref, dp[2].ref, rop.ref, indp.ref, FOREIGN_DOM,
	       foreign.ref);

	if (dev_open(&rw, (unsigned)strtoul(argv[1], NULL, 0), false) == 0 &&
	    dev_connect(&rw, true)) {
		printf("BLKH-SECTORS %llu\n", rw.sectors);
		cases_rw(&rw);
		case_burst(&rw);
		case_garbage(&rw, "garbage-ring-prod-ahead", 1000,
			     "reconnect-after-garbage");
		case_garbage(&rw, "garbage-ring-prod-behind", -5,
			     "reconnect-after-garbage-behind");
	} else {
		nfail++;
	}
	if (argc == 3) {
		if (dev_open(&ro, (unsigned)strtoul(argv[2], NULL, 0), true) ==
			0 &&
		    dev_connect(&ro, false))
			cases_ro(&ro);
		else
			nfail++;
	}
	printf("BLKH-DONE pass=%d fail=%d\n", npass, nfail);
	return nfail ? 1 : 0;

nogrant:
	printf("blkhostile: gntalloc: %s\n", strerror(errno));
	printf("BLKH-DONE pass=0 fail=1\n");
	return 1;
}
