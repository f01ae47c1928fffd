/* Grant tables: frame placement and mapping grants for backends. */
#include <stdint.h>
#include "domain/gnttab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/grant_table.h>
#include <xen/memory.h>

#include "common/log.h"
#include "domain/boot/layout.h"
#include "domain/domain.h"

/* Grant references one table can hold at most (v1 entries are smaller). */
#define GNTTAB_MAX_REFS (GNTTAB_MAX_FRAMES * (GUEST_PAGE_SIZE / 8))

int gnttab_init(struct domain *d)
{
	struct gnttab *g = &d->gnttab;
	void *p;

	memset(g, 0, sizeof(*g));
	g->version = 1;
	g->readers = calloc(GNTTAB_MAX_REFS, sizeof(*g->readers));
	g->writers = calloc(GNTTAB_MAX_REFS, sizeof(*g->writers));
	if (!g->readers || !g->writers)
		return -ENOMEM;
	g->fd = memfd_create("kxen-grant-frames", MFD_CLOEXEC);
	if (g->fd < 0)
		return -errno;
	if (ftruncate(g->fd, GNTTAB_NR_PAGES * GUEST_PAGE_SIZE) < 0)
		return -errno;
	p = mmap(NULL, GNTTAB_NR_PAGES * GUEST_PAGE_SIZE,
		 PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	g->pages = p;
	return 0;
}

void gnttab_fini(struct domain *d)
{
	struct gnttab *g = &d->gnttab;

	if (g->pages)
		munmap(g->pages, GNTTAB_NR_PAGES * GUEST_PAGE_SIZE);
	if (g->fd >= 0)
		close(g->fd);
	free(g->readers);
	free(g->writers);
	g->readers = g->writers = NULL;
	g->pages = NULL;
	g->fd = -1;
}

/* Where the entry for ref lives: its 16-bit flags (v1: the entry's own;
 * v2: the status frame's), its domid and its frame.  Caller holds d->lock.
 * NULL if ref is beyond the frames the guest has set up. */
static uint16_t *gnttab_locate(struct gnttab *g, uint32_t ref,
			       uint16_t *domid, uint64_t *frame,
			       uint16_t *hdr_flags)
{
	if (g->version == 1) {
		uint32_t per = GUEST_PAGE_SIZE / sizeof(struct grant_entry_v1);
		struct grant_entry_v1 *e;

		if (ref / per >= GNTTAB_MAX_FRAMES || !g->host[ref / per])
			return NULL;
		e = (struct grant_entry_v1 *)g->host[ref / per] + ref % per;
		*domid = __atomic_load_n(&e->domid, __ATOMIC_ACQUIRE);
		*frame = __atomic_load_n(&e->frame, __ATOMIC_ACQUIRE);
		*hdr_flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
		return &e->flags;
	} else {
		uint32_t per = GUEST_PAGE_SIZE / sizeof(union grant_entry_v2);
		uint32_t sper = GUEST_PAGE_SIZE / sizeof(grant_status_t);
		union grant_entry_v2 *e;

		if (ref / per >= GNTTAB_MAX_FRAMES || !g->host[ref / per] ||
		    ref / sper >= GNTTAB_MAX_STATUS_FRAMES ||
		    !g->host[GNTTAB_MAX_FRAMES + ref / sper])
			return NULL;
		e = (union grant_entry_v2 *)g->host[ref / per] + ref % per;
		*domid = __atomic_load_n(&e->hdr.domid, __ATOMIC_ACQUIRE);
		*frame = __atomic_load_n(&e->full_page.frame, __ATOMIC_ACQUIRE);
		*hdr_flags = __atomic_load_n(&e->hdr.flags, __ATOMIC_ACQUIRE);
		return (grant_status_t *)g->host[GNTTAB_MAX_FRAMES + ref / sper] +
		       ref % sper;
	}
}

void *gnttab_map_ref(struct domain *d, uint32_t ref, bool write, int *err)
{
	struct gnttab *g = &d->gnttab;
	uint16_t domid, flags, *busy;
	uint16_t use = write ? (GTF_reading | GTF_writing) : GTF_reading;
	uint64_t frame;
	void *page = NULL;

	*err = -EINVAL;
	if (ref >= GNTTAB_MAX_REFS)
		return NULL;
	pthread_mutex_lock(&d->lock);
	busy = gnttab_locate(g, ref, &domid, &frame, &flags);
	if (!busy)
		goto out;
	/* The type and permissions are in the entry's flags (both
	 * versions); v2 keeps the in-use bits in the status word. */
	if ((flags & GTF_type_mask) != GTF_permit_access || domid != 0 ||
	    (write && (flags & GTF_readonly))) {
		*err = -EACCES;
		goto out;
	}
	page = gmem_ptr(&d->mem, frame << 12, GUEST_PAGE_SIZE);
	if (!page)
		goto out;
	/* Set the in-use bits atomically; if the guest changed the entry
	 * meanwhile (v1: same word), give up rather than guess. */
	if (g->version == 1) {
		uint16_t old = flags;

		if (!__atomic_compare_exchange_n(busy, &old, old | use, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			*err = -EBUSY;
			page = NULL;
			goto out;
		}
	} else {
		__atomic_or_fetch(busy, use, __ATOMIC_ACQ_REL);
	}
	g->readers[ref]++;
	if (write)
		g->writers[ref]++;
	*err = 0;
out:
	pthread_mutex_unlock(&d->lock);
	return page;
}

void gnttab_unmap_ref(struct domain *d, uint32_t ref, bool write)
{
	struct gnttab *g = &d->gnttab;
	uint16_t domid, flags, *busy, clear = 0;
	uint64_t frame;

	if (ref >= GNTTAB_MAX_REFS)
		return;
	pthread_mutex_lock(&d->lock);
	if (g->readers[ref] == 0) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (write && g->writers[ref] && --g->writers[ref] == 0)
		clear |= GTF_writing;
	if (--g->readers[ref] == 0)
		clear |= GTF_reading;
	busy = gnttab_locate(g, ref, &domid, &frame, &flags);
	if (busy && clear)
		__atomic_and_fetch(busy, (uint16_t)~clear, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&d->lock);
}

bool gnttab_in_use(const struct gnttab *g)
{
	if (!g->readers)
		return false;
	for (uint32_t r = 0; r < GNTTAB_MAX_REFS; r++)
		if (g->readers[r])
			return true;
	return false;
}

uint32_t gnttab_nr_frames(const struct gnttab *g)
{
	uint32_t n = 0;

	while (n < GNTTAB_MAX_FRAMES && g->gpfn[n])
		n++;
	return n;
}

/* Puts page i of our grant memfd at gpfn (or removes it when gpfn is 0)
 * with its own KVM memory slot.  Caller holds d->lock. */
int gnttab_slot(struct domain *d, unsigned i, uint64_t gpfn)
{
	struct gnttab *g = &d->gnttab;
	struct kvm_userspace_memory_region r = {
		.slot = GNTTAB_FIRST_SLOT + i,
	};

	if (g->slot_used[i]) { /* a slot moves by being deleted first */
		r.memory_size = 0;
		if (ioctl(d->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return -errno;
		g->slot_used[i] = false;
	}
	if (!gpfn)
		return 0;
	r.guest_phys_addr = gpfn << 12;
	r.memory_size = GUEST_PAGE_SIZE;
	r.userspace_addr = (uintptr_t)(g->pages + i * GUEST_PAGE_SIZE);
	if (ioctl(d->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno; /* overlaps RAM, another frame, or too high */
	g->slot_used[i] = true;
	return 0;
}

long gnttab_map_frame(struct domain *d, uint64_t idx, uint64_t gpfn)
{
	struct gnttab *g = &d->gnttab;
	bool status = idx & XENMAPIDX_grant_table_status;
	uint8_t *ram;
	unsigned i;
	int ret;

	idx &= ~(uint64_t)XENMAPIDX_grant_table_status;
	if (idx >= (status ? GNTTAB_MAX_STATUS_FRAMES : GNTTAB_MAX_FRAMES))
		return -EINVAL;
	if (status && g->version != 2)
		return -EINVAL;
	if (gpfn == 0 || gpfn == GUEST_LAPIC_GPA >> 12 ||
	    (gpfn >= GUEST_RESERVED_START >> 12 && gpfn < GUEST_RESERVED_END >> 12))
		return -EINVAL;
	i = status ? GNTTAB_MAX_FRAMES + (unsigned)idx : (unsigned)idx;
	ram = gmem_ptr(&d->mem, gpfn << 12, GUEST_PAGE_SIZE);
	pthread_mutex_lock(&d->lock);
	/* A RAM page becomes the frame itself; elsewhere our page goes in. */
	ret = gnttab_slot(d, i, ram ? 0 : gpfn);
	if (ret) {
		pthread_mutex_unlock(&d->lock);
		log_warnx("domain %s: grant frame %u at gfn 0x%llx refused: %s",
			  d->cfg->name, i, (unsigned long long)gpfn,
			  strerror(-ret));
		return -EINVAL;
	}
	g->gpfn[i] = gpfn;
	g->host[i] = ram ? ram : g->pages + i * GUEST_PAGE_SIZE;
	/* A new grant frame starts empty, as Xen's do. */
	memset(g->host[i], 0, GUEST_PAGE_SIZE);
	pthread_mutex_unlock(&d->lock);
	return 0;
}
