/* The domain process's device backends (disks now, network later): their
 * xenstore connection, the devices named on the command line, and the
 * be_guest interface through which they reach this domain's grants and
 * event channels. */
#ifndef KXEN_DOMAIN_BACKENDS_H
#define KXEN_DOMAIN_BACKENDS_H

#include <stdint.h>

struct domain;

/* Writes the device directories of the config's disks (as the toolstack
 * would) and starts the backends, which then also serve devices hot-plugged
 * later.  Without disks and without a xenstore it does nothing.  0 or
 * -errno (a disk that cannot be set up stops the build). */
int backends_start(struct domain *d);
/* Disconnects every device (their I/O drained) and removes the backend
 * directories. */
void backends_stop(struct domain *d);
struct vbd_stats;
struct vif_stats;
/* The counters of the disks and vifs served now (kxl top): fills up to
 * *nr_vbd entries of vbd and *nr_vif of vif and sets both to the counts
 * filled (0 for a domain without backends).  Main thread. */
void backends_stats(struct domain *d, struct vbd_stats *vbd, unsigned *nr_vbd,
		    struct vif_stats *vif, unsigned *nr_vif);
/* kxend went away: the backends' connection must be made again. */
void backends_store_lost(struct domain *d);
/* Reconnects to xenstore when due; next attempt (monotonic ns) or 0. */
uint64_t backends_poll(struct domain *d, uint64_t now);

#endif
