/* Virtual block devices: the xenbus half of Linux's blkback, serving an
 * unmodified xen-blkfront from the domain process.
 *
 * The toolstack (kxl, or this process at start-up for the config's disks)
 * writes a device's frontend and backend directories, as libxl does (see
 * src/xl/devnodes.h); this module watches
 * /local/domain/0/backend/vbd/<domid> and, for each device that appears:
 *
 *   backend                         frontend (xen-blkfront)
 *   opens the storage, writes the
 *   feature keys, state InitWait  ->
 *                                 <- ring-ref(s), event-channel(s),
 *                                    protocol, state Initialised
 *   maps the ring, binds the port,
 *   writes sectors/info/sector-size,
 *   state Connected               ->
 *                                 <- state Connected (disk appears)
 *
 * Detach (kxl block-detach, like libxl): the toolstack writes online = 0
 * and state = Closing; the frontend closes; when it is Closed we drain the
 * I/O in flight, release the ring and say Closed; the toolstack then
 * removes both directories and we free the device.  A frontend that closes
 * on its own (module unload, kexec) and comes back finds us in InitWait
 * again.
 *
 * The ring protocol is blk_ring.c's; the host storage blk_storage*.c's. */
#ifndef KXEN_BACKENDS_VBD_H
#define KXEN_BACKENDS_VBD_H

#include <stdint.h>

#include "backends/backend.h"
#include "backends/xenbus.h"

struct vbd_backend;

/* Opens the devices already in the domain's vbd backend directory, then
 * watches it for more.  0 and *out, or -errno. */
int vbd_backend_start(struct xenbus *xb, const struct be_guest *g,
		      struct vbd_backend **out);
/* Devices being served (opened, in any state). */
unsigned vbd_backend_count(const struct vbd_backend *vb);
/* One device's counters, as xentop shows them (Linux blkback's
 * statistics): reads and writes completed, their 512-byte sectors, and
 * the times requests waited on the ring for a free slot (oo_req).  They
 * count from the device's attach, across frontend reconnections. */
struct vbd_stats {
	uint32_t devid;
	uint64_t rd_req, wr_req, oo_req, rd_sect, wr_sect;
};

/* Fills out[0..max) with the served devices' counters, in no particular
 * order; returns how many it filled.  From the backend's thread (the
 * counters are plain fields of its event loop).  NULL serves none. */
unsigned vbd_backend_stats(const struct vbd_backend *vb, struct vbd_stats *out,
			   unsigned max);
/* Disconnects every device (draining its I/O), closes the storage and
 * stops watching; the xenstore directories are the toolstack's to remove.
 * NULL is a no-op. */
void vbd_backend_stop(struct vbd_backend *vb);

#endif
