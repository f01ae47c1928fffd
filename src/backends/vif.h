/* Virtual network interfaces: the xenbus half of Linux's netback, serving
 * an unmodified xen-netfront from the domain process over a TAP device.
 *
 * The toolstack (kxl, or this process at start-up for --vif) writes the
 * device's directories (src/xl/devnodes.h); this module watches
 * /local/domain/0/backend/vif/<domid> and, for each device:
 *
 *   backend                            frontend (xen-netfront)
 *   opens TAP vif<domid>.<devid> (or
 *   the "vifname" key, multi-queue),
 *   runs the hot-plug script (online),
 *   writes the feature keys (split
 *   event channels, queues: one per
 *   vCPU, at most 4), InitWait       ->
 *                                    <- multi-queue-num-queues (if > 1),
 *                                       per queue (queue-<n>/ if > 1)
 *                                       tx-ring-ref, rx-ring-ref,
 *                                       event-channel (or -tx/-rx),
 *                                       request-rx-copy, feature-*,
 *                                       state Connected
 *   maps each queue's rings, attaches
 *   a TAP queue per netif queue, binds
 *   the channel(s), sets the TAP's
 *   offloads to what the frontend
 *   takes, state Connected           ->
 *
 * Data path, on the domain's event loop, per queue: a tx event runs the
 * queue's net_ring_tx, whose deliver() writes each packet to the queue's
 * TAP fd; a readable TAP fd runs its queue's net_ring_rx, and when the
 * guest has no buffer posted there the packet is kept and that fd left
 * unread until the queue's rx event says it posted some.  The backend's
 * "rate" key ("bytes,usec", libxl's) feeds one net_credit shared by the
 * queues.
 *
 * Detach follows vbd.c (online = 0 and Closing from the toolstack); the
 * hot-plug script runs with "offline" when the device goes.  A frontend
 * that corrupts a ring gets Closing and one log line (net_ring logs the
 * rest). */
#ifndef KXEN_BACKENDS_VIF_H
#define KXEN_BACKENDS_VIF_H

#include <stdint.h>

#include "backends/backend.h"
#include "backends/xenbus.h"

struct vif_backend;

/* Starts watching the domain's vif backend directory.  0 and *out, or
 * -errno. */
int vif_backend_start(struct xenbus *xb, const struct be_guest *g,
		      struct vif_backend **out);
/* One device's counters, as xentop shows them, seen from the guest: tx is
 * what it sent (frames its netfront queued that went to the TAP), rx what
 * it received (frames copied into its buffers).  They count from the
 * device's attach, across frontend reconnections. */
struct vif_stats {
	uint32_t devid;
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
};

/* Fills out[0..max) with the served devices' counters, in no particular
 * order; returns how many it filled.  From the backend's thread.  NULL
 * serves none. */
unsigned vif_backend_stats(const struct vif_backend *vb, struct vif_stats *out,
			   unsigned max);
/* Disconnects every device, runs its script's offline, closes the TAPs
 * and stops watching; the xenstore directories are the toolstack's to
 * remove.  NULL is a no-op. */
void vif_backend_stop(struct vif_backend *vb);

#endif
