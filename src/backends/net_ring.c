/* Network backend ring protocol: netif tx requests in, frames behind a
 * virtio_net_hdr out; host frames in, netif rx responses back; every field
 * a frontend wrote checked before it is used. */
#include "backends/net_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* io/ring.h leaves the barriers to its user when __XEN_TOOLS__ picks the
 * latest interface.  rmb: the requests are read only after req_prod; wmb:
 * the responses are written before rsp_prod; mb: rsp_prod (req_event) is
 * visible before rsp_event (req_prod) is read back. */
#ifndef xen_mb
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#define NET_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, NET_PAGE_SIZE)
#define NET_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, NET_PAGE_SIZE)

/* The wire layouts, and the rule that an extra-info fits in a tx request
 * slot and exactly in an rx response slot. */
_Static_assert(sizeof(struct netif_tx_request) == 12, "netif_tx_request");
_Static_assert(sizeof(struct netif_tx_response) == 4, "netif_tx_response");
_Static_assert(sizeof(struct netif_rx_request) == 8, "netif_rx_request");
_Static_assert(sizeof(struct netif_rx_response) == 8, "netif_rx_response");
_Static_assert(sizeof(struct netif_extra_info) == 8, "netif_extra_info");
_Static_assert(sizeof(struct virtio_net_hdr) == 10, "virtio_net_hdr");
_Static_assert(NET_TX_RING_SIZE == 256 && NET_RX_RING_SIZE == 256,
	       "one-page netif rings");

/* Ethernet and IP numbers the offload parsing needs. */
#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

/*
 * How a tx packet travels
 * =======================
 * The frontend owns req_prod and rsp_event, we own req_cons, rsp_prod and
 * req_event.  A packet is a chain of ring entries: the first request (its
 * size is the whole frame's), the netif_extra_info entries it announces
 * with NETTXF_extra_info (each XEN_NETIF_EXTRA_FLAG_MORE announcing one
 * more), then one request per further fragment while the previous data
 * request says NETTXF_more_data.  The first fragment's own length is what
 * the total leaves after the others.
 *
 * The whole chain is copied off the ring (RING_COPY_REQUEST: nothing is
 * read from the shared page twice) before anything is decided, and only
 * when its end is published; then the packet is charged to the credit,
 * checked, copied out of its grants into tx_buf and delivered.  Every
 * entry is answered at once and in ring order, so the response of an
 * entry lands on that entry (rsp_prod_pvt == req_cons between packets):
 * data entries echo their id with OKAY or ERROR, extra entries carry no
 * id and get NETIF_RSP_NULL whatever happens (netfront skips NULLs; an
 * ERROR with a made-up id would complete someone else's buffer).
 *
 * Worked example: the frontend publishes, from req_cons 10,
 *   10 {ref 5, off 0, flags csum_blank|extra_info|more_data, id 3,
 *       size 9000}
 *   11 extra {GSO, size 1448, TCPV4}
 *   12 {ref 6, off 0, flags more_data, id 4, size 4096}
 *   13 {ref 7, off 0, flags 0, id 5, size 3000}
 * The first fragment is 9000 - 4096 - 3000 = 1904 bytes (off 0 + 1904 fits
 * the page).  tx_buf gets a virtio_net_hdr {NEEDS_CSUM, GSO_TCPV4,
 * gso_size 1448, csum_start/offset of the TCP header, hdr_len} and the
 * 9000 bytes; deliver() is called once; responses 10..13 are {3, OKAY},
 * {-, NULL}, {4, OKAY}, {5, OKAY}; req_cons is 14.  Had entry 13 said
 * more_data with req_prod at 14, nothing would have been taken: req_event
 * becomes 15 and the frontend's next push brings us back.  Had ref 7 been
 * refused, the responses would be {3, ERROR}, {-, NULL}, {4, ERROR},
 * {5, ERROR} and nothing delivered.
 *
 * rx, the other way: a host frame takes ceil(len / 4096) posted buffers
 * (one without feature-sg), each filled from offset 0, plus, for GSO, the
 * entry after the first, whose buffer goes unused and whose response is
 * the GSO extra-info (netfront expects it there and recycles the buffer).
 * Responses land on their requests' entries, as netfront requires.
 *
 * Indices the frontend corrupted (a producer more than a ring ahead of
 * our consumer, or behind it) would make us read responses as requests:
 * the queue stops for good with one log line.  So does a tx chain that
 * fills the whole ring without ending: it could never be completed.
 */

/* One tx ring entry of the packet being taken. */
struct net_slot {
	uint16_t id;
	bool extra; /* answered NETIF_RSP_NULL */
};

struct net_ring {
	struct net_ring_config cfg;
	netif_tx_back_ring_t tx;
	netif_rx_back_ring_t rx;
	RING_IDX tx_pushed, rx_pushed; /* rsp_prod as we last wrote them */
	unsigned batch;
	bool broken;
	uint8_t *buf; /* cfg.tx_buf */

	/* The tx packet at req_cons, copied off the ring: every entry's id
	 * (all of them are answered), the first NET_RING_MAX_SLOTS data
	 * requests and the first NET_RING_MAX_EXTRAS extras, and how many
	 * there were in all. */
	struct net_slot slots[NET_TX_RING_SIZE];
	unsigned nslots, ndata, nextras;
	struct netif_tx_request data[NET_RING_MAX_SLOTS];
	struct netif_extra_info extras[NET_RING_MAX_EXTRAS];

	struct net_ring_stats st;
};

static const char *const fault_names[NET_FAULT_NR] = {
    [NET_FAULT_GRANT] = "net: grant refused",
    [NET_FAULT_SLOTS] = "net: too many slots in a tx packet",
    [NET_FAULT_SIZE] = "net: bad tx packet size",
    [NET_FAULT_OFFSET] = "net: tx slot crosses the end of its page",
    [NET_FAULT_EXTRA] = "net: unknown or too many tx extra-info slots",
    [NET_FAULT_GSO] = "net: bad GSO request",
    [NET_FAULT_CSUM] = "net: checksum offload on a frame without TCP/UDP",
    [NET_FAULT_RING] = "net: corrupted ring, queue stopped",
};

const char *net_ring_fault_name(enum net_ring_fault f)
{
	return (unsigned)f < NET_FAULT_NR ? fault_names[f] : "net: ?";
}

/* Counts a fault and logs the first one of its kind for this vif. */
static void net_fault(struct net_ring *q, enum net_ring_fault f, unsigned id,
		      uint64_t detail)
{
	q->st.faults[f]++;
	if (log_first_time(fault_names[f], q->cfg.domid, q->cfg.devid))
		log_warnx("%s (dom %u vif %u queue %u: id %u, %llu); further "
			  "ones not logged",
			  fault_names[f], q->cfg.domid, q->cfg.devid,
			  q->cfg.queue, id, (unsigned long long)detail);
}

/* The frontend corrupted an index (or a tx chain cannot end): nothing
 * more is taken from either ring. */
static void net_stop(struct net_ring *q, const char *ring, RING_IDX prod,
		     RING_IDX cons)
{
	const char *what = fault_names[NET_FAULT_RING];

	q->broken = true;
	q->st.faults[NET_FAULT_RING]++;
	if (log_first_time(what, q->cfg.domid, q->cfg.devid))
		log_warnx("%s (dom %u vif %u queue %u: %s req_prod %u, "
			  "req_cons %u, ring size 256)",
			  what, q->cfg.domid, q->cfg.devid, q->cfg.queue, ring,
			  prod, cons);
}

/* ---- grants ---- */

int net_grant_copy(const struct net_grant_ops *ops, void *opaque,
		   uint16_t domid, grant_ref_t ref, unsigned offset, void *buf,
		   size_t len, bool to_guest)
{
	void *page = NULL;
	int rc;

	/* Checked before the map: not one byte outside the page. */
	if (offset > NET_PAGE_SIZE || len > NET_PAGE_SIZE - offset)
		return -EINVAL;
	if (len == 0)
		return 0;
	rc = ops->map(opaque, domid, ref, to_guest, &page);
	if (rc < 0)
		return rc;
	if (to_guest)
		memcpy((uint8_t *)page + offset, buf, len);
	else
		memcpy(buf, (const uint8_t *)page + offset, len);
	ops->unmap(opaque, domid, ref, to_guest, page);
	return 0;
}

/* ---- credit ---- */

/* Unused credit is kept up to this much at least, so that a frame of the
 * largest size passes however small the rate (Linux netback's figure). */
#define NET_CREDIT_MIN_BURST 131072u

int net_credit_init(struct net_credit *c, uint64_t bytes, uint64_t usec,
		    uint64_t now_us)
{
	memset(c, 0, sizeof(*c));
	c->window_start = now_us;
	if (bytes && !usec)
		return -EINVAL;
	c->bytes = bytes;
	c->usec = usec;
	c->remaining = bytes;
	return 0;
}

bool net_credit_take(struct net_credit *c, uint64_t size, uint64_t now_us,
		     uint64_t *retry_at)
{
	uint64_t burst, sum;

	if (!c->bytes)
		return true;
	if (size > c->remaining && now_us >= c->window_start &&
	    now_us - c->window_start >= c->usec) {
		/* One new chunk however long we were idle: an idle link
		 * does not save up more than one interval's worth. */
		burst = c->bytes > NET_CREDIT_MIN_BURST ? c->bytes
							: NET_CREDIT_MIN_BURST;
		sum = c->remaining + c->bytes;
		if (sum < c->remaining)
			sum = UINT64_MAX;
		c->remaining = sum < burst ? sum : burst;
		c->window_start = now_us;
	}
	if (size > c->remaining) {
		*retry_at = c->window_start + c->usec;
		return false;
	}
	c->remaining -= size;
	return true;
}

/* ---- responses ---- */

static void net_tx_respond(struct net_ring *q, const struct net_slot *s,
			   int16_t status)
{
	struct netif_tx_response rsp;

	memset(&rsp, 0, sizeof(rsp));
	rsp.id = s->extra ? 0 : s->id;
	rsp.status = s->extra ? NETIF_RSP_NULL : status;
	memcpy(RING_GET_RESPONSE(&q->tx, q->tx.rsp_prod_pvt), &rsp,
	       sizeof(rsp));
	q->tx.rsp_prod_pvt++;
}

/* RING_PUSH_RESPONSES_AND_CHECK_NOTIFY for either ring, with the old
 * producer taken from our own record rather than from the shared page. */
static bool net_push(RING_IDX *pushed, RING_IDX new, RING_IDX *shared_prod,
		     const RING_IDX *shared_event)
{
	RING_IDX old = *pushed;

	if (old == new)
		return false;
	xen_wmb();
	*shared_prod = new;
	*pushed = new;
	xen_mb();
	return (RING_IDX)(new - *shared_event) < (RING_IDX)(new - old);
}

/* ---- frame headers (read from our own copy, never the guest's) ---- */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Where the TCP or UDP header of an Ethernet frame is. */
struct net_l4 {
	unsigned l3, l4; /* offsets of the IP and TCP/UDP headers */
	unsigned l4_hlen;
	uint8_t proto; /* IPPROTO_TCP_ or IPPROTO_UDP_ */
	bool v6;
};

/* IPv6 extension headers: hop-by-hop, routing and destination options
 * (length in 8-octet units after the first 8), fragment (8 octets, only a
 * whole datagram passes), authentication (4-octet units after the first
 * 8).  At most NET_IPV6_MAX_EXT of them: a frame cannot keep us here. */
#define NET_IPV6_MAX_EXT 8
static bool net_skip_ipv6_ext(const uint8_t *f, size_t len, unsigned *off,
			      uint8_t *nh)
{
	for (unsigned n = 0;; n++) {
		unsigned hl;

		switch (*nh) {
		case 0:	 /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (n == NET_IPV6_MAX_EXT || *off + 8 > len)
				return false;
			hl = ((unsigned)f[*off + 1] + 1) * 8;
			break;
		case 51: /* authentication */
			if (n == NET_IPV6_MAX_EXT || *off + 8 > len)
				return false;
			hl = ((unsigned)f[*off + 1] + 2) * 4;
			break;
		case 44: /* fragment: offset or more-fragments set */
			if (n == NET_IPV6_MAX_EXT || *off + 8 > len ||
			    (be16(f + *off + 2) & 0xFFF9))
				return false;
			hl = 8;
			break;
		default:
			return true;
		}
		if (*off + hl > len)
			return false;
		*nh = f[*off];
		*off += hl;
	}
}

/* Finds the TCP or UDP header behind up to two VLAN tags and IPv4 or IPv6
 * (with extension headers), the whole L4 header inside the frame.  False
 * for anything else, and for IP fragments, whose checksum cannot be
 * computed from one frame. */
static bool net_find_l4(const uint8_t *f, size_t len, struct net_l4 *o)
{
	unsigned off = 12, type, ihl;
	uint8_t nh;

	memset(o, 0, sizeof(*o));
	if (len < NET_RING_MIN_FRAME)
		return false;
	type = be16(f + off);
	for (int tags = 0;
	     tags < 2 && (type == ETH_P_8021Q || type == ETH_P_8021AD);
	     tags++) {
		off += 4;
		if (off + 2 > len)
			return false;
		type = be16(f + off);
	}
	off += 2;
	o->l3 = off;
	if (type == ETH_P_IPV4) {
		if (off + 20 > len || (f[off] >> 4) != 4)
			return false;
		ihl = (f[off] & 0xF) * 4u;
		if (ihl < 20 || off + ihl > len)
			return false;
		if (be16(f + off + 6) & 0x3FFF) /* MF or a fragment offset */
			return false;
		nh = f[off + 9];
		off += ihl;
	} else if (type == ETH_P_IPV6) {
		if (off + 40 > len || (f[off] >> 4) != 6)
			return false;
		o->v6 = true;
		nh = f[off + 6];
		off += 40;
		if (!net_skip_ipv6_ext(f, len, &off, &nh))
			return false;
	} else {
		return false;
	}
	o->l4 = off;
	o->proto = nh;
	if (nh == IPPROTO_TCP_) {
		if (off + 20 > len)
			return false;
		o->l4_hlen = (f[off + 12] >> 4) * 4u;
		if (o->l4_hlen < 20 || off + o->l4_hlen > len)
			return false;
	} else if (nh == IPPROTO_UDP_) {
		if (off + 8 > len)
			return false;
		o->l4_hlen = 8;
	} else {
		return false;
	}
	return true;
}

/* Ones' complement sum of big-endian 16-bit words (the Internet checksum
 * before its final fold and complement). */
static uint64_t net_sum(const uint8_t *p, size_t n, uint64_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += be16(p + i);
	if (n & 1)
		s += (uint64_t)p[n - 1] << 8;
	return s;
}

static uint16_t net_fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)s;
}

/* ---- tx ---- */

/* Copies tx entry idx off the ring (once) and records its slot. */
static void net_tx_copy(struct net_ring *q, RING_IDX idx,
			struct netif_tx_request *req, bool extra)
{
	RING_COPY_REQUEST(&q->tx, idx, req);
	q->slots[q->nslots].id = req->id;
	q->slots[q->nslots].extra = extra;
	q->nslots++;
}

/* Copies the packet at req_cons off the ring; false when its last
 * published entry still announces more (nothing is consumed either
 * way).  avail: entries published past req_cons, at most the ring size,
 * which bounds the walk. */
static bool net_tx_walk(struct net_ring *q, RING_IDX avail)
{
	RING_IDX i = q->tx.req_cons;
	struct netif_tx_request req, first;
	struct netif_extra_info x;
	bool more;

	q->nslots = q->ndata = q->nextras = 0;
	net_tx_copy(q, i, &first, false);
	q->data[q->ndata++] = first;
	if (first.flags & NETTXF_extra_info) {
		do {
			if (q->nslots == avail)
				return false;
			net_tx_copy(q, i + q->nslots, &req, true);
			memcpy(&x, &req, sizeof(x));
			if (q->nextras < NET_RING_MAX_EXTRAS)
				q->extras[q->nextras] = x;
			q->nextras++;
		} while (x.flags & XEN_NETIF_EXTRA_FLAG_MORE);
	}
	/* Only data requests chain data: flags on extras do not count. */
	more = first.flags & NETTXF_more_data;
	while (more) {
		if (q->nslots == avail)
			return false;
		net_tx_copy(q, i + q->nslots, &req, false);
		if (q->ndata < NET_RING_MAX_SLOTS)
			q->data[q->ndata] = req;
		q->ndata++;
		more = req.flags & NETTXF_more_data;
	}
	return true;
}

/* What the checks found in the extras. */
struct net_tx_extras {
	const struct netif_extra_info *gso; /* the last GSO extra */
	bool mcast;
};

static int net_tx_check_extras(struct net_ring *q, struct net_tx_extras *e)
{
	const struct netif_tx_request *first = &q->data[0];

	memset(e, 0, sizeof(*e));
	if (q->nextras > NET_RING_MAX_EXTRAS) {
		net_fault(q, NET_FAULT_EXTRA, first->id, q->nextras);
		return -1;
	}
	for (unsigned i = 0; i < q->nextras; i++) {
		const struct netif_extra_info *x = &q->extras[i];

		switch (x->type) {
		case XEN_NETIF_EXTRA_TYPE_GSO:
			e->gso = x;
			break;
		case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
		case XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
			e->mcast = true;
			break;
		case XEN_NETIF_EXTRA_TYPE_HASH:
			break; /* a hint for a backend that hashes: not us */
		default:
			net_fault(q, NET_FAULT_EXTRA, first->id, x->type);
			return -1;
		}
	}
	if (e->gso && !e->mcast &&
	    (e->gso->u.gso.size == 0 ||
	     (e->gso->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
	      e->gso->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6))) {
		net_fault(q, NET_FAULT_GSO, first->id,
			  (uint64_t)e->gso->u.gso.type << 16 |
			      e->gso->u.gso.size);
		return -1;
	}
	return 0;
}

/* Sizes and offsets of the data slots; *first_len gets the first
 * fragment's own length. */
static int net_tx_check_layout(struct net_ring *q, unsigned *first_len)
{
	const struct netif_tx_request *first = &q->data[0];
	unsigned rest = 0, i;

	if (first->size < NET_RING_MIN_FRAME) {
		net_fault(q, NET_FAULT_SIZE, first->id, first->size);
		return -1;
	}
	for (i = 1; i < q->ndata; i++)
		rest += q->data[i].size;
	/* A frame of 64 KiB or more wrapped the 16-bit total: the other
	 * fragments then add up to more than it. */
	if (rest > first->size) {
		net_fault(q, NET_FAULT_SIZE, first->id, rest);
		return -1;
	}
	*first_len = first->size - rest;
	for (i = 0; i < q->ndata; i++) {
		const struct netif_tx_request *r = &q->data[i];
		unsigned len = i ? r->size : *first_len;

		if ((unsigned)r->offset + len > NET_PAGE_SIZE) {
			net_fault(q, NET_FAULT_OFFSET, r->id,
				  (uint64_t)r->offset << 16 | len);
			return -1;
		}
	}
	return 0;
}

/* The virtio_net_hdr in front of the frame in q->buf (frame of len
 * bytes).  GSO needs the TCP header located whatever the flags say (the
 * host segments it and writes each segment's checksum); a frontend that
 * sends GSO without csum_blank (NetBSD's did) put a full checksum in the
 * field, which is replaced by the pseudo-header sum NEEDS_CSUM means. */
static int net_tx_vnet_hdr(struct net_ring *q, size_t len,
			   const struct net_tx_extras *e)
{
	const struct netif_tx_request *first = &q->data[0];
	uint8_t *f = q->buf + NET_VNET_HDR_LEN;
	struct virtio_net_hdr h;
	struct net_l4 l4;
	uint64_t s;

	memset(&h, 0, sizeof(h));
	memset(&l4, 0, sizeof(l4));
	if ((first->flags & NETTXF_csum_blank) || e->gso) {
		if (!net_find_l4(f, len, &l4)) {
			net_fault(q, e->gso ? NET_FAULT_GSO : NET_FAULT_CSUM,
				  first->id, len);
			return -1;
		}
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.csum_start = (uint16_t)l4.l4;
		h.csum_offset = l4.proto == IPPROTO_TCP_ ? 16 : 6;
		h.hdr_len = (uint16_t)(l4.l4 + l4.l4_hlen);
	} else if (first->flags & NETTXF_data_validated) {
		h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	if (e->gso) {
		uint8_t want = e->gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4
				   ? VIRTIO_NET_HDR_GSO_TCPV4
				   : VIRTIO_NET_HDR_GSO_TCPV6;

		if (l4.proto != IPPROTO_TCP_ ||
		    l4.v6 != (want == VIRTIO_NET_HDR_GSO_TCPV6)) {
			net_fault(q, NET_FAULT_GSO, first->id,
				  (uint64_t)l4.v6 << 8 | l4.proto);
			return -1;
		}
		h.gso_type = want;
		h.gso_size = e->gso->u.gso.size;
		if (!(first->flags & NETTXF_csum_blank)) {
			unsigned alen = l4.v6 ? 16 : 4;
			unsigned aoff = l4.v6 ? 8 : 12;
			uint64_t l4len = len - l4.l4;

			s = net_sum(f + l4.l3 + aoff, 2 * alen, 0);
			s += IPPROTO_TCP_ + (l4len >> 16) + (l4len & 0xFFFF);
			f[l4.l4 + 16] = (uint8_t)(net_fold(s) >> 8);
			f[l4.l4 + 17] = (uint8_t)net_fold(s);
		}
	}
	memcpy(q->buf, &h, sizeof(h));
	return 0;
}

/* Copies the data slots into q->buf behind the header. */
static int net_tx_gather(struct net_ring *q, unsigned first_len)
{
	uint8_t *at = q->buf + NET_VNET_HDR_LEN;
	int rc;

	for (unsigned i = 0; i < q->ndata; i++) {
		const struct netif_tx_request *r = &q->data[i];
		unsigned len = i ? r->size : first_len;

		rc = net_grant_copy(q->cfg.grant, q->cfg.grant_opaque,
				    q->cfg.domid, r->gref, r->offset, at, len,
				    false);
		if (rc < 0) {
			net_fault(q, NET_FAULT_GRANT, r->id, r->gref);
			return -1;
		}
		at += len;
	}
	return 0;
}

/* Multicast filter requests: the dummy packet only carries them. */
static void net_tx_mcast(struct net_ring *q)
{
	q->st.tx_mcast++;
	if (!q->cfg.host->mcast)
		return;
	for (unsigned i = 0; i < q->nextras; i++) {
		const struct netif_extra_info *x = &q->extras[i];

		if (x->type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD ||
		    x->type == XEN_NETIF_EXTRA_TYPE_MCAST_DEL)
			q->cfg.host->mcast(q->cfg.host_opaque,
					   x->type ==
					       XEN_NETIF_EXTRA_TYPE_MCAST_ADD,
					   x->u.mcast.addr);
	}
}

/* Checks, copies and delivers the walked packet, answers all its entries
 * and consumes them. */
static void net_tx_packet(struct net_ring *q)
{
	struct net_tx_extras e;
	unsigned first_len = 0, i;
	size_t len = q->data[0].size;
	int16_t status = NETIF_RSP_ERROR;
	int rc;

	if (q->ndata > NET_RING_MAX_SLOTS) {
		net_fault(q, NET_FAULT_SLOTS, q->data[0].id, q->ndata);
		goto answer;
	}
	if (net_tx_check_extras(q, &e) < 0)
		goto answer;
	if (e.mcast) {
		net_tx_mcast(q);
		status = NETIF_RSP_OKAY;
		goto answer;
	}
	if (net_tx_check_layout(q, &first_len) < 0 ||
	    net_tx_gather(q, first_len) < 0 || net_tx_vnet_hdr(q, len, &e) < 0)
		goto answer;
	status = NETIF_RSP_OKAY;
	rc = q->cfg.host->deliver(q->cfg.host_opaque, q->buf,
				  NET_VNET_HDR_LEN + len);
	if (rc < 0) {
		q->st.tx_host_errors++;
	} else {
		q->st.tx_packets++;
		q->st.tx_bytes += len;
	}
answer:
	if (status != NETIF_RSP_OKAY)
		q->st.tx_dropped++;
	for (i = 0; i < q->nslots; i++)
		net_tx_respond(q, &q->slots[i], status);
	q->tx.req_cons += q->nslots;
	q->st.tx_slots += q->nslots;
}

/* Whether a producer index is impossible: more requests than entries not
 * yet answered, or a producer behind our consumer. */
static bool net_tx_prod_corrupt(const struct net_ring *q, RING_IDX rp)
{
	return RING_REQUEST_PROD_OVERFLOW(&q->tx, rp) ||
	       (RING_IDX)(rp - q->tx.req_cons) > RING_SIZE(&q->tx);
}

static bool net_rx_prod_corrupt(const struct net_ring *q, RING_IDX rp)
{
	return RING_REQUEST_PROD_OVERFLOW(&q->rx, rp) ||
	       (RING_IDX)(rp - q->rx.req_cons) > RING_SIZE(&q->rx);
}

int net_ring_tx(struct net_ring *q, uint64_t now_us, unsigned *flags,
		uint64_t *retry_at)
{
	unsigned taken = 0, idle = 0;
	bool more = false;
	RING_IDX rp, avail;
	int work;

	*flags = 0;
	while (!q->broken) {
		rp = __atomic_load_n(&q->tx.sring->req_prod, __ATOMIC_RELAXED);
		xen_rmb(); /* entries up to rp are read after rp */
		if (net_tx_prod_corrupt(q, rp)) {
			net_stop(q, "tx", rp, q->tx.req_cons);
			break;
		}
		avail = rp - q->tx.req_cons;
		if (avail == 0) {
			/* Caught up: re-arm req_event, then look again.  A
			 * frontend that moves req_prod back and forth gets
			 * a couple of looks, not a spin. */
			if (++idle > 2)
				break;
			RING_FINAL_CHECK_FOR_REQUESTS(&q->tx, work);
			if (!work)
				break;
			continue;
		}
		if (taken == q->batch) {
			more = true;
			break;
		}
		if (!net_tx_walk(q, avail)) {
			if (avail == RING_SIZE(&q->tx)) {
				/* Every entry is in the chain and none ends
				 * it: the frontend cannot publish more. */
				net_stop(q, "tx chain without end:", rp,
					 q->tx.req_cons);
				break;
			}
			/* The rest is not published yet: an event at the
			 * next entry, then one more look. */
			q->tx.sring->req_event = rp + 1;
			xen_mb();
			if (++idle > 2 ||
			    __atomic_load_n(&q->tx.sring->req_prod,
					    __ATOMIC_RELAXED) == rp)
				break;
			continue;
		}
		if (q->cfg.credit &&
		    !net_credit_take(q->cfg.credit, q->data[0].size, now_us,
				     retry_at)) {
			/* Nothing consumed: the packet is walked again when
			 * the caller comes back at *retry_at. */
			q->st.tx_credit_waits++;
			*flags |= NET_RING_CREDIT;
			break;
		}
		net_tx_packet(q);
		taken++;
		idle = 0;
	}
	if (net_push(&q->tx_pushed, q->tx.rsp_prod_pvt, &q->tx.sring->rsp_prod,
		     &q->tx.sring->rsp_event))
		*flags |= NET_RING_NOTIFY;
	if (more && !q->broken)
		*flags |= NET_RING_MORE;
	return q->broken ? -EIO : 0;
}

/* ---- rx ---- */

/* What a host packet needs on the rx ring. */
struct net_rx_plan {
	struct virtio_net_hdr h;
	const uint8_t *frame;
	size_t len;
	unsigned ndata;	 /* data slots */
	uint8_t gso;	 /* XEN_NETIF_GSO_TYPE_*, NONE for none */
	uint16_t rflags; /* NETRXF_ checksum flags of the first slot */
	/* rx_no_csum: the checksum computed here and where it goes */
	bool patch;
	size_t patch_at;
	uint8_t patch_val[2];
};

static int net_rx_drop(struct net_ring *q, enum net_ring_rx_drop why, int rc)
{
	q->st.rx_drops[why]++;
	q->st.rx_dropped++;
	return rc;
}

/* Checks the host packet and plans its slots. */
static int net_rx_plan(struct net_ring *q, const void *pkt, size_t len,
		       struct net_rx_plan *p)
{
	uint8_t gt;
	bool gso_ok;

	memset(p, 0, sizeof(*p));
	if (len < NET_VNET_HDR_LEN + NET_RING_MIN_FRAME)
		return net_rx_drop(q, NET_RX_DROP_HDR, -EINVAL);
	memcpy(&p->h, pkt, sizeof(p->h));
	p->frame = (const uint8_t *)pkt + NET_VNET_HDR_LEN;
	p->len = len - NET_VNET_HDR_LEN;
	if (p->len > NET_RING_MAX_FRAME ||
	    (!q->cfg.rx_sg && p->len > NET_PAGE_SIZE))
		return net_rx_drop(q, NET_RX_DROP_SIZE, -EMSGSIZE);

	gt = p->h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	if (gt != VIRTIO_NET_HDR_GSO_NONE) {
		/* A frontend that wants its checksums whole cannot take
		 * GSO either: each segment's checksum is its job. */
		if (gt == VIRTIO_NET_HDR_GSO_TCPV4) {
			gso_ok = q->cfg.rx_gso_tcpv4;
			p->gso = XEN_NETIF_GSO_TYPE_TCPV4;
		} else if (gt == VIRTIO_NET_HDR_GSO_TCPV6) {
			gso_ok = q->cfg.rx_gso_tcpv6;
			p->gso = XEN_NETIF_GSO_TYPE_TCPV6;
		} else {
			gso_ok = false;
		}
		if (!gso_ok || q->cfg.rx_no_csum)
			return net_rx_drop(q, NET_RX_DROP_GSO,
					   -EPROTONOSUPPORT);
		if (p->h.gso_size == 0)
			return net_rx_drop(q, NET_RX_DROP_HDR, -EINVAL);
	}
	if (p->h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		size_t start = p->h.csum_start, at;

		at = start + p->h.csum_offset;
		if (at + 2 > p->len)
			return net_rx_drop(q, NET_RX_DROP_HDR, -EINVAL);
		if (q->cfg.rx_no_csum) {
			/* Finish it as the host would have: the field
			 * holds the pseudo-header sum; UDP's zero means
			 * "none", so a computed zero is sent as 0xFFFF. */
			uint16_t c = (uint16_t)~net_fold(
			    net_sum(p->frame + start, p->len - start, 0));

			if (c == 0 && p->h.csum_offset == 6)
				c = 0xFFFF;
			p->patch = true;
			p->patch_at = at;
			p->patch_val[0] = (uint8_t)(c >> 8);
			p->patch_val[1] = (uint8_t)c;
			p->rflags = NETRXF_data_validated;
		} else {
			p->rflags = NETRXF_csum_blank | NETRXF_data_validated;
		}
	} else if (p->h.flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		p->rflags = NETRXF_data_validated;
	}
	p->ndata = (unsigned)((p->len + NET_PAGE_SIZE - 1) / NET_PAGE_SIZE);
	return 0;
}

/* Copies chunk k of the frame into the buffer granted as ref, with the
 * computed checksum bytes in place of the host's.  0 or -errno. */
static int net_rx_fill(struct net_ring *q, const struct net_rx_plan *p,
		       unsigned k, grant_ref_t ref, size_t clen)
{
	size_t start = (size_t)k * NET_PAGE_SIZE;
	int rc;

	rc = net_grant_copy(q->cfg.grant, q->cfg.grant_opaque, q->cfg.domid,
			    ref, 0, (void *)(p->frame + start), clen, true);
	for (unsigned b = 0; rc == 0 && p->patch && b < 2; b++) {
		size_t at = p->patch_at + b;

		if (at >= start && at < start + clen)
			rc = net_grant_copy(q->cfg.grant, q->cfg.grant_opaque,
					    q->cfg.domid, ref,
					    (unsigned)(at - start),
					    (void *)&p->patch_val[b], 1, true);
	}
	return rc;
}

int net_ring_rx(struct net_ring *q, const void *pkt, size_t len,
		unsigned *flags)
{
	struct netif_rx_response rsp;
	struct netif_rx_request req;
	struct net_rx_plan p;
	unsigned need, s, k = 0;
	bool failed = false;
	RING_IDX rp;
	int rc;

	*flags = 0;
	if (q->broken)
		return -EIO;
	rc = net_rx_plan(q, pkt, len, &p);
	if (rc < 0)
		return rc;
	need = p.ndata + (p.gso ? 1 : 0);

	rp = __atomic_load_n(&q->rx.sring->req_prod, __ATOMIC_RELAXED);
	xen_rmb();
	if ((RING_IDX)(rp - q->rx.req_cons) < need &&
	    !net_rx_prod_corrupt(q, rp)) {
		/* Ask for an event once enough are posted, then look
		 * again: they may have come meanwhile. */
		q->rx.sring->req_event = q->rx.req_cons + need;
		xen_mb();
		rp = __atomic_load_n(&q->rx.sring->req_prod, __ATOMIC_RELAXED);
		xen_rmb();
	}
	if (net_rx_prod_corrupt(q, rp)) {
		net_stop(q, "rx", rp, q->rx.req_cons);
		return -EIO;
	}
	if ((RING_IDX)(rp - q->rx.req_cons) < need) {
		q->st.rx_nobuf++;
		return -EAGAIN;
	}

	for (s = 0; s < need; s++) {
		RING_COPY_REQUEST(&q->rx, q->rx.req_cons, &req);
		q->rx.req_cons++;
		memset(&rsp, 0, sizeof(rsp));
		if (s == 1 && p.gso) {
			struct netif_extra_info x;

			/* Overlays this entry's response: no id, no
			 * status; the buffer posted here is not used. */
			memset(&x, 0, sizeof(x));
			x.type = XEN_NETIF_EXTRA_TYPE_GSO;
			x.u.gso.size = p.h.gso_size;
			x.u.gso.type = p.gso;
			memcpy(&rsp, &x, sizeof(x));
		} else {
			size_t clen = p.len - (size_t)k * NET_PAGE_SIZE;

			if (clen > NET_PAGE_SIZE)
				clen = NET_PAGE_SIZE;
			if (!failed) {
				rc = net_rx_fill(q, &p, k, req.gref, clen);
				if (rc < 0) {
					failed = true;
					net_fault(q, NET_FAULT_GRANT, req.id,
						  req.gref);
				}
			}
			rsp.id = req.id;
			rsp.offset = 0;
			rsp.flags = k + 1 < p.ndata ? NETRXF_more_data : 0;
			if (k == 0) {
				rsp.flags |= p.rflags;
				if (p.gso)
					rsp.flags |= NETRXF_extra_info;
			}
			rsp.status = (int16_t)clen;
			k++;
		}
		memcpy(RING_GET_RESPONSE(&q->rx, q->rx.rsp_prod_pvt), &rsp,
		       sizeof(rsp));
		q->rx.rsp_prod_pvt++;
	}
	if (failed) {
		/* Every data slot of the packet says ERROR (the flags stay,
		 * so the frontend can walk and recycle them). */
		RING_IDX i = q->rx.rsp_prod_pvt - need;

		for (s = 0; s < need; s++, i++) {
			if (s == 1 && p.gso)
				continue;
			RING_GET_RESPONSE(&q->rx, i)->status = NETIF_RSP_ERROR;
		}
		q->st.rx_dropped++;
	} else {
		q->st.rx_packets++;
		q->st.rx_bytes += p.len;
		if (p.patch)
			q->st.rx_csum_completed++;
	}
	q->st.rx_slots += need;
	if (net_push(&q->rx_pushed, q->rx.rsp_prod_pvt, &q->rx.sring->rsp_prod,
		     &q->rx.sring->rsp_event))
		*flags |= NET_RING_NOTIFY;
	return failed ? -EFAULT : 0;
}

void net_ring_rx_drop(struct net_ring *q)
{
	net_rx_drop(q, NET_RX_DROP_NOBUF, 0);
}

unsigned net_ring_rx_posted(const struct net_ring *q)
{
	RING_IDX rp = __atomic_load_n(&q->rx.sring->req_prod, __ATOMIC_RELAXED);

	if (q->broken || net_rx_prod_corrupt(q, rp))
		return 0;
	return rp - q->rx.req_cons;
}

/* ---- set-up ---- */

int net_ring_create(const struct net_ring_config *cfg, struct net_ring **out)
{
	const struct net_grant_ops *g = cfg->grant;
	struct net_ring *q;

	*out = NULL;
	if (!cfg->tx_sring || !cfg->rx_sring || !g || !g->map || !g->unmap ||
	    !cfg->host || !cfg->host->deliver || !cfg->tx_buf ||
	    cfg->tx_buf_size < NET_RING_TX_BUF_SIZE)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->cfg = *cfg;
	BACK_RING_INIT(&q->tx, cfg->tx_sring, NET_PAGE_SIZE);
	BACK_RING_INIT(&q->rx, cfg->rx_sring, NET_PAGE_SIZE);
	q->batch = cfg->batch ? cfg->batch : 64;
	q->buf = cfg->tx_buf;
	*out = q;
	return 0;
}

void net_ring_destroy(struct net_ring *q)
{
	free(q);
}

unsigned net_ring_tx_size(const struct net_ring *q)
{
	return RING_SIZE(&q->tx);
}

unsigned net_ring_rx_size(const struct net_ring *q)
{
	return RING_SIZE(&q->rx);
}

void net_ring_get_stats(const struct net_ring *q, struct net_ring_stats *st)
{
	*st = q->st;
}
