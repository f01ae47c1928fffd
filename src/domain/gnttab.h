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
	/* Per grant reference: how many times domain 0 has it mapped for
	 * reading and for writing (Xen's GTF_reading/GTF_writing stay set
	 * while either count is non-zero). */
	uint16_t *readers, *writers;
};

int gnttab_init(struct domain *d);
void gnttab_fini(struct domain *d);

/* Whether a backend holds any grant of this table mapped.  Caller holds
 * d->lock or knows no backend runs. */
bool gnttab_in_use(const struct gnttab *g);
/* Number of grant frames the guest has placed (0..GNTTAB_MAX_FRAMES). */
uint32_t gnttab_nr_frames(const struct gnttab *g);
/* Puts page i of the grant memfd at gpfn with its own KVM memory slot, or
 * removes it (gpfn 0).  Caller holds d->lock.  0 or -errno. */
int gnttab_slot(struct domain *d, unsigned i, uint64_t gpfn);

/* GNTTABOP_* from the guest: cmd, guest-virtual uop, count. */
long gnttab_hypercall(struct vcpu *v, uint64_t cmd, uint64_t uop,
		      uint64_t count);

/* Maps grant reference `ref` of domain d for a backend (domain 0): the
 * entry must be GTF_permit_access to domain 0, not GTF_readonly when
 * `write`, and name a frame of the guest's RAM.  Marks it in use
 * (GTF_reading, and GTF_writing for `write`) as Xen does, so the guest can
 * see its page is busy.  Returns a host pointer to the 4096-byte page, or
 * NULL with *err = -EINVAL (bad ref or frame), -EACCES (not granted to us,
 * or read-only), -EBUSY (entry changed under us).  Each successful map
 * needs one gnttab_unmap_ref() with the same `write`.  Thread-safe. */
void *gnttab_map_ref(struct domain *d, uint32_t ref, bool write, int *err);
void gnttab_unmap_ref(struct domain *d, uint32_t ref, bool write);

/* XENMEM_add_to_physmap for XENMAPSPACE_grant_table: places grant frame
 * idx (or status frame, with XENMAPIDX_grant_table_status) at gpfn.
 * 0 or -errno. */
long gnttab_map_frame(struct domain *d, uint64_t idx, uint64_t gpfn);

#endif
