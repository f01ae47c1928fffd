/* Grant tables of one domain (versions 1 and 2).
 *
 * An HVM/PVH guest picks the guest-physical frame numbers where grant
 * frames go (XENMEM_add_to_physmap, XENMAPSPACE_grant_table).  Linux takes
 * them from unpopulated address space above its RAM, so each grant frame
 * is a page of our own (a memfd, `pages`) that a one-page KVM memory slot
 * puts at that gfn; if the guest picks a gfn that is RAM, that RAM page is
 * the frame.  Backends read grant entries in place through frame_host. */
#ifndef KXEN_DOMAIN_GNTTAB_H
#define KXEN_DOMAIN_GNTTAB_H

#include <stdbool.h>
#include <stdint.h>

struct domain;
struct vcpu;

/* Xen's default max_grant_frames (xl.cfg) and what v2 needs for status. */
#define GNTTAB_MAX_FRAMES 64
#define GNTTAB_MAX_STATUS_FRAMES 16

#define GNTTAB_NR_PAGES (GNTTAB_MAX_FRAMES + GNTTAB_MAX_STATUS_FRAMES)
/* KVM memory slots 0 and 1 are RAM; grant pages use the ones after. */
#define GNTTAB_FIRST_SLOT 2

struct gnttab {
	uint32_t version;                   /* 1 or 2 */
	int fd;                             /* memfd of the frames */
	uint8_t *pages;                     /* its mapping */
	/* Per page (grant frames, then status frames): where the guest
	 * sees it (0 = nowhere) and where we reach it. */
	uint64_t gpfn[GNTTAB_NR_PAGES];
	uint8_t *host[GNTTAB_NR_PAGES];
	bool slot_used[GNTTAB_NR_PAGES];
};

int gnttab_init(struct domain *d);
void gnttab_fini(struct domain *d);

/* GNTTABOP_* from the guest: cmd, guest-virtual uop, count. */
long gnttab_hypercall(struct vcpu *v, uint64_t cmd, uint64_t uop,
		      uint64_t count);

/* XENMEM_add_to_physmap for XENMAPSPACE_grant_table: places grant frame
 * idx (or status frame, with XENMAPIDX_grant_table_status) at gpfn.
 * 0 or -errno. */
long gnttab_map_frame(struct domain *d, uint64_t idx, uint64_t gpfn);

#endif
