/* Network backend ring protocol (the vif half of what Linux's netback
 * does), one queue at a time: takes the guest's packets off a netif tx
 * ring, checks every slot, copies the bytes out of the granted pages into
 * one buffer behind a virtio_net_hdr and hands it to the host side; copies
 * host packets (virtio_net_hdr + frame) into the buffers the guest posted
 * on the rx ring.  No I/O, no KVM, no xenstore, no clock: the caller's
 * event loop drives it and passes the time in; unit tests drive it with a
 * fake grant table and a fake host.  It knows nothing of TAP devices: the
 * host side is a callback.  Copy mode only (feature-rx-copy), one-page
 * rings (netif has no ring-page-order).
 *
 * Threading: a queue and everything it calls belong to one thread (the
 * backend's event loop); a net_credit shared by several queues too. */
#ifndef KXEN_BACKENDS_NET_RING_H
#define KXEN_BACKENDS_NET_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h> /* io/ring.h's FLEX macros use memcpy */
#include <linux/virtio_net.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>

/* A granted frame is a 4096-byte page. */
#define NET_PAGE_SIZE 4096u
/* Data slots one packet may use, each way: XEN_NETIF_NR_SLOTS_MIN, the
 * figure every frontend is known to respect (Linux netback's default
 * max_slots).  A complete tx packet with more is dropped (Linux drops up
 * to its fatal_skb_slots and disables the vif beyond: here every slot can
 * be answered, so the frontend is never cut off for it). */
#define NET_RING_MAX_SLOTS XEN_NETIF_NR_SLOTS_MIN
/* Extra-info slots one tx packet may carry: one of each known type. */
#define NET_RING_MAX_EXTRAS (XEN_NETIF_EXTRA_TYPE_MAX - 1)
/* Largest frame each way: the tx size field is 16 bits. */
#define NET_RING_MAX_FRAME XEN_NETIF_MAX_TX_SIZE
/* Shortest tx frame: an Ethernet header (Linux netback's ETH_HLEN). */
#define NET_RING_MIN_FRAME 14u
/* The host side's packets: a virtio_net_hdr (the 10-byte legacy layout,
 * in host byte order, as a TAP with IFF_VNET_HDR reads and writes them on
 * x86) followed by the Ethernet frame. */
#define NET_VNET_HDR_LEN sizeof(struct virtio_net_hdr)
#define NET_RING_TX_BUF_SIZE (NET_VNET_HDR_LEN + NET_RING_MAX_FRAME)

/* ---- grant interface (the same shape as blk_grant_ops) ----
 *
 * map: makes grant `ref` of domain `domid` (the frontend) reachable and
 * returns in *page the host address of the whole granted 4096-byte frame.
 * `writable` is true when the backend will write into it (an rx buffer),
 * false when it only reads it (a tx buffer: netfront grants those
 * read-only).  0 or -errno, *page untouched on failure: -EINVAL ref beyond
 * the table, -EPERM not granted to us or read-only while `writable` is
 * asked, -EBUSY entry being changed, -EFAULT frame not guest RAM.
 * unmap: releases one map of `ref` made with the same `writable`; `page`
 * is what map returned.  Cannot fail. */
struct net_grant_ops {
	int (*map)(void *opaque, uint16_t domid, grant_ref_t ref, bool writable,
		   void **page);
	void (*unmap)(void *opaque, uint16_t domid, grant_ref_t ref,
		      bool writable, void *page);
};

/* Copies len bytes between buf and [offset, offset + len) of the page
 * granted as ref: out of the page (to_guest false, mapped read-only) or
 * into it (to_guest true, mapped writable).  The range is checked before
 * anything is mapped: -EINVAL when it leaves the page.  len 0 copies
 * nothing and maps nothing.  0, or map's -errno.  The ring's own copies go
 * through this. */
int net_grant_copy(const struct net_grant_ops *ops, void *opaque,
		   uint16_t domid, grant_ref_t ref, unsigned offset, void *buf,
		   size_t len, bool to_guest);

/* ---- the host side ---- */

struct net_host_ops {
	/* One guest packet: NET_VNET_HDR_LEN bytes of virtio_net_hdr, then
	 * the frame; pkt is the config's tx_buf, valid during the call only.
	 * 0 or -errno: a failure is counted (tx_host_errors) and the packet
	 * lost, as a NIC's; the frontend is still answered OKAY.  Required. */
	int (*deliver)(void *opaque, const void *pkt, size_t len);
	/* A multicast filter request (XEN_NETIF_EXTRA_TYPE_MCAST_ADD/DEL in
	 * a dummy tx packet; only sent by frontends offered
	 * feature-multicast-control).  May be NULL: the requests are then
	 * answered and ignored. */
	void (*mcast)(void *opaque, bool add, const uint8_t addr[6]);
};

/* ---- the rate limit (vif rate=, Linux netback's credit scheduler) ----
 *
 * `bytes` may be sent per `usec` microseconds (libxl writes both to the
 * backend's "rate" key from rate=10Mb/s@20ms: 25000 bytes per 20000 µs).
 * Credit comes in chunks of `bytes`: when a packet does not fit in what is
 * left, and at least `usec` has passed since the last chunk, a new chunk
 * is added; unused credit is kept up to max(bytes, 131072), so that a
 * 64 KiB packet gets through even a small rate.  Each tx packet is charged
 * its declared total size when it is taken, before it is checked (a
 * frontend cannot escape the limit with malformed packets).  The clock is
 * the caller's (CLOCK_MONOTONIC in µs, say): it is only ever passed in.
 *
 * The caller owns the struct; several queues of one vif may share it
 * (one thread).  Fields are private to net_credit_* and net_ring_tx. */
struct net_credit {
	uint64_t bytes; /* per interval; 0: no limit */
	uint64_t usec;	/* the interval */
	uint64_t remaining;
	uint64_t window_start; /* when the last chunk was added */
};

/* Sets the limit (bytes 0: none) and starts with one full chunk at now.
 * -EINVAL (and no limit) for usec 0 with a rate. */
int net_credit_init(struct net_credit *c, uint64_t bytes, uint64_t usec,
		    uint64_t now_us);

/* Takes size bytes of credit at now: true if they were there, else false
 * with *retry_at set to when the next chunk comes (nothing taken). */
bool net_credit_take(struct net_credit *c, uint64_t size, uint64_t now_us,
		     uint64_t *retry_at);

/* ---- the queue ---- */

struct net_ring_config {
	/* The shared rings (one page each), already mapped by the caller;
	 * the frontend initialised them (SHARED_RING_INIT). */
	struct netif_tx_sring *tx_sring;
	struct netif_rx_sring *rx_sring;
	uint16_t domid; /* frontend domain: for grant maps and log lines */
	uint32_t devid; /* vif device number: for log lines */
	unsigned queue; /* queue index: for log lines */
	/* What the frontend said it takes on its rx ring: */
	bool rx_sg;	   /* feature-sg: a frame over several slots */
	bool rx_gso_tcpv4; /* feature-gso-tcpv4 */
	bool rx_gso_tcpv6; /* feature-gso-tcpv6 */
	/* feature-no-csum-offload: partial checksums are completed here
	 * before they reach it, and GSO frames (whose segments' checksums
	 * would be its job) are not given to it. */
	bool rx_no_csum;
	/* tx packets taken per net_ring_tx() before it yields (reporting
	 * NET_RING_MORE); 0 means 64 (a NAPI weight). */
	unsigned batch;
	/* The rate limit, or NULL for none; may be shared (see above). */
	struct net_credit *credit;
	/* Where tx packets are assembled: at least NET_RING_TX_BUF_SIZE
	 * bytes, the caller's, may be shared by the queues of one thread. */
	void *tx_buf;
	size_t tx_buf_size;
	const struct net_grant_ops *grant;
	void *grant_opaque;
	const struct net_host_ops *host;
	void *host_opaque;
};

/* Kinds of frontend misbehaviour, each counted (once per packet dropped
 * for it) and logged once per (kind, domid, devid). */
enum net_ring_fault {
	NET_FAULT_GRANT,  /* a grant the grant interface refused (tx or rx) */
	NET_FAULT_SLOTS,  /* more than NET_RING_MAX_SLOTS data slots */
	NET_FAULT_SIZE,	  /* frame shorter than an Ethernet header (zero
			     included), or slots adding up to more than the
			     first slot's total (a frame over 64 KiB) */
	NET_FAULT_OFFSET, /* offset + size past the end of the page */
	NET_FAULT_EXTRA,  /* extra info of an unknown type, or too many */
	NET_FAULT_GSO,	  /* GSO extra with size 0 or an unknown type, or on
			     a frame that is not TCP of that IP version */
	NET_FAULT_CSUM,	  /* checksum offload asked on a frame that is not
			     TCP or UDP over IPv4/IPv6 (or is a fragment) */
	NET_FAULT_RING,	  /* corrupted indices, or a packet that can never
			     end: the queue is stopped */
	NET_FAULT_NR
};

/* Host packets net_ring_rx() could not give the guest (the host's side or
 * the guest's configuration, not a fault of the frontend). */
enum net_ring_rx_drop {
	NET_RX_DROP_HDR,   /* runt, or a virtio_net_hdr that makes no sense */
	NET_RX_DROP_SIZE,  /* frame over NET_RING_MAX_FRAME, or over one
			      page for a frontend without feature-sg */
	NET_RX_DROP_GSO,   /* a GSO type the frontend did not ask for */
	NET_RX_DROP_NOBUF, /* given up by the caller (net_ring_rx_drop) */
	NET_RX_DROP_NR
};

struct net_ring_stats {
	uint64_t tx_packets, tx_bytes; /* frames handed to deliver() */
	uint64_t tx_dropped;	       /* tx packets dropped for a fault */
	uint64_t tx_host_errors;       /* deliver() failed */
	uint64_t tx_mcast;	       /* multicast filter requests */
	uint64_t tx_credit_waits;      /* calls held back by the rate limit */
	uint64_t tx_slots;	       /* tx ring entries consumed */
	uint64_t rx_packets, rx_bytes; /* frames copied into the guest */
	uint64_t rx_dropped;	       /* rx packets dropped, any reason */
	uint64_t rx_nobuf;	       /* -EAGAIN answers */
	uint64_t rx_csum_completed;    /* checksums finished for rx_no_csum */
	uint64_t rx_slots;	       /* rx ring entries consumed */
	uint64_t faults[NET_FAULT_NR];
	uint64_t rx_drops[NET_RX_DROP_NR];
};

struct net_ring;

/* Checks cfg (-EINVAL: a ring missing, grant or deliver missing, tx_buf
 * too small) and allocates the queue; nothing later allocates.  0 and
 * *out, or -errno. */
int net_ring_create(const struct net_ring_config *cfg, struct net_ring **out);

/* Frees the queue (no grant is held between calls).  NULL is a no-op. */
void net_ring_destroy(struct net_ring *q);

/* Flags reported by net_ring_tx() and net_ring_rx().
 * NOTIFY: send the frontend an event on the channel of the ring this call
 *         answered (event-channel-tx or -rx; the same one unsplit);
 * MORE:   tx: packets are waiting that could be taken now: call
 *         net_ring_tx() again soon;
 * CREDIT: tx: held back by the rate limit: call net_ring_tx() again at
 *         *retry_at. */
#define NET_RING_NOTIFY 0x1u
#define NET_RING_MORE 0x2u
#define NET_RING_CREDIT 0x4u

/* Guest -> host.  Call it when the tx event channel fires, when the
 * credit time comes, and after NET_RING_MORE.  Takes up to `batch`
 * packets: for each, the first slot, its extra-info slots and its
 * NETTXF_more_data continuation slots; checks them; copies the data into
 * tx_buf behind a virtio_net_hdr (NEEDS_CSUM with csum_start/csum_offset
 * for NETTXF_csum_blank, DATA_VALID for NETTXF_data_validated, gso_type/
 * gso_size/hdr_len from a GSO extra) and calls deliver(); answers every
 * data slot (NETIF_RSP_OKAY, or NETIF_RSP_ERROR on each slot of a dropped
 * packet) and every extra slot (NETIF_RSP_NULL).  A packet whose last
 * published slot still says more_data is left on the ring until the rest
 * is published.  When it has caught up it re-arms req_event.
 * *flags: NET_RING_NOTIFY when the frontend's rsp_event asks for an event
 * (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY); NET_RING_MORE; NET_RING_CREDIT
 * with *retry_at (caller's clock; else left alone) when the next packet
 * waits for credit.
 * Returns 0, or -EIO once the frontend corrupted an index of this queue's
 * rings: nothing more is taken from either (NOTIFY is still reported for
 * responses pushed before); the caller should close the device. */
int net_ring_tx(struct net_ring *q, uint64_t now_us, unsigned *flags,
		uint64_t *retry_at);

/* Host -> guest: one packet, NET_VNET_HDR_LEN bytes of virtio_net_hdr and
 * the frame, copied into the next posted rx buffers: one slot, or with
 * rx_sg as many 4096-byte slots as it takes, plus a GSO extra-info slot
 * for TCPv4/TCPv6 GSO the frontend asked for; NETRXF_csum_blank |
 * NETRXF_data_validated for NEEDS_CSUM (completed here instead, with
 * data_validated, for rx_no_csum), NETRXF_data_validated for DATA_VALID.
 * Responses pushed at once; *flags gets NET_RING_NOTIFY as for tx.
 * Returns:
 *   0        the packet is in the guest;
 *   -EAGAIN  not enough buffers posted: nothing consumed, req_event armed
 *            so that the frontend's posting of enough of them raises the
 *            rx event channel; the packet is still the caller's: keep it
 *            and call again then, or give it up with net_ring_rx_drop();
 *   -EINVAL, -EMSGSIZE, -EPROTONOSUPPORT  dropped, NET_RX_DROP_HDR,
 *            _SIZE, _GSO (nothing consumed);
 *   -EFAULT  a buffer's grant was refused: the slots taken are answered
 *            NETIF_RSP_ERROR (NET_FAULT_GRANT);
 *   -EIO     the queue is stopped (as for tx).
 * Anything but -EAGAIN means the caller is done with the packet. */
int net_ring_rx(struct net_ring *q, const void *pkt, size_t len,
		unsigned *flags);

/* Counts a host packet the caller gave up on after -EAGAIN. */
void net_ring_rx_drop(struct net_ring *q);

/* rx buffers posted and not yet used (0 when the indices are corrupt). */
unsigned net_ring_rx_posted(const struct net_ring *q);

/* The tx and rx rings' sizes in entries (256 each for one page). */
unsigned net_ring_tx_size(const struct net_ring *q);
unsigned net_ring_rx_size(const struct net_ring *q);

void net_ring_get_stats(const struct net_ring *q, struct net_ring_stats *st);

/* Name of a fault kind, as used in log lines. */
const char *net_ring_fault_name(enum net_ring_fault f);

#endif
