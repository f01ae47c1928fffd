/* Unit tests for the network backend's ring protocol (backends/net_ring.c),
 * driven by a fake frontend, a fake host side and a fake grant table whose
 * pages the ring can only touch while it holds a map of them: each page
 * sits between two PROT_NONE guard pages and, whenever the ring is called,
 * is itself PROT_NONE unless mapped (PROT_READ while only read-only maps
 * are held), so reading past a granted range, touching a page outside a
 * map, or writing through a read-only map kills the case with SIGSEGV.  Pages
 * start filled with a canary byte, so stray writes show too.  Tables of named
 * cases: configurations, hostile and borderline tx packets, checksum offload
 * headers, corrupted ring indices, grant copies; then the scenarios (data
 * paths each way, GSO, partial chains, batching, wrap-around, notify
 * hold-off, the rate limit). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "backends/net_ring.h"

#ifndef xen_mb
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE NET_PAGE_SIZE
#define HDR NET_VNET_HDR_LEN
#define NONE (-1)
#define CANARY 0xC5

/* ---- fake grant table ----
 * refs 1..40 read-write, 41..47 read-only (as netfront grants tx pages),
 * 48 not granted to us, 49 busy (entry being changed), 50..63 read-write;
 * 0 never granted; 64 and up beyond the table. */
#define NPAGES 64
#define REF_RW(i) ((grant_ref_t)(1 + (i) % 40))
#define REF_RO(i) ((grant_ref_t)(41 + (i) % 7))
#define REF_DENIED 48
#define REF_BUSY 49
#define FAKE_DOMID 9

struct fake_gnt {
	uint8_t *area; /* guard, page 0, guard, page 1, ..., guard */
	uint8_t *page[NPAGES];
	int prot[NPAGES]; /* the page's protection now */
	int maps[NPAGES];
	int wmaps[NPAGES];
	unsigned map_calls, unmap_calls, held;
};

static bool ref_readonly(grant_ref_t ref)
{
	return ref >= 41 && ref <= 47;
}

static bool ref_valid(grant_ref_t ref)
{
	return ref > 0 && ref < NPAGES && ref != REF_DENIED && ref != REF_BUSY;
}

static void gnt_set_prot(struct fake_gnt *g, grant_ref_t ref, int prot)
{
	if (g->prot[ref] != prot) {
		assert_int_equal(mprotect(g->page[ref], PAGE, prot), 0);
		g->prot[ref] = prot;
	}
}

/* The page's protection follows the maps held on it. */
static void gnt_protect(struct fake_gnt *g, grant_ref_t ref)
{
	gnt_set_prot(g, ref,
		     g->wmaps[ref]  ? PROT_READ | PROT_WRITE
		     : g->maps[ref] ? PROT_READ
				    : PROT_NONE);
}

static int fake_map(void *opaque, uint16_t domid, grant_ref_t ref,
		    bool writable, void **page)
{
	struct fake_gnt *g = opaque;

	g->map_calls++;
	assert_int_equal(domid, FAKE_DOMID);
	if (ref >= NPAGES)
		return -EINVAL;
	if (ref == 0 || ref == REF_DENIED)
		return -EPERM;
	if (ref == REF_BUSY)
		return -EBUSY;
	if (writable && ref_readonly(ref))
		return -EPERM;
	g->maps[ref]++;
	if (writable)
		g->wmaps[ref]++;
	g->held++;
	gnt_protect(g, ref);
	*page = g->page[ref];
	return 0;
}

static void fake_unmap(void *opaque, uint16_t domid, grant_ref_t ref,
		       bool writable, void *page)
{
	struct fake_gnt *g = opaque;

	g->unmap_calls++;
	assert_int_equal(domid, FAKE_DOMID);
	assert_true(ref < NPAGES);
	assert_ptr_equal(page, g->page[ref]);
	assert_true(g->maps[ref] > 0);
	g->maps[ref]--;
	if (writable) {
		assert_true(g->wmaps[ref] > 0);
		g->wmaps[ref]--;
	}
	g->held--;
	gnt_protect(g, ref);
}

static const struct net_grant_ops fake_grant_ops = {
    .map = fake_map,
    .unmap = fake_unmap,
};

/* noipa: GCC 12.2 at -O2 dropped every call to gnt_seal's loop (after
 * ivopts rewrote its addressing, the summary its callers saw had no
 * stores), leaving pages open; clang has no such attribute or need. */
#if defined(__GNUC__) && !defined(__clang__)
#define NOIPA __attribute__((noipa))
#else
#define NOIPA
#endif

/* Before every call into the ring: each page back to what the maps held
 * on it allow (none), whatever the test's own accesses opened. */
NOIPA static void gnt_seal(struct fake_gnt *g)
{
	for (grant_ref_t ref = 0; ref < NPAGES; ref++)
		gnt_protect(g, ref);
}

#define GNT_AREA ((2 * NPAGES + 1) * (size_t)PAGE)

static void gnt_init(struct fake_gnt *g)
{
	memset(g, 0, sizeof(*g));
	g->area = mmap(NULL, GNT_AREA, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->area != MAP_FAILED);
	memset(g->area, CANARY, GNT_AREA);
	/* Guards and pages alike unreachable until mapped. */
	assert_int_equal(mprotect(g->area, GNT_AREA, PROT_NONE), 0);
	for (int i = 0; i < NPAGES; i++) {
		g->page[i] = g->area + (2 * i + 1) * (size_t)PAGE;
		g->prot[i] = PROT_NONE;
	}
}

static void gnt_fini(struct fake_gnt *g)
{
	gnt_seal(g);
	for (int i = 0; i < NPAGES; i++) {
		assert_int_equal(g->maps[i], 0);
		assert_int_equal(g->wmaps[i], 0);
		assert_int_equal(g->prot[i], PROT_NONE);
	}
	assert_int_equal(g->held, 0);
	munmap(g->area, GNT_AREA);
}

/* The test's own access to a page (the guest's, in real life); the page
 * stays open until the next gnt_seal(). */
static void page_write(struct fake_gnt *g, grant_ref_t ref, unsigned off,
		       const void *src, size_t len)
{
	assert_true(ref < NPAGES && off + len <= PAGE);
	gnt_set_prot(g, ref, PROT_READ | PROT_WRITE);
	memcpy(g->page[ref] + off, src, len);
}

static void page_read(struct fake_gnt *g, grant_ref_t ref, unsigned off,
		      void *dst, size_t len)
{
	assert_true(ref < NPAGES && off + len <= PAGE);
	gnt_set_prot(g, ref, g->prot[ref] | PROT_READ);
	memcpy(dst, g->page[ref] + off, len);
}

/* Every byte of [off, off + len) of the page is the canary. */
static bool page_canary(struct fake_gnt *g, grant_ref_t ref, unsigned off,
			size_t len)
{
	uint8_t b[PAGE];

	page_read(g, ref, off, b, len);
	for (size_t i = 0; i < len; i++)
		if (b[i] != CANARY)
			return false;
	return true;
}

/* ---- fake host ---- */

#define MAX_PKTS 4096

struct fake_host {
	struct fake_gnt *gnt;
	unsigned delivered;
	uint8_t last[NET_RING_TX_BUF_SIZE];
	size_t last_len;
	uint64_t hash[MAX_PKTS]; /* FNV-1a of each packet, in order */
	int fail;		 /* deliver returns this */
	unsigned mcast_add, mcast_del;
	uint8_t mcast_addr[6];
};

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static int host_deliver(void *opaque, const void *pkt, size_t len)
{
	struct fake_host *h = opaque;

	/* The packet is in the backend's buffer: no grant is held. */
	assert_int_equal(h->gnt->held, 0);
	assert_true(len >= HDR && len <= NET_RING_TX_BUF_SIZE);
	memcpy(h->last, pkt, len);
	h->last_len = len;
	if (h->delivered < MAX_PKTS)
		h->hash[h->delivered] = fnv(pkt, len);
	h->delivered++;
	return h->fail;
}

static void host_mcast(void *opaque, bool add, const uint8_t addr[6])
{
	struct fake_host *h = opaque;

	if (add)
		h->mcast_add++;
	else
		h->mcast_del++;
	memcpy(h->mcast_addr, addr, 6);
}

static const struct net_host_ops host_ops = {
    .deliver = host_deliver,
    .mcast = host_mcast,
};

/* ---- frames ---- */

struct fspec {
	int ip;		 /* 4, 6, or 0 for ARP */
	uint8_t proto;	 /* 6 TCP, 17 UDP, 1 ICMP (IPv4), 58 (IPv6) */
	unsigned vlans;	 /* 802.1Q tags */
	unsigned ihl;	 /* IPv4 header words, 0: 5 */
	unsigned doff;	 /* TCP header words, 0: 5 */
	unsigned v6ext;	 /* IPv6 destination-options headers (8 bytes) */
	bool v6bigext;	 /* one whose length runs past the frame */
	bool frag;	 /* IPv4 fragment / IPv6 fragment header */
	uint8_t version; /* 0: ip */
};

/* clang-format off */
#define UDP4 {.ip = 4, .proto = 17}
#define TCP4 {.ip = 4, .proto = 6}
#define UDP6 {.ip = 6, .proto = 17}
#define TCP6 {.ip = 6, .proto = 6}
/* clang-format on */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Where build_frame put things. */
struct flayout {
	unsigned l3, l4, hlen; /* hlen: headers end */
};

/* Builds a frame of `total` bytes into f (at least 65536 bytes): headers
 * as s says (cut short when total is shorter), then a payload drawn from
 * seq.  The L4 checksum field holds 0x1234. */
static size_t build_frame(uint8_t *f, const struct fspec *s, size_t total,
			  unsigned seq, struct flayout *lo)
{
	unsigned off = 12, l3, i, n;

	memset(f, 0, 256);
	memcpy(f, "\x00\x16\x3e\x00\x00\x01\x00\x16\x3e\x00\x00\x02", 12);
	for (i = 0; i < s->vlans; i++) {
		put16(f + off, 0x8100);
		put16(f + off + 2, 10 + i);
		off += 4;
	}
	put16(f + off, s->ip == 4 ? 0x0800 : s->ip == 6 ? 0x86DD : 0x0806);
	off += 2;
	l3 = off;
	if (s->ip == 4) {
		unsigned ihl = s->ihl ? s->ihl : 5;

		f[off] = (uint8_t)((s->version ? s->version : 4) << 4 | ihl);
		put16(f + off + 2, (unsigned)(total - l3));
		put16(f + off + 4, seq);
		put16(f + off + 6, s->frag ? 0x2000 : 0x4000);
		f[off + 8] = 64;
		f[off + 9] = s->proto;
		memcpy(f + off + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		for (i = 20; i < ihl * 4; i++)
			f[off + i] = 1; /* NOP options */
		off += ihl < 5 ? 20 : ihl * 4;
	} else if (s->ip == 6) {
		uint8_t *nh = f + off + 6;

		f[off] = (uint8_t)((s->version ? s->version : 6) << 4);
		put16(f + off + 4, (unsigned)(total - l3 - 40));
		f[off + 7] = 64;
		memcpy(f + off + 8,
		       "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
		memcpy(f + off + 24,
		       "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
		off += 40;
		for (n = 0; n < s->v6ext + s->v6bigext; n++) {
			*nh = 60;
			nh = f + off;
			f[off + 1] = n < s->v6ext ? 0 : 255;
			f[off + 2] = 1; /* PadN over the rest */
			f[off + 3] = 4;
			off += 8;
		}
		if (s->frag) {
			*nh = 44;
			nh = f + off;
			put16(f + off + 2, 0x0008); /* offset 8 octets */
			off += 8;
		}
		*nh = s->proto;
	} else {
		put16(f + off, 1);	   /* ARP: Ethernet */
		put16(f + off + 2, 0x800); /* IPv4 */
		f[off + 4] = 6;
		f[off + 5] = 4;
		off += 28;
	}
	if (lo) {
		lo->l3 = l3;
		lo->l4 = off;
	}
	if (s->ip && s->proto == 6) {
		unsigned doff = s->doff ? s->doff : 5;

		put16(f + off, 40000);
		put16(f + off + 2, 80);
		f[off + 12] = (uint8_t)(doff << 4);
		f[off + 13] = 0x18;
		put16(f + off + 14, 65535);
		put16(f + off + 16, 0x1234);
		for (i = 20; i < doff * 4 && off + i < 256; i++)
			f[off + i] = 1;
		off += doff < 5 ? 20 : doff * 4;
	} else if (s->ip && s->proto == 17) {
		put16(f + off, 5353);
		put16(f + off + 2, 53);
		put16(f + off + 4, (unsigned)(total > off ? total - off : 0));
		put16(f + off + 6, 0x1234);
		off += 8;
	} else if (s->ip) {
		f[off] = 8; /* echo request */
		off += 8;
	}
	if (lo)
		lo->hlen = off;
	for (size_t k = off; k < total; k++)
		f[k] = (uint8_t)(k * 7 + seq);
	return total;
}

/* ---- test context: frontend + queue ---- */

struct opts {
	bool sg, gso4, gso6, no_csum, no_mcast;
	unsigned batch;
	uint64_t rate_bytes, rate_usec;
};

/* What the fake frontend queued on the tx ring and not yet checked. */
struct queued {
	uint16_t id;
	bool extra;
};

struct t {
	struct fake_gnt gnt;
	struct fake_host host;
	struct net_host_ops hops;
	struct netif_tx_sring *txs;
	struct netif_rx_sring *rxs;
	netif_tx_front_ring_t txf;
	netif_rx_front_ring_t rxf;
	struct net_ring *q;
	struct net_credit credit;
	uint8_t *buf;
	uint32_t devid;
	struct queued queued[4096];
	unsigned nqueued, nchecked;
};

static uint32_t next_devid = 100;
static uint8_t frame_buf[70000], frame_buf2[70000];

static void t_open(struct t *t, const struct opts *o)
{
	struct net_ring_config cfg;

	memset(t, 0, sizeof(*t));
	gnt_init(&t->gnt);
	t->host.gnt = &t->gnt;
	t->hops = host_ops;
	if (o->no_mcast)
		t->hops.mcast = NULL;
	t->txs = aligned_alloc(PAGE, PAGE);
	t->rxs = aligned_alloc(PAGE, PAGE);
	t->buf = malloc(NET_RING_TX_BUF_SIZE);
	assert_non_null(t->txs);
	assert_non_null(t->rxs);
	assert_non_null(t->buf);
	memset(t->txs, 0xCC, PAGE);
	memset(t->rxs, 0xCC, PAGE);
	SHARED_RING_INIT(t->txs);
	SHARED_RING_INIT(t->rxs);
	FRONT_RING_INIT(&t->txf, t->txs, PAGE);
	FRONT_RING_INIT(&t->rxf, t->rxs, PAGE);
	t->devid = next_devid++;

	memset(&cfg, 0, sizeof(cfg));
	cfg.tx_sring = t->txs;
	cfg.rx_sring = t->rxs;
	cfg.domid = FAKE_DOMID;
	cfg.devid = t->devid;
	cfg.queue = 1;
	cfg.rx_sg = o->sg;
	cfg.rx_gso_tcpv4 = o->gso4;
	cfg.rx_gso_tcpv6 = o->gso6;
	cfg.rx_no_csum = o->no_csum;
	cfg.batch = o->batch;
	if (o->rate_bytes) {
		assert_int_equal(
		    net_credit_init(&t->credit, o->rate_bytes, o->rate_usec, 0),
		    0);
		cfg.credit = &t->credit;
	}
	cfg.tx_buf = t->buf;
	cfg.tx_buf_size = NET_RING_TX_BUF_SIZE;
	cfg.grant = &fake_grant_ops;
	cfg.grant_opaque = &t->gnt;
	cfg.host = &t->hops;
	cfg.host_opaque = &t->host;
	assert_int_equal(net_ring_create(&cfg, &t->q), 0);
	assert_int_equal(net_ring_tx_size(t->q), 256);
	assert_int_equal(net_ring_rx_size(t->q), 256);
}

static void t_close(struct t *t)
{
	net_ring_destroy(t->q);
	gnt_fini(&t->gnt);
	free(t->txs);
	free(t->rxs);
	free(t->buf);
}

static void stats(struct t *t, struct net_ring_stats *st)
{
	net_ring_get_stats(t->q, st);
}

/* ---- stderr capture: how many log lines a call printed ---- */

static FILE *cap_file;
static int cap_saved;

static void cap_begin(void)
{
	cap_file = tmpfile();
	assert_non_null(cap_file);
	fflush(stderr);
	cap_saved = dup(2);
	assert_true(cap_saved >= 0);
	assert_true(dup2(fileno(cap_file), 2) >= 0);
}

static unsigned cap_end(void)
{
	unsigned lines = 0;
	int c;

	fflush(stderr);
	assert_true(dup2(cap_saved, 2) >= 0);
	close(cap_saved);
	rewind(cap_file);
	while ((c = fgetc(cap_file)) != EOF)
		if (c == '\n')
			lines++;
	fclose(cap_file);
	return lines;
}

/* ---- tx frontend ---- */

static void tx_req(struct t *t, grant_ref_t ref, unsigned off, uint16_t flags,
		   uint16_t id, unsigned size)
{
	struct netif_tx_request *r =
	    RING_GET_REQUEST(&t->txf, t->txf.req_prod_pvt);

	memset(r, 0, sizeof(*r));
	r->gref = ref;
	r->offset = (uint16_t)off;
	r->flags = flags;
	r->id = id;
	r->size = (uint16_t)size;
	t->txf.req_prod_pvt++;
	assert_true(t->nqueued < ARRAY_SIZE(t->queued));
	t->queued[t->nqueued].id = id;
	t->queued[t->nqueued].extra = false;
	t->nqueued++;
}

static void tx_xtra(struct t *t, const struct netif_extra_info *x)
{
	union netif_tx_sring_entry *e =
	    (union netif_tx_sring_entry *)RING_GET_REQUEST(&t->txf,
							   t->txf.req_prod_pvt);

	memset(e, 0xAB, sizeof(*e));
	memcpy(e, x, sizeof(*x));
	t->txf.req_prod_pvt++;
	t->queued[t->nqueued].id = 0;
	t->queued[t->nqueued].extra = true;
	t->nqueued++;
}

static void tx_push(struct t *t)
{
	RING_PUSH_REQUESTS(&t->txf);
}

static struct netif_extra_info gso_x(uint8_t type, uint16_t size)
{
	struct netif_extra_info x;

	memset(&x, 0, sizeof(x));
	x.type = XEN_NETIF_EXTRA_TYPE_GSO;
	x.u.gso.type = type;
	x.u.gso.size = size;
	return x;
}

static struct netif_extra_info typed_x(uint8_t type)
{
	struct netif_extra_info x;

	memset(&x, 0, sizeof(x));
	x.type = type;
	if (type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD ||
	    type == XEN_NETIF_EXTRA_TYPE_MCAST_DEL)
		memcpy(x.u.mcast.addr, "\x01\x00\x5e\x00\x00\xfb", 6);
	return x;
}

/* One data slot of a packet being laid out. */
struct seg {
	grant_ref_t ref;
	unsigned off, len; /* len: this fragment's bytes */
};

/* Splits len bytes over n slots, as even as can be, on read-write (or
 * read-only) grants, each fragment at offset off. */
static void segs_even(struct seg *s, unsigned n, size_t len, bool ro,
		      unsigned off)
{
	for (unsigned i = 0; i < n; i++) {
		s[i].ref = ro ? REF_RO(i) : REF_RW(i);
		s[i].off = off;
		s[i].len = (unsigned)(len / n + (i < len % n ? 1 : 0));
	}
}

/* Writes the frame into the slots' pages (those of valid grants) and
 * queues the packet: the first request with the total size (size0 unless
 * it is -1), its extras (XEN_NETIF_EXTRA_FLAG_MORE on all but the last),
 * then the other fragments with more_data chained; ids id, id+1, ... */
static void tx_frame(struct t *t, const uint8_t *f, size_t len,
		     const struct seg *s, unsigned n, uint16_t flags,
		     uint16_t id, const struct netif_extra_info *x, unsigned nx,
		     long size0)
{
	size_t at = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (ref_valid(s[i].ref) && s[i].len &&
		    s[i].off + s[i].len <= PAGE && at + s[i].len <= len)
			page_write(&t->gnt, s[i].ref, s[i].off, f + at,
				   s[i].len);
		at += s[i].len;
	}
	tx_req(t, s[0].ref, s[0].off,
	       flags | (nx ? NETTXF_extra_info : 0) |
		   (n > 1 ? NETTXF_more_data : 0),
	       id, size0 >= 0 ? (unsigned)size0 : (unsigned)len);
	for (i = 0; i < nx; i++) {
		struct netif_extra_info e = x[i];

		e.flags = i + 1 < nx ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
		tx_xtra(t, &e);
	}
	for (i = 1; i < n; i++)
		tx_req(t, s[i].ref, s[i].off, i + 1 < n ? NETTXF_more_data : 0,
		       (uint16_t)(id + i), s[i].len);
}

/* A whole frame in one slot on a read-write grant at offset 0. */
static void tx_simple(struct t *t, const uint8_t *f, size_t len,
		      grant_ref_t ref, uint16_t flags, uint16_t id)
{
	struct seg s = {ref, 0, (unsigned)len};

	tx_frame(t, f, len, &s, 1, flags, id, NULL, 0, -1);
}

static bool tx_pop(struct t *t, struct netif_tx_response *rsp)
{
	if (t->txf.rsp_cons == t->txs->rsp_prod)
		return false;
	xen_rmb();
	*rsp = *RING_GET_RESPONSE(&t->txf, t->txf.rsp_cons);
	t->txf.rsp_cons++;
	return true;
}

/* The responses of the next n queued entries: data ones echo their id
 * with `status`, extra ones say NETIF_RSP_NULL. */
static void tx_expect(struct t *t, unsigned n, int16_t status)
{
	struct netif_tx_response rsp;

	for (unsigned i = 0; i < n; i++) {
		const struct queued *e = &t->queued[t->nchecked++];

		assert_true(tx_pop(t, &rsp));
		if (e->extra) {
			assert_int_equal(rsp.status, NETIF_RSP_NULL);
		} else {
			assert_int_equal(rsp.id, e->id);
			assert_int_equal(rsp.status, status);
		}
	}
}

static void tx_expect_all(struct t *t, int16_t status)
{
	tx_expect(t, t->nqueued - t->nchecked, status);
}

static void tx_expect_none(struct t *t)
{
	struct netif_tx_response rsp;

	assert_false(tx_pop(t, &rsp));
}

/* net_ring_tx() at now with stderr captured: its value, flags and the
 * log lines it printed. */
static int tx_logged(struct t *t, uint64_t now, unsigned *flags,
		     uint64_t *retry, unsigned *lines)
{
	int rc;

	gnt_seal(&t->gnt);
	cap_begin();
	rc = net_ring_tx(t->q, now, flags, retry);
	*lines = cap_end();
	return rc;
}

/* net_ring_tx() that must succeed silently; returns the flags. */
static unsigned tx_kick(struct t *t)
{
	unsigned flags, lines;
	uint64_t retry = 0;

	assert_int_equal(tx_logged(t, 0, &flags, &retry, &lines), 0);
	assert_int_equal(lines, 0);
	return flags;
}

/* net_ring_tx() until it has no MORE to say. */
static void tx_drain(struct t *t)
{
	for (int i = 0; i < 100; i++)
		if (!(tx_kick(t) & NET_RING_MORE))
			return;
	fail();
}

/* What a frontend does once it has drained the responses: ask for an
 * event at the next one. */
static void tx_rearm(struct t *t)
{
	int more;

	RING_FINAL_CHECK_FOR_RESPONSES(&t->txf, more);
	assert_false(more);
}

/* The last delivered packet is hdr + frame. */
static void expect_delivered(struct t *t, const uint8_t *frame, size_t len)
{
	assert_int_equal(t->host.last_len, HDR + len);
	assert_memory_equal(t->host.last + HDR, frame, len);
}

static struct virtio_net_hdr last_hdr(struct t *t)
{
	struct virtio_net_hdr h;

	memcpy(&h, t->host.last, sizeof(h));
	return h;
}

/* ---- rx frontend ---- */

static void rx_post(struct t *t, uint16_t id, grant_ref_t ref)
{
	struct netif_rx_request *r =
	    RING_GET_REQUEST(&t->rxf, t->rxf.req_prod_pvt);

	r->id = id;
	r->pad = 0xDEAD;
	r->gref = ref;
	t->rxf.req_prod_pvt++;
	RING_PUSH_REQUESTS(&t->rxf);
}

static bool rx_pop(struct t *t, struct netif_rx_response *rsp)
{
	if (t->rxf.rsp_cons == t->rxs->rsp_prod)
		return false;
	xen_rmb();
	*rsp = *RING_GET_RESPONSE(&t->rxf, t->rxf.rsp_cons);
	t->rxf.rsp_cons++;
	return true;
}

static void rx_expect(struct t *t, uint16_t id, uint16_t flags, int16_t status)
{
	struct netif_rx_response rsp;

	assert_true(rx_pop(t, &rsp));
	assert_int_equal(rsp.id, id);
	assert_int_equal(rsp.offset, 0);
	assert_int_equal(rsp.flags, flags);
	assert_int_equal(rsp.status, status);
}

static void rx_expect_none(struct t *t)
{
	struct netif_rx_response rsp;

	assert_false(rx_pop(t, &rsp));
}

/* A host packet: vnet header + frame, in frame_buf2. */
static size_t host_pkt(const struct virtio_net_hdr *h, const uint8_t *frame,
		       size_t len)
{
	memcpy(frame_buf2, h, HDR);
	memcpy(frame_buf2 + HDR, frame, len);
	return HDR + len;
}

static int rx_logged(struct t *t, const void *pkt, size_t len, unsigned *flags,
		     unsigned *lines)
{
	int rc;

	gnt_seal(&t->gnt);
	cap_begin();
	rc = net_ring_rx(t->q, pkt, len, flags);
	*lines = cap_end();
	return rc;
}

/* net_ring_rx() with the pages sealed, stderr left alone. */
static int rx_call(struct t *t, const void *pkt, size_t len, unsigned *flags)
{
	gnt_seal(&t->gnt);
	return net_ring_rx(t->q, pkt, len, flags);
}

/* ---- checksums, as a receiver checks them ---- */

static uint64_t sum16(const uint8_t *p, size_t n, uint64_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	if (n & 1)
		s += (uint64_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold16(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)s;
}

/* The pseudo-header sum of the frame's IPv4 or IPv6 header for an L4
 * part of l4len bytes of protocol proto. */
static uint16_t pseudo(const uint8_t *f, const struct flayout *lo, bool v6,
		       uint8_t proto, size_t l4len)
{
	uint64_t s;

	if (v6)
		s = sum16(f + lo->l3 + 8, 32, 0);
	else
		s = sum16(f + lo->l3 + 12, 8, 0);
	s += proto + (l4len >> 16) + (l4len & 0xFFFF);
	return fold16(s);
}

/* ==== configurations ==== */

struct create_case {
	const char *name;
	bool no_tx, no_rx, no_grant, no_map, no_unmap, no_host, no_deliver,
	    no_buf;
	size_t buf_size; /* 0: NET_RING_TX_BUF_SIZE */
	int ret;
};

static const struct create_case create_cases[] = {
    {"create_ok", .ret = 0},
    {"create_buffer_larger_ok", .buf_size = 1 << 20},
    {"create_no_tx_ring_einval", .no_tx = true, .ret = -EINVAL},
    {"create_no_rx_ring_einval", .no_rx = true, .ret = -EINVAL},
    {"create_no_grant_ops_einval", .no_grant = true, .ret = -EINVAL},
    {"create_no_map_einval", .no_map = true, .ret = -EINVAL},
    {"create_no_unmap_einval", .no_unmap = true, .ret = -EINVAL},
    {"create_no_host_ops_einval", .no_host = true, .ret = -EINVAL},
    {"create_no_deliver_einval", .no_deliver = true, .ret = -EINVAL},
    {"create_no_buffer_einval", .no_buf = true, .ret = -EINVAL},
    {"create_buffer_one_short_einval", .buf_size = NET_RING_TX_BUF_SIZE - 1,
     .ret = -EINVAL},
};

static void test_create(void **state)
{
	const struct create_case *c = *state;
	struct net_grant_ops gops = fake_grant_ops;
	struct net_host_ops hops = host_ops;
	struct net_ring_config cfg;
	struct fake_gnt gnt;
	struct fake_host host = {0};
	struct net_ring *q = (void *)1;
	size_t bsize = c->buf_size ? c->buf_size : NET_RING_TX_BUF_SIZE;
	void *tx = aligned_alloc(PAGE, PAGE), *rx = aligned_alloc(PAGE, PAGE);
	void *buf = malloc(bsize);
	int rc;

	assert_non_null(tx);
	assert_non_null(rx);
	assert_non_null(buf);
	memset(&gnt, 0, sizeof(gnt));
	SHARED_RING_INIT((struct netif_tx_sring *)tx);
	SHARED_RING_INIT((struct netif_rx_sring *)rx);
	if (c->no_map)
		gops.map = NULL;
	if (c->no_unmap)
		gops.unmap = NULL;
	if (c->no_deliver)
		hops.deliver = NULL;
	memset(&cfg, 0, sizeof(cfg));
	cfg.tx_sring = c->no_tx ? NULL : tx;
	cfg.rx_sring = c->no_rx ? NULL : rx;
	cfg.domid = FAKE_DOMID;
	cfg.grant = c->no_grant ? NULL : &gops;
	cfg.grant_opaque = &gnt;
	cfg.host = c->no_host ? NULL : &hops;
	cfg.host_opaque = &host;
	cfg.tx_buf = c->no_buf ? NULL : buf;
	cfg.tx_buf_size = bsize;
	rc = net_ring_create(&cfg, &q);
	assert_int_equal(rc, c->ret);
	if (rc == 0) {
		struct net_ring_stats st;

		assert_int_equal(net_ring_tx_size(q), 256);
		assert_int_equal(net_ring_rx_size(q), 256);
		assert_int_equal(net_ring_rx_posted(q), 0);
		net_ring_get_stats(q, &st);
		assert_int_equal(st.tx_packets + st.rx_packets, 0);
	} else {
		assert_null(q);
	}
	net_ring_destroy(q);
	free(tx);
	free(rx);
	free(buf);
}

/* ==== hostile and borderline tx packets ==== */

#define FG NET_FAULT_GRANT
#define FSL NET_FAULT_SLOTS
#define FSZ NET_FAULT_SIZE
#define FOF NET_FAULT_OFFSET
#define FEX NET_FAULT_EXTRA
#define FGS NET_FAULT_GSO
#define FCS NET_FAULT_CSUM
#define CB NETTXF_csum_blank
#define DV NETTXF_data_validated
#define XG(t, s)                                                               \
	{                                                                      \
		.type = XEN_NETIF_EXTRA_TYPE_GSO, .u.gso = {(s), (t), 0, 0 }   \
	}
#define XT(t)                                                                  \
	{                                                                      \
		.type = (t)                                                    \
	}
#define XMA                                                                    \
	{                                                                      \
		.type = XEN_NETIF_EXTRA_TYPE_MCAST_ADD, .u.mcast.addr = {      \
			1,                                                     \
			0,                                                     \
			0x5e,                                                  \
			0,                                                     \
			0,                                                     \
			0xfb                                                   \
		}                                                              \
	}
#define XH XT(XEN_NETIF_EXTRA_TYPE_HASH)

struct tx_case {
	const char *name;
	struct fspec fs; /* the frame (zero: ARP) */
	unsigned len;	 /* frame bytes, 0: 200 */
	unsigned nseg;	 /* data slots, 0: 1 */
	bool ro;	 /* read-only grants */
	unsigned off;	 /* every fragment's offset */
	uint16_t flags;	 /* NETTXF_csum_blank, _data_validated */
	struct netif_extra_info x[6];
	unsigned nx;
	/* One slot changed after the layout: */
	unsigned at;
	bool set_ref, set_off, set_size;
	grant_ref_t ref;
	unsigned soff, size;
	int fault;	  /* enum net_ring_fault or NONE (served) */
	bool nomap;	  /* refused before any grant is mapped */
	bool undelivered; /* served without a frame (multicast control) */
};

/* clang-format off */
static const struct tx_case tx_cases[] = {
	/* grants */
	{"grant_ref_64_beyond_table", UDP4, .set_ref = true, .ref = 64,
	 .fault = FG},
	{"grant_ref_0xffffffff", UDP4, .set_ref = true, .ref = 0xFFFFFFFFu,
	 .fault = FG},
	{"grant_ref_0_never_granted", UDP4, .set_ref = true, .ref = 0,
	 .fault = FG},
	{"grant_not_granted_to_us", UDP4, .set_ref = true, .ref = REF_DENIED,
	 .fault = FG},
	{"grant_busy", UDP4, .set_ref = true, .ref = REF_BUSY, .fault = FG},
	{"grant_bad_in_third_slot", UDP4, .len = 3000, .nseg = 3, .at = 2,
	 .set_ref = true, .ref = 1000, .fault = FG},
	{"grant_bad_in_18th_slot", TCP4, .len = 1800, .nseg = 18, .at = 17,
	 .set_ref = true, .ref = 5000, .flags = CB, .fault = FG},
	/* slot counts */
	{"slots_19", UDP4, .len = 1900, .nseg = 19, .fault = FSL,
	 .nomap = true},
	{"slots_64", UDP4, .len = 6400, .nseg = 64, .fault = FSL,
	 .nomap = true},
	{"slots_19_behind_gso_extra", TCP4, .len = 1900, .nseg = 19,
	 .flags = CB, .x = {XG(XEN_NETIF_GSO_TYPE_TCPV4, 1448)}, .nx = 1,
	 .fault = FSL, .nomap = true},
	/* sizes */
	{"size_0", UDP4, .set_size = true, .size = 0, .fault = FSZ,
	 .nomap = true},
	{"size_13_runt", UDP4, .len = 13, .fault = FSZ, .nomap = true},
	{"size_0_with_continuation", UDP4, .len = 400, .nseg = 2,
	 .set_size = true, .size = 0, .fault = FSZ, .nomap = true},
	{"size_total_wrapped_past_64k", UDP4, .len = 16000, .nseg = 4,
	 .set_size = true, .size = 464, /* 65536 + 464, wrapped */
	 .fault = FSZ, .nomap = true},
	{"size_continuation_over_total", UDP4, .len = 300, .nseg = 2, .at = 1,
	 .set_size = true, .size = 4000, .fault = FSZ, .nomap = true},
	/* offsets */
	{"offset_first_crosses_page", UDP4, .set_off = true, .soff = 4000,
	 .fault = FOF, .nomap = true},
	{"offset_first_ends_at_4097", UDP4, .set_off = true, .soff = 3897,
	 .fault = FOF, .nomap = true},
	{"offset_continuation_crosses", UDP4, .len = 400, .nseg = 2, .at = 1,
	 .set_off = true, .soff = 4095, .fault = FOF, .nomap = true},
	{"offset_0xffff", UDP4, .set_off = true, .soff = 0xFFFF, .fault = FOF,
	 .nomap = true},
	{"offset_5000_empty_continuation", UDP4, .len = 200, .nseg = 2,
	 .at = 1, .set_off = true, .soff = 5000, .set_size = true, .size = 0,
	 .fault = FOF, .nomap = true},
	/* extra info */
	{"extra_type_0", UDP4, .x = {XT(0)}, .nx = 1, .fault = FEX,
	 .nomap = true},
	{"extra_type_5", UDP4, .x = {XT(5)}, .nx = 1, .fault = FEX,
	 .nomap = true},
	{"extra_type_255", UDP4, .x = {XT(255)}, .nx = 1, .fault = FEX,
	 .nomap = true},
	{"extra_5_chained", UDP4, .x = {XH, XH, XH, XH, XH}, .nx = 5,
	 .fault = FEX, .nomap = true},
	{"extra_gso_then_type_9", TCP4, .flags = CB,
	 .x = {XG(XEN_NETIF_GSO_TYPE_TCPV4, 1448), XT(9)}, .nx = 2,
	 .fault = FEX, .nomap = true},
	{"extra_mcast_then_unknown", UDP4, .x = {XMA, XT(77)}, .nx = 2,
	 .fault = FEX, .nomap = true},
	/* GSO */
	{"gso_size_0", TCP4, .flags = CB,
	 .x = {XG(XEN_NETIF_GSO_TYPE_TCPV4, 0)}, .nx = 1, .fault = FGS,
	 .nomap = true},
	{"gso_type_none", TCP4, .flags = CB,
	 .x = {XG(XEN_NETIF_GSO_TYPE_NONE, 1448)}, .nx = 1, .fault = FGS,
	 .nomap = true},
	{"gso_type_3", TCP4, .flags = CB, .x = {XG(3, 1448)}, .nx = 1,
	 .fault = FGS, .nomap = true},
	{"gso_tcpv4_on_ipv6", TCP6, .flags = CB,
	 .x = {XG(XEN_NETIF_GSO_TYPE_TCPV4, 1448)}, .nx = 1, .fault = FGS},
	{"gso_tcpv6_on_ipv4", TCP4, .flags = CB,
	 .x = {XG(XEN_NETIF_GSO_TYPE_TCPV6, 1448)}, .nx = 1, .fault = FGS},
	{"gso_tcpv4_on_udp", UDP4, .flags = CB,
	 .x = {XG(XEN_NETIF_GSO_TYPE_TCPV4, 1448)}, .nx = 1, .fault = FGS},
	{"gso_on_arp", {0}, .flags = CB,
	 .x = {XG(XEN_NETIF_GSO_TYPE_TCPV4, 1448)}, .nx = 1, .fault = FGS},
	/* checksum offload on what has no TCP/UDP checksum to offload */
	{"csum_blank_arp", {0}, .flags = CB, .fault = FCS},
	{"csum_blank_icmp", {.ip = 4, .proto = 1}, .flags = CB, .fault = FCS},
	{"csum_blank_icmpv6", {.ip = 6, .proto = 58}, .flags = CB,
	 .fault = FCS},
	{"csum_blank_ipv4_fragment", {.ip = 4, .proto = 17, .frag = true},
	 .flags = CB, .fault = FCS},
	{"csum_blank_ipv6_fragment", {.ip = 6, .proto = 6, .frag = true},
	 .flags = CB, .fault = FCS},
	{"csum_blank_tcp_header_cut", TCP4, .len = 50, .flags = CB,
	 .fault = FCS},
	{"csum_blank_ipv4_ihl_4", {.ip = 4, .proto = 6, .ihl = 4}, .flags = CB,
	 .fault = FCS},
	{"csum_blank_ipv4_ihl_15_past_end", {.ip = 4, .proto = 17, .ihl = 15},
	 .len = 60, .flags = CB, .fault = FCS},
	{"csum_blank_ipv4_version_5", {.ip = 4, .proto = 6, .version = 5},
	 .flags = CB, .fault = FCS},
	{"csum_blank_tcp_doff_4", {.ip = 4, .proto = 6, .doff = 4},
	 .flags = CB, .fault = FCS},
	{"csum_blank_tcp_doff_15_past_end", {.ip = 4, .proto = 6, .doff = 15},
	 .len = 80, .flags = CB, .fault = FCS},
	{"csum_blank_three_vlans", {.ip = 4, .proto = 17, .vlans = 3},
	 .flags = CB, .fault = FCS},
	{"csum_blank_ipv6_9_ext_headers", {.ip = 6, .proto = 17, .v6ext = 9},
	 .flags = CB, .fault = FCS},
	{"csum_blank_ipv6_ext_past_end", {.ip = 6, .proto = 17,
	 .v6bigext = true}, .flags = CB, .fault = FCS},
	/* borderline but valid: served */
	{"ok_one_slot", UDP4, .fault = NONE},
	{"ok_three_readonly_slots", UDP4, .len = 5000, .nseg = 3, .ro = true,
	 .fault = NONE},
	{"ok_18_slots", UDP4, .len = 18 * 3000, .nseg = 18, .fault = NONE},
	{"ok_min_frame_14", {0}, .len = 14, .fault = NONE},
	{"ok_max_frame_65535", TCP4, .len = 65535, .nseg = 16, .flags = CB,
	 .x = {XG(XEN_NETIF_GSO_TYPE_TCPV4, 1448)}, .nx = 1, .fault = NONE},
	{"ok_slot_ends_at_page_end", UDP4, .off = 3896, .fault = NONE},
	{"ok_empty_continuation_bad_grant_unread", UDP4, .len = 200, .nseg = 2,
	 .at = 1, .set_size = true, .size = 0, .set_ref = true, .ref = 1000,
	 .fault = NONE},
	{"ok_hash_extra_ignored", UDP4, .x = {XH}, .nx = 1, .fault = NONE},
	{"ok_gso_and_hash_extras", TCP4, .len = 3000, .nseg = 2, .flags = CB,
	 .x = {XH, XG(XEN_NETIF_GSO_TYPE_TCPV4, 1000)}, .nx = 2,
	 .fault = NONE},
	{"ok_4_extras", TCP4, .flags = CB,
	 .x = {XH, XH, XG(XEN_NETIF_GSO_TYPE_TCPV4, 100), XH}, .nx = 4,
	 .fault = NONE},
	{"ok_mcast_add_not_delivered", UDP4, .x = {XMA}, .nx = 1,
	 .fault = NONE, .undelivered = true},
	{"ok_data_validated", UDP4, .flags = DV, .fault = NONE},
	{"ok_csum_blank_qinq_ipv6_udp", {.ip = 6, .proto = 17, .vlans = 2},
	 .flags = CB, .fault = NONE},
	{"ok_csum_blank_ipv6_8_ext_headers", {.ip = 6, .proto = 17,
	 .v6ext = 8}, .flags = CB, .fault = NONE},
};
/* clang-format on */

/* Lays out and queues one packet of case c with ids from id; the frame
 * goes to frame_buf. */
static size_t build_case(struct t *t, const struct tx_case *c, uint16_t id)
{
	size_t len = c->len ? c->len : 200;
	unsigned n = c->nseg ? c->nseg : 1;
	struct seg s[64];
	long size0 = -1;

	assert_true(n <= ARRAY_SIZE(s));
	build_frame(frame_buf, &c->fs, len, id, NULL);
	segs_even(s, n, len, c->ro, c->off);
	if (c->set_ref)
		s[c->at].ref = c->ref;
	if (c->set_off)
		s[c->at].off = c->soff;
	if (c->set_size) {
		if (c->at == 0) {
			size0 = c->size;
		} else {
			/* The first fragment takes what this one gives up,
			 * so the frame is still whole. */
			s[0].len += s[c->at].len;
			s[c->at].len = c->size;
			if (s[0].len + c->size > len)
				s[0].len = 0; /* inconsistent anyway */
		}
	}
	tx_frame(t, frame_buf, len, s, n, c->flags, id, c->x, c->nx, size0);
	return len;
}

/* The packet three times: every entry answered (ERROR or OKAY on data
 * slots, NULL on extras), the fault counted three times and logged once,
 * nothing delivered unless valid, no grant mapped when the checks come
 * first; then the ring still serves a plain packet. */
static void test_tx_case(void **state)
{
	const struct tx_case *c = *state;
	struct net_ring_stats st;
	struct opts o = {0};
	unsigned flags, lines, k, served;
	uint64_t retry = 0;
	size_t len = 0;
	struct t t;

	t_open(&t, &o);
	for (k = 0; k < 3; k++)
		len = build_case(&t, c, (uint16_t)(0x100 * (k + 1)));
	tx_push(&t);
	assert_int_equal(tx_logged(&t, 0, &flags, &retry, &lines), 0);
	assert_int_equal(lines, c->fault == NONE ? 0 : 1);
	assert_true(flags & NET_RING_NOTIFY);
	assert_false(flags & (NET_RING_MORE | NET_RING_CREDIT));
	tx_expect_all(&t, c->fault == NONE ? NETIF_RSP_OKAY : NETIF_RSP_ERROR);
	tx_expect_none(&t);

	stats(&t, &st);
	for (int f = 0; f < NET_FAULT_NR; f++)
		assert_int_equal(st.faults[f], f == c->fault ? 3 : 0);
	assert_int_equal(st.tx_dropped, c->fault == NONE ? 0 : 3);
	assert_int_equal(st.tx_slots, t.nqueued);
	served = c->fault == NONE && !c->undelivered ? 3 : 0;
	assert_int_equal(t.host.delivered, served);
	assert_int_equal(st.tx_packets, served);
	assert_int_equal(st.tx_bytes, served * len);
	assert_int_equal(st.tx_mcast, c->undelivered ? 3 : 0);
	if (served)
		expect_delivered(&t, frame_buf, len);
	if (c->nomap || c->undelivered)
		assert_int_equal(t.gnt.map_calls, 0);
	assert_int_equal(t.gnt.held, 0);

	/* The ring still works after the bad packets. */
	{
		struct fspec fs = UDP4;

		build_frame(frame_buf, &fs, 100, 9, NULL);
		tx_simple(&t, frame_buf, 100, REF_RW(3), 0, 0x77);
		tx_push(&t);
		tx_kick(&t);
		tx_expect_all(&t, NETIF_RSP_OKAY);
		expect_delivered(&t, frame_buf, 100);
	}
	t_close(&t);
}

/* ==== checksum offload and GSO: the virtio_net_hdr ==== */

struct hdr_case {
	const char *name;
	struct fspec fs;
	unsigned len, nseg;
	uint16_t flags;
	uint8_t gso; /* XEN_NETIF_GSO_TYPE_* */
	uint16_t mss;
	/* expected */
	uint8_t vflags, vgso;
	uint16_t start, offset, hdr_len;
};

/* clang-format off */
static const struct hdr_case hdr_cases[] = {
	{"hdr_plain_no_flags", UDP4, 300, 1, 0, 0, 0, 0, 0, 0, 0, 0},
	{"hdr_data_validated", UDP4, 300, 1, DV, 0, 0,
	 VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0, 0},
	{"hdr_csum_ipv4_tcp", TCP4, 1514, 1, CB, 0, 0,
	 VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 34, 16, 54},
	{"hdr_csum_and_validated_ipv4_tcp", TCP4, 1514, 1, CB | DV, 0, 0,
	 VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 34, 16, 54},
	{"hdr_csum_ipv4_udp", UDP4, 600, 1, CB, 0, 0,
	 VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 34, 6, 42},
	{"hdr_csum_ipv4_options_tcp", {.ip = 4, .proto = 6, .ihl = 7}, 600, 1,
	 CB, 0, 0, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 42, 16, 62},
	{"hdr_csum_ipv4_tcp_options", {.ip = 4, .proto = 6, .doff = 8}, 600, 1,
	 CB, 0, 0, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 34, 16, 66},
	{"hdr_csum_ipv6_udp", UDP6, 1200, 1, CB, 0, 0,
	 VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 54, 6, 62},
	{"hdr_csum_ipv6_tcp", TCP6, 1200, 2, CB, 0, 0,
	 VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 54, 16, 74},
	{"hdr_csum_ipv6_ext_udp", {.ip = 6, .proto = 17, .v6ext = 2}, 700, 1,
	 CB, 0, 0, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 70, 6, 78},
	{"hdr_csum_vlan_ipv4_tcp", {.ip = 4, .proto = 6, .vlans = 1}, 800, 1,
	 CB, 0, 0, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 38, 16, 58},
	{"hdr_gso_tcpv4", TCP4, 9000, 3, CB | DV, XEN_NETIF_GSO_TYPE_TCPV4,
	 1448, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 34, 16,
	 54},
	{"hdr_gso_tcpv6", TCP6, 20000, 5, CB, XEN_NETIF_GSO_TYPE_TCPV6, 1428,
	 VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 54, 16, 74},
	{"hdr_gso_tcpv4_vlan", {.ip = 4, .proto = 6, .vlans = 1}, 4000, 1, CB,
	 XEN_NETIF_GSO_TYPE_TCPV4, 536, VIRTIO_NET_HDR_F_NEEDS_CSUM,
	 VIRTIO_NET_HDR_GSO_TCPV4, 38, 16, 58},
};
/* clang-format on */

static void test_hdr_case(void **state)
{
	const struct hdr_case *c = *state;
	struct netif_extra_info x = gso_x(c->gso, c->mss);
	struct virtio_net_hdr h;
	struct opts o = {0};
	struct seg s[8];
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &c->fs, c->len, 5, NULL);
	segs_even(s, c->nseg, c->len, true, 0);
	tx_frame(&t, frame_buf, c->len, s, c->nseg, c->flags, 10, &x,
		 c->gso ? 1 : 0, -1);
	tx_push(&t);
	assert_int_equal(tx_kick(&t), NET_RING_NOTIFY);
	tx_expect_all(&t, NETIF_RSP_OKAY);
	assert_int_equal(t.host.delivered, 1);
	/* The frontend's checksum field (its pseudo-header sum) is left as
	 * it was: the frame arrives byte for byte. */
	expect_delivered(&t, frame_buf, c->len);
	h = last_hdr(&t);
	assert_int_equal(h.flags, c->vflags);
	assert_int_equal(h.gso_type, c->vgso);
	assert_int_equal(h.gso_size, c->vgso ? c->mss : 0);
	assert_int_equal(h.csum_start, c->start);
	assert_int_equal(h.csum_offset, c->offset);
	assert_int_equal(h.hdr_len, c->hdr_len);
	t_close(&t);
}

/* ==== corrupted ring indices ==== */

struct ring_case {
	const char *name;
	bool rx;	 /* the rx ring's producer, else the tx ring's */
	unsigned served; /* valid packets (or rx buffers) first */
	int64_t prod;	 /* req_prod written, relative to served */
	bool absolute;	 /* prod is an absolute value */
	bool chain;	 /* tx: every entry says more_data */
	bool broken;
};

/* clang-format off */
static const struct ring_case ring_cases[] = {
	{"tx_prod_one_past_ring",      false, 0, 257, false, false, true},
	{"tx_prod_far_ahead",          false, 0, 100000, false, false, true},
	{"tx_prod_2_pow_31",           false, 0, 0x80000000ll, true, false,
	 true},
	{"tx_prod_behind_consumer",    false, 5, -2, false, false, true},
	{"tx_prod_exactly_ring_ok",    false, 0, 256, false, false, false},
	{"tx_prod_ring_after_wrap_ok", false, 300, 256, false, false, false},
	{"tx_chain_fills_ring",        false, 0, 256, false, true, true},
	{"tx_chain_fills_ring_after_5", false, 5, 256, false, true, true},
	{"rx_prod_one_past_ring",      true, 0, 257, false, false, true},
	{"rx_prod_behind_consumer",    true, 3, -1, false, false, true},
	{"rx_prod_0xffffffff",         true, 0, 0xFFFFFFFFll, true, false,
	 true},
	{"rx_prod_exactly_ring_ok",    true, 0, 256, false, false, false},
};
/* clang-format on */

static void test_ring_indices(void **state)
{
	const struct ring_case *c = *state;
	struct fspec fs = UDP4;
	struct virtio_net_hdr vh = {0};
	struct net_ring_stats st;
	struct opts o = {0};
	unsigned flags, lines, i;
	uint64_t retry = 0;
	RING_IDX prod;
	size_t n;
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 64, 1, NULL);
	n = host_pkt(&vh, frame_buf, 64);
	/* Valid traffic first, so that the consumer is not at 0. */
	for (i = 0; i < c->served; i++) {
		if (c->rx) {
			rx_post(&t, (uint16_t)i, REF_RW(i));
			assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
			assert_true(rx_pop(&t, &(struct netif_rx_response){0}));
		} else {
			tx_simple(&t, frame_buf, 64, REF_RW(i), 0, (uint16_t)i);
			tx_push(&t);
			tx_kick(&t);
			tx_expect_all(&t, NETIF_RSP_OKAY);
		}
	}
	/* Entries past the valid ones hold valid requests too, so that only
	 * the index (or the endless chain) can be at fault. */
	for (i = 0; i < 256; i++) {
		RING_IDX at = c->served + i;

		if (c->rx) {
			struct netif_rx_request *r =
			    RING_GET_REQUEST(&t.rxf, at);

			r->id = (uint16_t)(0x100 + i);
			r->gref = REF_RW(i);
		} else {
			struct netif_tx_request *r =
			    RING_GET_REQUEST(&t.txf, at);

			page_write(&t.gnt, REF_RW(i), 0, frame_buf, 64);
			r->gref = REF_RW(i);
			r->offset = 0;
			r->flags = c->chain ? NETTXF_more_data : 0;
			r->id = (uint16_t)(0x100 + i);
			r->size = c->chain && i ? 0 : 64;
		}
	}
	prod = c->absolute ? (RING_IDX)c->prod
			   : (RING_IDX)((int64_t)c->served + c->prod);
	if (c->rx)
		t.rxs->req_prod = prod;
	else
		t.txs->req_prod = prod;

	if (!c->broken) {
		if (c->rx) {
			assert_int_equal(net_ring_rx_posted(t.q), 256);
			for (i = 0; i < 256; i++) {
				assert_int_equal(
				    rx_call(&t, frame_buf2, n, &flags), 0);
				rx_expect(&t, (uint16_t)(0x100 + i), 0, 64);
			}
			assert_int_equal(rx_call(&t, frame_buf2, n, &flags),
					 -EAGAIN);
		} else {
			tx_drain(&t);
			assert_int_equal(t.txs->rsp_prod, prod);
			assert_int_equal(t.host.delivered, c->served + 256);
		}
		stats(&t, &st);
		assert_int_equal(st.faults[NET_FAULT_RING], 0);
		t_close(&t);
		return;
	}
	if (c->rx) {
		cap_begin();
		assert_int_equal(rx_call(&t, frame_buf2, n, &flags), -EIO);
		assert_int_equal(cap_end(), 1);
		assert_int_equal(net_ring_rx_posted(t.q), 0);
	} else {
		assert_int_equal(tx_logged(&t, 0, &flags, &retry, &lines),
				 -EIO);
		assert_int_equal(lines, 1);
	}
	/* Stopped for good, both ways, and quiet about it. */
	assert_int_equal(tx_logged(&t, 0, &flags, &retry, &lines), -EIO);
	assert_int_equal(lines, 0);
	assert_int_equal(flags, 0);
	cap_begin();
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), -EIO);
	assert_int_equal(cap_end(), 0);
	stats(&t, &st);
	assert_int_equal(st.faults[NET_FAULT_RING], 1);
	assert_int_equal(t.host.delivered, c->rx ? 0 : c->served);
	assert_int_equal(st.rx_packets, c->rx ? c->served : 0);
	tx_expect_none(&t);
	t_close(&t);
}

/* ==== grant copies ==== */

struct copy_case {
	const char *name;
	grant_ref_t ref;
	unsigned off;
	size_t len;
	bool to_guest;
	int ret;
	bool map_called; /* the grant interface was asked */
};

/* clang-format off */
static const struct copy_case copy_cases[] = {
	{"copy_whole_page_out", 3, 0, 4096, false, 0, true},
	{"copy_whole_page_in", 3, 0, 4096, true, 0, true},
	{"copy_last_byte_in", 3, 4095, 1, true, 0, true},
	{"copy_out_of_readonly_grant", REF_RO(0), 100, 200, false, 0, true},
	{"copy_into_readonly_grant_eperm", REF_RO(0), 100, 200, true, -EPERM,
	 true},
	{"copy_empty_at_end_maps_nothing", 3, 4096, 0, false, 0, false},
	{"copy_empty_bad_ref_maps_nothing", 9999, 0, 0, true, 0, false},
	{"copy_one_past_page_einval", 3, 4000, 97, false, -EINVAL, false},
	{"copy_offset_past_page_einval", 3, 4097, 0, false, -EINVAL, false},
	{"copy_len_huge_einval", 3, 1, (size_t)-1, true, -EINVAL, false},
	{"copy_offset_huge_einval", 3, 0xFFFFFFFFu, 2, false, -EINVAL, false},
	{"copy_ref_beyond_table", 64, 0, 10, false, -EINVAL, true},
	{"copy_ref_denied", REF_DENIED, 0, 10, false, -EPERM, true},
	{"copy_ref_busy", REF_BUSY, 0, 10, true, -EBUSY, true},
};
/* clang-format on */

static void test_copy_case(void **state)
{
	const struct copy_case *c = *state;
	struct fake_gnt g;
	uint8_t buf[PAGE], chk[PAGE];
	size_t n = c->len <= PAGE ? c->len : 0;

	gnt_init(&g);
	for (size_t i = 0; i < PAGE; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	gnt_seal(&g);
	assert_int_equal(net_grant_copy(&fake_grant_ops, &g, FAKE_DOMID, c->ref,
					c->off, buf, c->len, c->to_guest),
			 c->ret);
	assert_int_equal(g.map_calls, c->map_called ? 1 : 0);
	if (c->ret == 0 && n && c->to_guest) {
		page_read(&g, c->ref, c->off, chk, n);
		assert_memory_equal(chk, buf, n);
		/* Only the range changed. */
		assert_true(page_canary(&g, c->ref, 0, c->off));
		assert_true(page_canary(&g, c->ref, c->off + (unsigned)n,
					PAGE - c->off - n));
	} else if (c->ret == 0 && n) {
		for (size_t i = 0; i < n; i++)
			assert_int_equal(buf[i], CANARY);
	}
	if (c->ref < NPAGES && ref_valid(c->ref) &&
	    !(c->ret == 0 && n && c->to_guest))
		assert_true(page_canary(&g, c->ref, 0, PAGE));
	gnt_fini(&g);
}

/* ==== tx scenarios ==== */

static void test_tx_single_slot(void **state)
{
	struct fspec fs = UDP4;
	struct net_ring_stats st;
	struct virtio_net_hdr h;
	struct opts o = {0};
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 60, 3, NULL);
	tx_simple(&t, frame_buf, 60, REF_RO(2), 0, 42);
	tx_push(&t);
	assert_int_equal(tx_kick(&t), NET_RING_NOTIFY);
	tx_expect(&t, 1, NETIF_RSP_OKAY);
	tx_expect_none(&t);
	assert_int_equal(t.host.delivered, 1);
	expect_delivered(&t, frame_buf, 60);
	h = last_hdr(&t);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(h.hdr_len, 0);
	/* Mapped read-only, once, and released. */
	assert_int_equal(t.gnt.map_calls, 1);
	assert_int_equal(t.gnt.wmaps[REF_RO(2)], 0);
	stats(&t, &st);
	assert_int_equal(st.tx_packets, 1);
	assert_int_equal(st.tx_bytes, 60);
	assert_int_equal(st.tx_slots, 1);
	assert_int_equal(st.tx_dropped, 0);
	/* req_event re-armed for the next request. */
	assert_int_equal(t.txs->req_event, 2);
	t_close(&t);
}

/* Three fragments at odd offsets on different pages: the frame is their
 * concatenation, the first fragment's length what the total leaves. */
static void test_tx_multi_slot(void **state)
{
	struct fspec fs = TCP4;
	struct seg s[3] = {{REF_RW(2), 100, 1000},
			   {REF_RO(1), 0, 4096},
			   {REF_RW(6), 2000, 500}};
	struct opts o = {0};
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 5596, 4, NULL);
	tx_frame(&t, frame_buf, 5596, s, 3, 0, 20, NULL, 0, -1);
	tx_push(&t);
	tx_kick(&t);
	tx_expect(&t, 3, NETIF_RSP_OKAY);
	expect_delivered(&t, frame_buf, 5596);
	/* The bytes around each fragment were not part of the frame. */
	assert_true(page_canary(&t.gnt, REF_RW(2), 0, 100));
	assert_true(page_canary(&t.gnt, REF_RW(2), 1100, PAGE - 1100));
	assert_true(page_canary(&t.gnt, REF_RW(6), 2500, PAGE - 2500));
	t_close(&t);
}

/* The worked example of net_ring.c: GSO TCPv4 over three fragments. */
static void test_tx_gso_worked_example(void **state)
{
	struct fspec fs = TCP4;
	struct netif_extra_info x = gso_x(XEN_NETIF_GSO_TYPE_TCPV4, 1448);
	struct seg s[3] = {
	    {REF_RO(0), 0, 1904}, {REF_RO(1), 0, 4096}, {REF_RO(2), 0, 3000}};
	struct virtio_net_hdr h;
	struct netif_tx_response rsp;
	struct opts o = {0};
	struct t t;

	t_open(&t, &o);
	/* From req_cons 10. */
	for (unsigned i = 0; i < 10; i++) {
		build_frame(frame_buf, &fs, 100, i, NULL);
		tx_simple(&t, frame_buf, 100, REF_RW(i), 0, (uint16_t)i);
	}
	tx_push(&t);
	tx_kick(&t);
	tx_expect_all(&t, NETIF_RSP_OKAY);
	build_frame(frame_buf, &fs, 9000, 77, NULL);
	tx_frame(&t, frame_buf, 9000, s, 3, NETTXF_csum_blank, 3, &x, 1, -1);
	/* tx_frame numbers ids id, id+1, ... as in the example (3, 4, 5) */
	tx_push(&t);
	tx_kick(&t);
	assert_int_equal(t.txs->rsp_prod, 14);
	assert_true(tx_pop(&t, &rsp));
	assert_int_equal(rsp.id, 3);
	assert_int_equal(rsp.status, NETIF_RSP_OKAY);
	assert_true(tx_pop(&t, &rsp));
	assert_int_equal(rsp.status, NETIF_RSP_NULL);
	assert_true(tx_pop(&t, &rsp));
	assert_int_equal(rsp.id, 4);
	assert_true(tx_pop(&t, &rsp));
	assert_int_equal(rsp.id, 5);
	tx_expect_none(&t);
	expect_delivered(&t, frame_buf, 9000);
	h = last_hdr(&t);
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(h.gso_size, 1448);
	assert_int_equal(h.csum_start, 34);
	assert_int_equal(h.csum_offset, 16);
	assert_int_equal(h.hdr_len, 54);
	t_close(&t);
}

/* A GSO packet without csum_blank (NetBSD's netfront did that) carries a
 * full checksum: it is replaced by the pseudo-header sum NEEDS_CSUM
 * means, for IPv4 and IPv6. */
static void test_tx_gso_without_csum_blank(void **state)
{
	static const struct fspec specs[2] = {TCP4, TCP6};
	struct opts o = {0};
	struct t t;

	t_open(&t, &o);
	for (int v = 0; v < 2; v++) {
		struct netif_extra_info x = gso_x(v ? XEN_NETIF_GSO_TYPE_TCPV6
						    : XEN_NETIF_GSO_TYPE_TCPV4,
						  1000);
		struct flayout lo;
		struct seg s[2];
		uint16_t want;

		build_frame(frame_buf, &specs[v], 7000, 8, &lo);
		segs_even(s, 2, 7000, false, 0);
		tx_frame(&t, frame_buf, 7000, s, 2, 0, 1, &x, 1, -1);
		tx_push(&t);
		tx_kick(&t);
		tx_expect_all(&t, NETIF_RSP_OKAY);
		want = pseudo(frame_buf, &lo, v, 6, 7000 - lo.l4);
		assert_int_equal(get16(t.host.last + HDR + lo.l4 + 16), want);
		/* Everything else as sent. */
		assert_memory_equal(t.host.last + HDR, frame_buf, lo.l4 + 16);
		assert_memory_equal(t.host.last + HDR + lo.l4 + 18,
				    frame_buf + lo.l4 + 18, 7000 - lo.l4 - 18);
		assert_int_equal(last_hdr(&t).flags,
				 VIRTIO_NET_HDR_F_NEEDS_CSUM);
	}
	t_close(&t);
}

static void test_tx_deliver_fails(void **state)
{
	struct fspec fs = UDP4;
	struct net_ring_stats st;
	struct opts o = {0};
	struct t t;

	t_open(&t, &o);
	t.host.fail = -ENOBUFS;
	build_frame(frame_buf, &fs, 100, 1, NULL);
	tx_simple(&t, frame_buf, 100, REF_RW(0), 0, 1);
	tx_push(&t);
	tx_kick(&t);
	/* The frontend's packet was fine: OKAY, as a NIC that drops. */
	tx_expect_all(&t, NETIF_RSP_OKAY);
	stats(&t, &st);
	assert_int_equal(st.tx_host_errors, 1);
	assert_int_equal(st.tx_packets, 0);
	assert_int_equal(st.tx_dropped, 0);
	t_close(&t);
}

static void test_tx_mcast(void **state)
{
	struct netif_extra_info x[2] = {
	    typed_x(XEN_NETIF_EXTRA_TYPE_MCAST_ADD),
	    typed_x(XEN_NETIF_EXTRA_TYPE_MCAST_DEL)};
	struct seg s = {REF_RW(0), 0, 0};
	struct net_ring_stats st;
	struct opts o = {0};
	struct t t;

	t_open(&t, &o);
	/* Dummy requests: size 0, the extras say it all. */
	tx_frame(&t, frame_buf, 0, &s, 1, 0, 5, &x[0], 1, -1);
	tx_frame(&t, frame_buf, 0, &s, 1, 0, 6, &x[1], 1, -1);
	tx_push(&t);
	tx_kick(&t);
	tx_expect_all(&t, NETIF_RSP_OKAY);
	assert_int_equal(t.host.mcast_add, 1);
	assert_int_equal(t.host.mcast_del, 1);
	assert_memory_equal(t.host.mcast_addr, "\x01\x00\x5e\x00\x00\xfb", 6);
	assert_int_equal(t.host.delivered, 0);
	assert_int_equal(t.gnt.map_calls, 0);
	stats(&t, &st);
	assert_int_equal(st.tx_mcast, 2);
	t_close(&t);

	/* Without a mcast callback they are answered and ignored. */
	o.no_mcast = true;
	t_open(&t, &o);
	tx_frame(&t, frame_buf, 0, &s, 1, 0, 5, &x[0], 1, -1);
	tx_push(&t);
	tx_kick(&t);
	tx_expect_all(&t, NETIF_RSP_OKAY);
	assert_int_equal(t.host.mcast_add, 0);
	t_close(&t);
}

/* A chain whose end is not published yet is left alone, with an event
 * asked for at the next entry; it goes once the rest comes. */
static void test_tx_partial_chain(void **state)
{
	struct fspec fs = UDP4;
	struct seg s[3];
	struct opts o = {0};
	unsigned flags;
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 3000, 2, NULL);
	segs_even(s, 3, 3000, true, 0);
	tx_frame(&t, frame_buf, 3000, s, 3, 0, 1, NULL, 0, -1);
	/* Publish the first two entries only. */
	t.txs->req_prod = 2;
	flags = tx_kick(&t);
	assert_int_equal(flags, 0);
	tx_expect_none(&t);
	assert_int_equal(t.host.delivered, 0);
	assert_int_equal(t.txs->req_event, 3);
	assert_int_equal(t.gnt.map_calls, 0);
	/* Again: still waiting, still quiet. */
	assert_int_equal(tx_kick(&t), 0);
	tx_push(&t);
	assert_int_equal(tx_kick(&t), NET_RING_NOTIFY);
	tx_expect_all(&t, NETIF_RSP_OKAY);
	expect_delivered(&t, frame_buf, 3000);
	t_close(&t);
}

/* An extra-info chain cut short waits too. */
static void test_tx_partial_extras(void **state)
{
	struct fspec fs = TCP4;
	struct netif_extra_info x[2] = {typed_x(XEN_NETIF_EXTRA_TYPE_HASH),
					gso_x(XEN_NETIF_GSO_TYPE_TCPV4, 500)};
	struct seg s;
	struct opts o = {0};
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 2000, 2, NULL);
	segs_even(&s, 1, 2000, false, 0);
	tx_frame(&t, frame_buf, 2000, &s, 1, CB, 1, x, 2, -1);
	t.txs->req_prod = 2; /* the first and the hash extra, MORE set */
	assert_int_equal(tx_kick(&t), 0);
	tx_expect_none(&t);
	assert_int_equal(t.txs->req_event, 3);
	tx_push(&t);
	tx_kick(&t);
	tx_expect_all(&t, NETIF_RSP_OKAY);
	assert_int_equal(last_hdr(&t).gso_size, 500);
	t_close(&t);
}

static void test_tx_batch(void **state)
{
	struct fspec fs = UDP4;
	struct opts o = {.batch = 64};
	struct t t;

	t_open(&t, &o);
	for (unsigned i = 0; i < 100; i++) {
		build_frame(frame_buf, &fs, 80, i, NULL);
		tx_simple(&t, frame_buf, 80, REF_RW(i), 0, (uint16_t)i);
	}
	tx_push(&t);
	assert_int_equal(tx_kick(&t), NET_RING_NOTIFY | NET_RING_MORE);
	assert_int_equal(t.host.delivered, 64);
	tx_expect(&t, 64, NETIF_RSP_OKAY);
	tx_expect_none(&t);
	tx_rearm(&t);
	assert_int_equal(tx_kick(&t), NET_RING_NOTIFY);
	assert_int_equal(t.host.delivered, 100);
	tx_expect_all(&t, NETIF_RSP_OKAY);
	t_close(&t);
}

/* 1000 packets of one to three slots through a 256-entry ring, the
 * frontend refilling as responses come (a dozen packets a round, so that
 * the pages of those in flight are all different): every one delivered,
 * in order. */
static void test_tx_wraparound(void **state)
{
	struct fspec fs = UDP4;
	uint64_t want[1000];
	struct opts o = {0};
	unsigned sent = 0, page = 0;
	struct t t;

	t_open(&t, &o);
	while (sent < 1000) {
		for (unsigned k = 0; k < 12 && sent < 1000; k++) {
			unsigned n = 1 + sent % 3;
			size_t len = 100 + (sent * 37) % 3900;
			struct seg s[3];

			build_frame(frame_buf, &fs, len, sent, NULL);
			segs_even(s, n, len, false, 0);
			for (unsigned i = 0; i < n; i++)
				s[i].ref = REF_RW(page++);
			tx_frame(&t, frame_buf, len, s, n, 0, (uint16_t)sent,
				 NULL, 0, -1);
			{
				uint8_t tmp[HDR + 4200];

				memset(tmp, 0, HDR);
				memcpy(tmp + HDR, frame_buf, len);
				want[sent] = fnv(tmp, HDR + len);
			}
			sent++;
		}
		tx_push(&t);
		tx_drain(&t);
		tx_expect_all(&t, NETIF_RSP_OKAY);
	}
	assert_int_equal(t.host.delivered, 1000);
	for (unsigned i = 0; i < 1000; i++)
		assert_true(t.host.hash[i] == want[i]);
	t_close(&t);
}

/* A frontend that has not asked for an event (rsp_event behind) gets
 * none; after it re-arms, it does. */
static void test_tx_notify_hold_off(void **state)
{
	struct fspec fs = UDP4;
	struct opts o = {0};
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 80, 1, NULL);
	tx_simple(&t, frame_buf, 80, REF_RW(0), 0, 1);
	tx_push(&t);
	assert_int_equal(tx_kick(&t), NET_RING_NOTIFY);
	/* Not re-armed: rsp_event still 1. */
	tx_simple(&t, frame_buf, 80, REF_RW(0), 0, 2);
	tx_push(&t);
	assert_int_equal(tx_kick(&t), 0);
	tx_expect_all(&t, NETIF_RSP_OKAY);
	tx_rearm(&t);
	tx_simple(&t, frame_buf, 80, REF_RW(0), 0, 3);
	tx_push(&t);
	assert_int_equal(tx_kick(&t), NET_RING_NOTIFY);
	/* Nothing new: no push, no event. */
	assert_int_equal(tx_kick(&t), 0);
	tx_expect_all(&t, NETIF_RSP_OKAY);
	t_close(&t);
}

/* A bad packet between two good ones: only its slots say ERROR. */
static void test_tx_bad_between_good(void **state)
{
	struct fspec fs = UDP4;
	struct seg s[2];
	struct opts o = {0};
	unsigned flags, lines;
	uint64_t retry;
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 100, 1, NULL);
	tx_simple(&t, frame_buf, 100, REF_RW(0), 0, 1);
	segs_even(s, 2, 400, false, 0);
	s[1].ref = REF_DENIED;
	tx_frame(&t, frame_buf, 400, s, 2, 0, 2, NULL, 0, -1);
	tx_simple(&t, frame_buf, 100, REF_RW(1), 0, 4);
	tx_push(&t);
	assert_int_equal(tx_logged(&t, 0, &flags, &retry, &lines), 0);
	assert_int_equal(lines, 1);
	tx_expect(&t, 1, NETIF_RSP_OKAY);
	tx_expect(&t, 2, NETIF_RSP_ERROR);
	tx_expect(&t, 1, NETIF_RSP_OKAY);
	assert_int_equal(t.host.delivered, 2);
	t_close(&t);
}

/* ==== rate limit ==== */

static void test_credit(void **state)
{
	struct net_credit c;
	uint64_t at = 0;

	assert_int_equal(net_credit_init(&c, 1000, 0, 0), -EINVAL);
	assert_true(net_credit_take(&c, 1 << 20, 0, &at)); /* no limit */
	assert_int_equal(net_credit_init(&c, 0, 0, 5), 0);
	assert_true(net_credit_take(&c, 65535, 5, &at));

	/* 1000 bytes per 20 ms, starting at 100 µs. */
	assert_int_equal(net_credit_init(&c, 1000, 20000, 100), 0);
	assert_true(net_credit_take(&c, 600, 100, &at));
	assert_false(net_credit_take(&c, 600, 150, &at));
	assert_int_equal(at, 20100);
	assert_false(net_credit_take(&c, 600, 20099, &at));
	assert_true(net_credit_take(&c, 600, 20100, &at)); /* 1400 -> 800 */
	assert_true(net_credit_take(&c, 800, 20100, &at));
	assert_false(net_credit_take(&c, 1, 20100, &at));
	assert_int_equal(at, 40100);

	/* Idle for an hour: one chunk, not thousands. */
	assert_true(net_credit_take(&c, 1000, 3600000000ull, &at));
	assert_false(net_credit_take(&c, 1, 3600000000ull, &at));

	/* Bigger than one chunk: saved up over intervals, up to 128 KiB. */
	assert_int_equal(net_credit_init(&c, 1000, 1000, 0), 0);
	for (uint64_t now = 0; now < 65000; now += 1000)
		assert_false(net_credit_take(&c, 65535, now, &at));
	assert_true(net_credit_take(&c, 65535, 65000, &at)); /* 66000 */
	for (uint64_t now = 200000; now < 400000; now += 1000)
		assert_false(net_credit_take(&c, 200000, now, &at));
	assert_int_equal(c.remaining, 131072);
	assert_false(net_credit_take(&c, 131073, 500000, &at));

	/* A clock that steps back adds nothing. */
	assert_int_equal(net_credit_init(&c, 1000, 1000, 50000), 0);
	assert_true(net_credit_take(&c, 1000, 50000, &at));
	assert_false(net_credit_take(&c, 1, 10, &at));
	assert_int_equal(at, 51000);

	/* A rate above 128 KiB per interval keeps one chunk. */
	assert_int_equal(net_credit_init(&c, 1 << 20, 1000, 0), 0);
	assert_true(net_credit_take(&c, 1 << 20, 0, &at));
	assert_true(net_credit_take(&c, 1 << 20, 1000, &at));
	assert_int_equal(c.remaining, 0);
}

/* rate=1000 bytes per 20 ms: 600-byte packets go one, then one per
 * interval boundary with what was left; nothing taken while waiting. */
static void test_rate_limit(void **state)
{
	struct fspec fs = UDP4;
	struct opts o = {.rate_bytes = 1000, .rate_usec = 20000};
	struct net_ring_stats st;
	unsigned flags, lines;
	uint64_t retry = 0;
	struct t t;

	t_open(&t, &o);
	for (unsigned i = 0; i < 4; i++) {
		build_frame(frame_buf, &fs, 600, i, NULL);
		tx_simple(&t, frame_buf, 600, REF_RW(i), 0, (uint16_t)i);
	}
	tx_push(&t);
	assert_int_equal(tx_logged(&t, 0, &flags, &retry, &lines), 0);
	assert_int_equal(flags, NET_RING_NOTIFY | NET_RING_CREDIT);
	assert_int_equal(retry, 20000);
	assert_int_equal(t.host.delivered, 1);
	tx_expect(&t, 1, NETIF_RSP_OKAY);
	tx_expect_none(&t);
	tx_rearm(&t);

	/* Too early. */
	retry = 0;
	assert_int_equal(tx_logged(&t, 19999, &flags, &retry, &lines), 0);
	assert_int_equal(flags, NET_RING_CREDIT);
	assert_int_equal(retry, 20000);
	assert_int_equal(t.host.delivered, 1);

	/* 400 left + 1000: two packets, then wait again. */
	assert_int_equal(tx_logged(&t, 20000, &flags, &retry, &lines), 0);
	assert_int_equal(flags, NET_RING_NOTIFY | NET_RING_CREDIT);
	assert_int_equal(retry, 40000);
	assert_int_equal(t.host.delivered, 3);
	tx_expect(&t, 2, NETIF_RSP_OKAY);
	tx_rearm(&t);

	assert_int_equal(tx_logged(&t, 40000, &flags, &retry, &lines), 0);
	assert_int_equal(flags, NET_RING_NOTIFY);
	assert_int_equal(t.host.delivered, 4);
	tx_expect_all(&t, NETIF_RSP_OKAY);
	stats(&t, &st);
	assert_int_equal(st.tx_credit_waits, 3);
	t_close(&t);
}

/* A packet bigger than one interval's credit still goes, once enough
 * intervals have been saved up; and a malformed packet is charged. */
static void test_rate_big_and_bad(void **state)
{
	struct fspec fs = UDP4;
	struct opts o = {.rate_bytes = 1000, .rate_usec = 1000};
	struct seg s[2];
	unsigned flags, lines;
	uint64_t retry = 0, now = 0;
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 5000, 1, NULL);
	segs_even(s, 2, 5000, false, 0);
	tx_frame(&t, frame_buf, 5000, s, 2, 0, 1, NULL, 0, -1);
	tx_push(&t);
	for (int i = 0; i < 10 && t.host.delivered == 0; i++) {
		assert_int_equal(tx_logged(&t, now, &flags, &retry, &lines), 0);
		if (!t.host.delivered) {
			assert_true(flags & NET_RING_CREDIT);
			assert_true(retry > now);
			now = retry;
		}
	}
	assert_int_equal(t.host.delivered, 1);
	assert_int_equal(now, 4000); /* 1000 + 4 chunks */
	tx_expect_all(&t, NETIF_RSP_OKAY);

	/* A packet with a refused grant costs its declared size too. */
	build_frame(frame_buf, &fs, 1000, 1, NULL);
	tx_simple(&t, frame_buf, 1000, REF_DENIED, 0, 9);
	tx_simple(&t, frame_buf, 1000, REF_RW(0), 0, 10);
	tx_push(&t);
	now += 1000; /* 0 left + 1000 */
	assert_int_equal(tx_logged(&t, now, &flags, &retry, &lines), 0);
	assert_int_equal(lines, 1);
	assert_true(flags & NET_RING_CREDIT);
	tx_expect(&t, 1, NETIF_RSP_ERROR);
	tx_expect_none(&t);
	assert_int_equal(tx_logged(&t, now + 1000, &flags, &retry, &lines), 0);
	tx_expect(&t, 1, NETIF_RSP_OKAY);
	t_close(&t);
}

/* One credit shared by two queues of a vif: what one spends, the other
 * cannot. */
static void test_rate_shared(void **state)
{
	struct fspec fs = UDP4;
	struct opts o = {.rate_bytes = 1000, .rate_usec = 10000};
	struct net_ring_config cfg;
	struct netif_tx_sring *txs2 = aligned_alloc(PAGE, PAGE);
	struct netif_rx_sring *rxs2 = aligned_alloc(PAGE, PAGE);
	netif_tx_front_ring_t f2;
	struct net_ring *q2;
	unsigned flags;
	uint64_t retry = 0;
	struct t t;

	t_open(&t, &o);
	SHARED_RING_INIT(txs2);
	SHARED_RING_INIT(rxs2);
	FRONT_RING_INIT(&f2, txs2, PAGE);
	memset(&cfg, 0, sizeof(cfg));
	cfg.tx_sring = txs2;
	cfg.rx_sring = rxs2;
	cfg.domid = FAKE_DOMID;
	cfg.devid = t.devid;
	cfg.queue = 2;
	cfg.credit = &t.credit;
	cfg.tx_buf = t.buf;
	cfg.tx_buf_size = NET_RING_TX_BUF_SIZE;
	cfg.grant = &fake_grant_ops;
	cfg.grant_opaque = &t.gnt;
	cfg.host = &t.hops;
	cfg.host_opaque = &t.host;
	assert_int_equal(net_ring_create(&cfg, &q2), 0);

	build_frame(frame_buf, &fs, 800, 1, NULL);
	tx_simple(&t, frame_buf, 800, REF_RW(0), 0, 1);
	tx_push(&t);
	tx_kick(&t);
	assert_int_equal(t.host.delivered, 1);
	{
		struct netif_tx_request *r =
		    RING_GET_REQUEST(&f2, f2.req_prod_pvt);

		r->gref = REF_RW(0);
		r->offset = 0;
		r->flags = 0;
		r->id = 2;
		r->size = 800;
		f2.req_prod_pvt++;
		RING_PUSH_REQUESTS(&f2);
	}
	gnt_seal(&t.gnt);
	assert_int_equal(net_ring_tx(q2, 5000, &flags, &retry), 0);
	assert_int_equal(flags, NET_RING_CREDIT);
	assert_int_equal(retry, 10000);
	assert_int_equal(net_ring_tx(q2, 10000, &flags, &retry), 0);
	assert_int_equal(flags, NET_RING_NOTIFY);
	assert_int_equal(t.host.delivered, 2);
	net_ring_destroy(q2);
	free(txs2);
	free(rxs2);
	t_close(&t);
}

/* ==== rx scenarios ==== */

static void test_rx_one_buffer(void **state)
{
	struct fspec fs = UDP4;
	struct virtio_net_hdr vh = {0};
	struct net_ring_stats st;
	struct opts o = {0};
	uint8_t got[PAGE];
	unsigned flags;
	size_t n;
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 1000, 3, NULL);
	n = host_pkt(&vh, frame_buf, 1000);
	rx_post(&t, 77, REF_RW(4));
	assert_int_equal(net_ring_rx_posted(t.q), 1);
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
	assert_int_equal(flags, NET_RING_NOTIFY);
	rx_expect(&t, 77, 0, 1000);
	rx_expect_none(&t);
	page_read(&t.gnt, REF_RW(4), 0, got, 1000);
	assert_memory_equal(got, frame_buf, 1000);
	assert_true(page_canary(&t.gnt, REF_RW(4), 1000, PAGE - 1000));
	assert_int_equal(t.gnt.wmaps[REF_RW(4)], 0);
	assert_int_equal(net_ring_rx_posted(t.q), 0);
	stats(&t, &st);
	assert_int_equal(st.rx_packets, 1);
	assert_int_equal(st.rx_bytes, 1000);
	assert_int_equal(st.rx_slots, 1);
	t_close(&t);
}

struct rxflag_case {
	const char *name;
	uint8_t vflags;
	uint16_t start, offset;
	uint16_t rflags;
};

static const struct rxflag_case rxflag_cases[] = {
    {"rx_flags_none", 0, 0, 0, 0},
    {"rx_flags_data_valid", VIRTIO_NET_HDR_F_DATA_VALID, 0, 0,
     NETRXF_data_validated},
    {"rx_flags_needs_csum", VIRTIO_NET_HDR_F_NEEDS_CSUM, 34, 6,
     NETRXF_csum_blank | NETRXF_data_validated},
    {"rx_flags_needs_csum_and_valid",
     VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID, 34, 6,
     NETRXF_csum_blank | NETRXF_data_validated},
};

static void test_rx_flags(void **state)
{
	const struct rxflag_case *c = *state;
	struct fspec fs = UDP4;
	struct virtio_net_hdr vh = {0};
	struct opts o = {0};
	unsigned flags;
	size_t n;
	struct t t;

	t_open(&t, &o);
	vh.flags = c->vflags;
	vh.csum_start = c->start;
	vh.csum_offset = c->offset;
	build_frame(frame_buf, &fs, 300, 3, NULL);
	n = host_pkt(&vh, frame_buf, 300);
	rx_post(&t, 1, REF_RW(0));
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
	rx_expect(&t, 1, c->rflags, 300);
	t_close(&t);
}

/* feature-sg: 9000 bytes over three buffers, each filled from offset 0. */
static void test_rx_several_buffers(void **state)
{
	struct fspec fs = UDP4;
	struct virtio_net_hdr vh = {0};
	struct opts o = {.sg = true};
	uint8_t got[PAGE];
	unsigned flags;
	size_t n;
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 9000, 6, NULL);
	n = host_pkt(&vh, frame_buf, 9000);
	for (unsigned i = 0; i < 4; i++)
		rx_post(&t, (uint16_t)(10 + i), REF_RW(i));
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
	rx_expect(&t, 10, NETRXF_more_data, 4096);
	rx_expect(&t, 11, NETRXF_more_data, 4096);
	rx_expect(&t, 12, 0, 808);
	rx_expect_none(&t);
	for (unsigned i = 0; i < 3; i++) {
		size_t len = i < 2 ? 4096 : 808;

		page_read(&t.gnt, REF_RW(i), 0, got, len);
		assert_memory_equal(got, frame_buf + i * 4096, len);
	}
	assert_true(page_canary(&t.gnt, REF_RW(2), 808, PAGE - 808));
	assert_true(page_canary(&t.gnt, REF_RW(3), 0, PAGE));
	assert_int_equal(net_ring_rx_posted(t.q), 1);
	t_close(&t);
}

/* GSO: the entry after the first carries the extra info (its buffer
 * unused), the data goes on in the entries after it. */
static void test_rx_gso(void **state)
{
	static const struct {
		struct fspec fs;
		uint8_t vgso, xgso;
	} v[2] = {{TCP4, VIRTIO_NET_HDR_GSO_TCPV4, XEN_NETIF_GSO_TYPE_TCPV4},
		  {TCP6, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN,
		   XEN_NETIF_GSO_TYPE_TCPV6}};
	struct opts o = {.sg = true, .gso4 = true, .gso6 = true};
	struct netif_rx_response rsp = {0};
	struct netif_extra_info x;
	uint8_t got[PAGE];
	unsigned flags;
	struct t t;

	t_open(&t, &o);
	for (int k = 0; k < 2; k++) {
		struct virtio_net_hdr vh = {0};
		size_t n;

		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.gso_type = v[k].vgso;
		vh.gso_size = 1448;
		vh.csum_start = k ? 54 : 34;
		vh.csum_offset = 16;
		build_frame(frame_buf, &v[k].fs, 9000, 6, NULL);
		n = host_pkt(&vh, frame_buf, 9000);
		for (unsigned i = 0; i < 4; i++)
			rx_post(&t, (uint16_t)(20 + i), REF_RW(10 * k + i));
		assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
		rx_expect(&t, 20,
			  NETRXF_csum_blank | NETRXF_data_validated |
			      NETRXF_more_data | NETRXF_extra_info,
			  4096);
		assert_true(rx_pop(&t, &rsp));
		memcpy(&x, &rsp, sizeof(x));
		assert_int_equal(x.type, XEN_NETIF_EXTRA_TYPE_GSO);
		assert_int_equal(x.flags, 0);
		assert_int_equal(x.u.gso.type, v[k].xgso);
		assert_int_equal(x.u.gso.size, 1448);
		assert_int_equal(x.u.gso.features, 0);
		rx_expect(&t, 22, NETRXF_more_data, 4096);
		rx_expect(&t, 23, 0, 808);
		rx_expect_none(&t);
		assert_true(page_canary(&t.gnt, REF_RW(10 * k + 1), 0, PAGE));
		page_read(&t.gnt, REF_RW(10 * k + 3), 0, got, 808);
		assert_memory_equal(got, frame_buf + 8192, 808);
	}
	t_close(&t);
}

struct rxdrop_case {
	const char *name;
	struct opts o;
	size_t len; /* frame bytes */
	uint8_t vflags, gso;
	uint16_t gso_size, start, offset;
	bool runt; /* the packet is shorter than a vnet header */
	int ret;
	int why; /* enum net_ring_rx_drop */
};

/* clang-format off */
static const struct rxdrop_case rxdrop_cases[] = {
	{"rx_drop_no_vnet_header", {0}, 0, .runt = true, .ret = -EINVAL,
	 .why = NET_RX_DROP_HDR},
	{"rx_drop_runt_frame_13", {0}, 13, .ret = -EINVAL,
	 .why = NET_RX_DROP_HDR},
	{"rx_drop_csum_start_past_end", {0}, 100, VIRTIO_NET_HDR_F_NEEDS_CSUM,
	 0, 0, 99, 0, .ret = -EINVAL, .why = NET_RX_DROP_HDR},
	{"rx_drop_csum_offset_past_end", {0}, 100, VIRTIO_NET_HDR_F_NEEDS_CSUM,
	 0, 0, 34, 65, .ret = -EINVAL, .why = NET_RX_DROP_HDR},
	{"rx_drop_csum_huge", {.no_csum = true}, 100,
	 VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 65535, 65535, .ret = -EINVAL,
	 .why = NET_RX_DROP_HDR},
	{"rx_drop_gso_size_0", {.sg = true, .gso4 = true}, 5000,
	 VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 0, 34, 16,
	 .ret = -EINVAL, .why = NET_RX_DROP_HDR},
	{"rx_drop_no_sg_4097", {0}, 4097, .ret = -EMSGSIZE,
	 .why = NET_RX_DROP_SIZE},
	{"rx_drop_frame_65536", {.sg = true}, 65536, .ret = -EMSGSIZE,
	 .why = NET_RX_DROP_SIZE},
	{"rx_drop_gso_tcpv4_not_asked", {.sg = true, .gso6 = true}, 5000,
	 VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16,
	 .ret = -EPROTONOSUPPORT, .why = NET_RX_DROP_GSO},
	{"rx_drop_gso_tcpv6_not_asked", {.sg = true, .gso4 = true}, 5000,
	 VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 1448, 54, 16,
	 .ret = -EPROTONOSUPPORT, .why = NET_RX_DROP_GSO},
	{"rx_drop_gso_udp", {.sg = true, .gso4 = true, .gso6 = true}, 5000,
	 VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP, 1448, 34, 6,
	 .ret = -EPROTONOSUPPORT, .why = NET_RX_DROP_GSO},
	{"rx_drop_gso_type_99", {.sg = true, .gso4 = true, .gso6 = true},
	 5000, VIRTIO_NET_HDR_F_NEEDS_CSUM, 99, 1448, 34, 6,
	 .ret = -EPROTONOSUPPORT, .why = NET_RX_DROP_GSO},
	{"rx_drop_gso_without_csum_offload",
	 {.sg = true, .gso4 = true, .no_csum = true}, 5000,
	 VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16,
	 .ret = -EPROTONOSUPPORT, .why = NET_RX_DROP_GSO},
};
/* clang-format on */

/* Host packets the guest cannot take: refused before any buffer is
 * used, counted by kind, not logged (the host's business). */
static void test_rx_drop(void **state)
{
	const struct rxdrop_case *c = *state;
	struct fspec fs = TCP4;
	struct virtio_net_hdr vh = {0};
	struct net_ring_stats st;
	unsigned flags = 0xFF;
	size_t n;
	struct t t;

	t_open(&t, &c->o);
	for (unsigned i = 0; i < 20; i++)
		rx_post(&t, (uint16_t)i, REF_RW(i));
	vh.flags = c->vflags;
	vh.gso_type = c->gso;
	vh.gso_size = c->gso_size;
	vh.csum_start = c->start;
	vh.csum_offset = c->offset;
	build_frame(frame_buf, &fs, c->len, 1, NULL);
	n = c->runt ? HDR - 1 : host_pkt(&vh, frame_buf, c->len);
	if (c->runt)
		memset(frame_buf2, 0, HDR);
	cap_begin();
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), c->ret);
	assert_int_equal(cap_end(), 0);
	assert_int_equal(flags, 0);
	rx_expect_none(&t);
	assert_int_equal(net_ring_rx_posted(t.q), 20);
	assert_int_equal(t.gnt.map_calls, 0);
	stats(&t, &st);
	for (int k = 0; k < NET_RX_DROP_NR; k++)
		assert_int_equal(st.rx_drops[k], k == c->why ? 1 : 0);
	assert_int_equal(st.rx_dropped, 1);
	assert_int_equal(st.rx_packets, 0);
	t_close(&t);
}

/* The largest frames: 4096 bytes without sg, 65535 over 16 buffers. */
static void test_rx_largest(void **state)
{
	struct fspec fs = UDP4;
	struct virtio_net_hdr vh = {0};
	struct opts o = {0};
	uint8_t got[PAGE];
	unsigned flags;
	size_t n;
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 4096, 1, NULL);
	n = host_pkt(&vh, frame_buf, 4096);
	rx_post(&t, 1, REF_RW(0));
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
	rx_expect(&t, 1, 0, 4096);
	t_close(&t);

	o.sg = true;
	t_open(&t, &o);
	build_frame(frame_buf, &fs, 65535, 2, NULL);
	n = host_pkt(&vh, frame_buf, 65535);
	for (unsigned i = 0; i < 16; i++)
		rx_post(&t, (uint16_t)i, REF_RW(i));
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
	for (unsigned i = 0; i < 16; i++)
		rx_expect(&t, (uint16_t)i, i < 15 ? NETRXF_more_data : 0,
			  i < 15 ? 4096 : 4095);
	page_read(&t.gnt, REF_RW(15), 0, got, 4095);
	assert_memory_equal(got, frame_buf + 15 * 4096, 4095);
	t_close(&t);
}

/* No buffer posted: -EAGAIN, nothing consumed, an event asked for when
 * enough are posted; then it goes. */
static void test_rx_no_buffers(void **state)
{
	struct fspec fs = UDP4;
	struct virtio_net_hdr vh = {0};
	struct net_ring_stats st;
	struct opts o = {.sg = true};
	unsigned flags;
	size_t n;
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 500, 1, NULL);
	n = host_pkt(&vh, frame_buf, 500);
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), -EAGAIN);
	assert_int_equal(flags, 0);
	assert_int_equal(t.rxs->req_event, 1);
	assert_int_equal(t.rxs->rsp_prod, 0);
	rx_post(&t, 5, REF_RW(0));
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
	rx_expect(&t, 5, 0, 500);

	/* 9000 bytes need 3; 2 posted. */
	build_frame(frame_buf, &fs, 9000, 1, NULL);
	n = host_pkt(&vh, frame_buf, 9000);
	rx_post(&t, 6, REF_RW(1));
	rx_post(&t, 7, REF_RW(2));
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), -EAGAIN);
	assert_int_equal(t.rxs->req_event, 1 + 3);
	assert_int_equal(net_ring_rx_posted(t.q), 2);
	rx_expect_none(&t);
	/* The frontend's push of the third crosses req_event: an event. */
	{
		int notify;

		RING_GET_REQUEST(&t.rxf, t.rxf.req_prod_pvt)->id = 8;
		RING_GET_REQUEST(&t.rxf, t.rxf.req_prod_pvt)->gref = REF_RW(3);
		t.rxf.req_prod_pvt++;
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&t.rxf, notify);
		assert_true(notify);
	}
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
	rx_expect(&t, 6, NETRXF_more_data, 4096);
	rx_expect(&t, 7, NETRXF_more_data, 4096);
	rx_expect(&t, 8, 0, 808);

	/* Given up by the caller: counted. */
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), -EAGAIN);
	net_ring_rx_drop(t.q);
	stats(&t, &st);
	assert_int_equal(st.rx_nobuf, 3);
	assert_int_equal(st.rx_drops[NET_RX_DROP_NOBUF], 1);
	assert_int_equal(st.rx_dropped, 1);
	assert_int_equal(st.rx_packets, 2);
	t_close(&t);
}

/* A GSO packet needs its extra slot counted: 2 data + 1 extra. */
static void test_rx_gso_needs_extra_slot(void **state)
{
	struct fspec fs = TCP4;
	struct virtio_net_hdr vh = {0};
	struct opts o = {.sg = true, .gso4 = true};
	unsigned flags;
	size_t n;
	struct t t;

	t_open(&t, &o);
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.gso_size = 1000;
	vh.csum_start = 34;
	vh.csum_offset = 16;
	build_frame(frame_buf, &fs, 5000, 1, NULL);
	n = host_pkt(&vh, frame_buf, 5000);
	rx_post(&t, 1, REF_RW(0));
	rx_post(&t, 2, REF_RW(1));
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), -EAGAIN);
	assert_int_equal(t.rxs->req_event, 3);
	rx_post(&t, 3, REF_RW(2));
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
	assert_int_equal(t.rxs->rsp_prod, 3);
	t_close(&t);
}

/* A buffer whose grant is refused (read-only, or no grant): every data
 * slot of the packet says ERROR, flags kept, one log line; the next
 * packet goes. */
static void test_rx_bad_grant(void **state)
{
	static const grant_ref_t bad[] = {REF_RO(0), 1000, REF_DENIED, 0,
					  REF_BUSY};
	struct fspec fs = UDP4;
	struct virtio_net_hdr vh = {0};
	struct net_ring_stats st;
	struct opts o = {.sg = true};
	unsigned flags, lines;
	size_t n;
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 9000, 1, NULL);
	n = host_pkt(&vh, frame_buf, 9000);
	for (unsigned k = 0; k < ARRAY_SIZE(bad); k++) {
		rx_post(&t, 1, REF_RW(0));
		rx_post(&t, 2, bad[k]);
		rx_post(&t, 3, REF_RW(2));
		assert_int_equal(rx_logged(&t, frame_buf2, n, &flags, &lines),
				 -EFAULT);
		assert_int_equal(lines, k == 0 ? 1 : 0);
		rx_expect(&t, 1, NETRXF_more_data, NETIF_RSP_ERROR);
		rx_expect(&t, 2, NETRXF_more_data, NETIF_RSP_ERROR);
		rx_expect(&t, 3, 0, NETIF_RSP_ERROR);
		/* Nothing written after the refusal. */
		assert_true(page_canary(&t.gnt, REF_RW(2), 0, PAGE));
		if (bad[k] == REF_RO(0))
			assert_true(page_canary(&t.gnt, REF_RO(0), 0, PAGE));
	}
	stats(&t, &st);
	assert_int_equal(st.faults[NET_FAULT_GRANT], ARRAY_SIZE(bad));
	assert_int_equal(st.rx_dropped, ARRAY_SIZE(bad));
	assert_int_equal(st.rx_packets, 0);
	for (unsigned i = 0; i < 3; i++)
		rx_post(&t, (uint16_t)(10 + i), REF_RW(5 + i));
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
	rx_expect(&t, 10, NETRXF_more_data, 4096);
	t_close(&t);
}

/* feature-no-csum-offload: a partial checksum is finished before the
 * guest sees it, also when the field straddles two buffers. */
static void test_rx_csum_completed(void **state)
{
	struct opts o = {.sg = true, .no_csum = true};
	struct net_ring_stats st;
	struct fspec fs = TCP4;
	struct flayout lo;
	unsigned flags;
	struct t t;

	t_open(&t, &o);
	/* A TCP/IPv4 frame whose field holds the pseudo-header sum. */
	{
		struct virtio_net_hdr vh = {0};
		uint8_t got[PAGE];
		size_t n, len = 1200;

		build_frame(frame_buf, &fs, len, 4, &lo);
		put16(frame_buf + lo.l4 + 16,
		      pseudo(frame_buf, &lo, false, 6, len - lo.l4));
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.csum_start = (uint16_t)lo.l4;
		vh.csum_offset = 16;
		n = host_pkt(&vh, frame_buf, len);
		rx_post(&t, 1, REF_RW(0));
		assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
		rx_expect(&t, 1, NETRXF_data_validated, (int16_t)len);
		page_read(&t.gnt, REF_RW(0), 0, got, len);
		/* What the guest's stack checks: pseudo header + segment. */
		assert_int_equal(
		    fold16(sum16(got + lo.l4, len - lo.l4,
				 pseudo(got, &lo, false, 6, len - lo.l4))),
		    0xFFFF);
		assert_memory_equal(got, frame_buf, lo.l4 + 16);
		assert_memory_equal(got + lo.l4 + 18, frame_buf + lo.l4 + 18,
				    len - lo.l4 - 18);
	}
	/* Arbitrary csum_start with the field at bytes 4095 and 4096. */
	{
		struct virtio_net_hdr vh = {0};
		uint8_t got[6000];
		uint16_t x0;
		size_t n, len = 6000;

		build_frame(frame_buf, &fs, len, 9, NULL);
		x0 = (uint16_t)get16(frame_buf + 4095);
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.csum_start = 4079;
		vh.csum_offset = 16;
		n = host_pkt(&vh, frame_buf, len);
		rx_post(&t, 2, REF_RW(1));
		rx_post(&t, 3, REF_RW(2));
		assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
		rx_expect(&t, 2, NETRXF_data_validated | NETRXF_more_data,
			  4096);
		rx_expect(&t, 3, 0, 6000 - 4096);
		page_read(&t.gnt, REF_RW(1), 0, got, 4096);
		page_read(&t.gnt, REF_RW(2), 0, got + 4096, 6000 - 4096);
		/* The sum over the range with the result in place, plus
		 * what the field held (its part of the sum), is all ones. */
		assert_int_equal(fold16(sum16(got + 4079, len - 4079, x0)),
				 0xFFFF);
		assert_memory_equal(got, frame_buf, 4095);
		assert_memory_equal(got + 4097, frame_buf + 4097, len - 4097);
	}
	/* UDP whose sum comes to zero is sent as 0xFFFF ("none" is 0). */
	{
		struct virtio_net_hdr vh = {0};
		uint8_t f[64], got[64];
		size_t n;
		uint16_t c;

		memset(f, 0, sizeof(f));
		/* csum_start 14: a range of all zeroes but the field, which
		 * holds 0xFFFF: sum 0xFFFF, complement 0. */
		put16(f + 14 + 6, 0xFFFF);
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.csum_start = 14;
		vh.csum_offset = 6;
		n = host_pkt(&vh, f, 64);
		rx_post(&t, 4, REF_RW(3));
		assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
		rx_expect(&t, 4, NETRXF_data_validated, 64);
		page_read(&t.gnt, REF_RW(3), 0, got, 64);
		c = (uint16_t)get16(got + 20);
		assert_int_equal(c, 0xFFFF);
	}
	stats(&t, &st);
	assert_int_equal(st.rx_csum_completed, 3);
	t_close(&t);
}

static void test_rx_notify_hold_off(void **state)
{
	struct fspec fs = UDP4;
	struct virtio_net_hdr vh = {0};
	struct opts o = {0};
	unsigned flags;
	size_t n;
	int more;
	struct t t;

	t_open(&t, &o);
	build_frame(frame_buf, &fs, 100, 1, NULL);
	n = host_pkt(&vh, frame_buf, 100);
	for (unsigned i = 0; i < 3; i++)
		rx_post(&t, (uint16_t)i, REF_RW(i));
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
	assert_int_equal(flags, NET_RING_NOTIFY);
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
	assert_int_equal(flags, 0);
	rx_expect(&t, 0, 0, 100);
	rx_expect(&t, 1, 0, 100);
	RING_FINAL_CHECK_FOR_RESPONSES(&t.rxf, more);
	assert_false(more);
	assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
	assert_int_equal(flags, NET_RING_NOTIFY);
	t_close(&t);
}

/* 1000 packets of 1..3 buffers through the 256-entry rx ring, each
 * response on its request's entry. */
static void test_rx_wraparound(void **state)
{
	struct fspec fs = UDP4;
	struct opts o = {.sg = true};
	struct netif_rx_response rsp;
	uint8_t got[PAGE];
	unsigned flags, id = 0;
	struct t t;

	t_open(&t, &o);
	for (unsigned p = 0; p < 1000; p++) {
		struct virtio_net_hdr vh = {0};
		size_t len = 60 + (p * 2741) % 12000, n;
		unsigned need = (unsigned)((len + PAGE - 1) / PAGE);

		build_frame(frame_buf, &fs, len, p, NULL);
		n = host_pkt(&vh, frame_buf, len);
		for (unsigned i = 0; i < need; i++)
			rx_post(&t, (uint16_t)(id + i), REF_RW(id + i));
		assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
		for (unsigned i = 0; i < need; i++) {
			size_t clen = i + 1 < need ? PAGE : len - i * PAGE;

			assert_true(rx_pop(&t, &rsp));
			assert_int_equal(rsp.id, (uint16_t)(id + i));
			assert_int_equal(rsp.status, (int16_t)clen);
			page_read(&t.gnt, REF_RW(id + i), 0, got, clen);
			assert_memory_equal(got, frame_buf + i * PAGE, clen);
		}
		id += need;
	}
	assert_true(t.rxs->rsp_prod > 256 * 3);
	t_close(&t);
}

/* tx and rx on one queue do not disturb each other. */
static void test_both_ways(void **state)
{
	struct fspec fs = TCP4;
	struct virtio_net_hdr vh = {0};
	struct net_ring_stats st;
	struct opts o = {.sg = true};
	unsigned flags;
	size_t n;
	struct t t;

	t_open(&t, &o);
	for (unsigned i = 0; i < 50; i++) {
		build_frame(frame_buf, &fs, 1500, i, NULL);
		tx_simple(&t, frame_buf, 1500, REF_RO(i), CB, (uint16_t)i);
		tx_push(&t);
		n = host_pkt(&vh, frame_buf, 1500);
		rx_post(&t, (uint16_t)i, REF_RW(i));
		assert_int_equal(rx_call(&t, frame_buf2, n, &flags), 0);
		tx_kick(&t);
		tx_expect_all(&t, NETIF_RSP_OKAY);
		rx_expect(&t, (uint16_t)i, 0, 1500);
	}
	stats(&t, &st);
	assert_int_equal(st.tx_packets, 50);
	assert_int_equal(st.rx_packets, 50);
	assert_int_equal(st.tx_bytes, 50 * 1500);
	assert_int_equal(st.rx_bytes, 50 * 1500);
	t_close(&t);
}

static void test_fault_names(void **state)
{
	for (int i = 0; i < NET_FAULT_NR; i++) {
		const char *a = net_ring_fault_name(i);

		assert_non_null(a);
		assert_true(strncmp(a, "net: ", 5) == 0);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, net_ring_fault_name(j));
	}
	assert_string_equal(net_ring_fault_name(NET_FAULT_NR), "net: ?");
	assert_string_equal(net_ring_fault_name(-1), "net: ?");
}

int main(void)
{
	struct CMUnitTest
	    tests[ARRAY_SIZE(create_cases) + ARRAY_SIZE(tx_cases) +
		  ARRAY_SIZE(hdr_cases) + ARRAY_SIZE(ring_cases) +
		  ARRAY_SIZE(copy_cases) + ARRAY_SIZE(rxflag_cases) +
		  ARRAY_SIZE(rxdrop_cases) + 32];
	size_t n = 0, i;

#define CASES(table, fn)                                                       \
	for (i = 0; i < ARRAY_SIZE(table); i++)                                \
	tests[n++] = (struct CMUnitTest){table[i].name, fn, NULL, NULL,        \
					 (void *)&table[i]}
	CASES(create_cases, test_create);
	CASES(tx_cases, test_tx_case);
	CASES(hdr_cases, test_hdr_case);
	CASES(ring_cases, test_ring_indices);
	CASES(copy_cases, test_copy_case);
	CASES(rxflag_cases, test_rx_flags);
	CASES(rxdrop_cases, test_rx_drop);
#define SCENARIO(fn) tests[n++] = (struct CMUnitTest)cmocka_unit_test(fn)
	SCENARIO(test_tx_single_slot);
	SCENARIO(test_tx_multi_slot);
	SCENARIO(test_tx_gso_worked_example);
	SCENARIO(test_tx_gso_without_csum_blank);
	SCENARIO(test_tx_deliver_fails);
	SCENARIO(test_tx_mcast);
	SCENARIO(test_tx_partial_chain);
	SCENARIO(test_tx_partial_extras);
	SCENARIO(test_tx_batch);
	SCENARIO(test_tx_wraparound);
	SCENARIO(test_tx_notify_hold_off);
	SCENARIO(test_tx_bad_between_good);
	SCENARIO(test_credit);
	SCENARIO(test_rate_limit);
	SCENARIO(test_rate_big_and_bad);
	SCENARIO(test_rate_shared);
	SCENARIO(test_rx_one_buffer);
	SCENARIO(test_rx_several_buffers);
	SCENARIO(test_rx_gso);
	SCENARIO(test_rx_largest);
	SCENARIO(test_rx_no_buffers);
	SCENARIO(test_rx_gso_needs_extra_slot);
	SCENARIO(test_rx_bad_grant);
	SCENARIO(test_rx_csum_completed);
	SCENARIO(test_rx_notify_hold_off);
	SCENARIO(test_rx_wraparound);
	SCENARIO(test_both_ways);
	SCENARIO(test_fault_names);
	assert_true(n <= ARRAY_SIZE(tests));
	return _cmocka_run_group_tests("net_ring", tests, n, NULL, NULL);
}
