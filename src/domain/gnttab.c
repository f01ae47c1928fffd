/* Grant tables: frame placement and the GNTTABOP_* queries. */
#include <stdint.h>
#include "domain/gnttab.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/grant_table.h>
#include <xen/memory.h>

#include "common/log.h"
#include "domain/boot/layout.h"
#include "domain/domain.h"

/* The argument structures of a 64-bit guest, guest handles as u64. */
struct gnttab_query_size_arg {
	uint16_t dom;
	uint16_t pad;
	uint32_t nr_frames;
	uint32_t max_nr_frames;
	int16_t status;
	uint16_t pad2;
};
_Static_assert(sizeof(struct gnttab_query_size_arg) ==
		       sizeof(struct gnttab_query_size),
	       "query_size layout");

struct gnttab_get_status_frames_arg {
	uint32_t nr_frames;
	uint16_t dom;
	int16_t status;
	uint64_t frame_list;
};
_Static_assert(sizeof(struct gnttab_get_status_frames_arg) == 16,
	       "get_status_frames layout");
_Static_assert(sizeof(struct gnttab_set_version) == 4, "set_version");
_Static_assert(sizeof(struct gnttab_get_version) == 8, "get_version");

static bool gnttab_dom_ok(struct domain *d, uint16_t dom)
{
	return dom == DOMID_SELF || dom == d->cfg->domid;
}

int gnttab_init(struct domain *d)
{
	struct gnttab *g = &d->gnttab;
	void *p;

	memset(g, 0, sizeof(*g));
	g->version = 1;
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
	g->pages = NULL;
	g->fd = -1;
}

static uint32_t gnttab_nr_frames(const struct gnttab *g)
{
	uint32_t n = 0;

	while (n < GNTTAB_MAX_FRAMES && g->gpfn[n])
		n++;
	return n;
}

/* Puts page i of our grant memfd at gpfn (or removes it when gpfn is 0)
 * with its own KVM memory slot.  Caller holds d->lock. */
static int gnttab_slot(struct domain *d, unsigned i, uint64_t gpfn)
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

static long gnttab_query_size(struct vcpu *v, uint64_t uop)
{
	struct gnttab_query_size_arg q;

	if (vcpu_copy_from_guest(v, uop, &q, sizeof(q)))
		return -EFAULT;
	if (!gnttab_dom_ok(v->dom, q.dom)) {
		q.status = GNTST_permission_denied;
	} else {
		q.nr_frames = gnttab_nr_frames(&v->dom->gnttab);
		q.max_nr_frames = GNTTAB_MAX_FRAMES;
		q.status = GNTST_okay;
	}
	return vcpu_copy_to_guest(v, uop, &q, sizeof(q));
}

static long gnttab_set_version(struct vcpu *v, uint64_t uop)
{
	struct gnttab_set_version s;
	struct gnttab *g = &v->dom->gnttab;

	if (vcpu_copy_from_guest(v, uop, &s, sizeof(s)))
		return -EFAULT;
	if (s.version != 1 && s.version != 2)
		return -EINVAL;
	pthread_mutex_lock(&v->dom->lock);
	/* Xen refuses to switch while grants are in use; no backend maps
	 * grants yet, so a switch only has to forget the status frames. */
	if (s.version != g->version) {
		for (unsigned i = GNTTAB_MAX_FRAMES; i < GNTTAB_NR_PAGES; i++) {
			gnttab_slot(v->dom, i, 0);
			g->gpfn[i] = 0;
			g->host[i] = NULL;
		}
	}
	g->version = s.version;
	pthread_mutex_unlock(&v->dom->lock);
	return vcpu_copy_to_guest(v, uop, &s, sizeof(s));
}

static long gnttab_get_version(struct vcpu *v, uint64_t uop)
{
	struct gnttab_get_version gv;

	if (vcpu_copy_from_guest(v, uop, &gv, sizeof(gv)))
		return -EFAULT;
	if (!gnttab_dom_ok(v->dom, gv.dom))
		return -EPERM;
	gv.version = v->dom->gnttab.version;
	return vcpu_copy_to_guest(v, uop, &gv, sizeof(gv));
}

static long gnttab_get_status_frames(struct vcpu *v, uint64_t uop)
{
	struct gnttab_get_status_frames_arg s;
	struct gnttab *g = &v->dom->gnttab;

	if (vcpu_copy_from_guest(v, uop, &s, sizeof(s)))
		return -EFAULT;
	if (!gnttab_dom_ok(v->dom, s.dom) || g->version != 2 ||
	    s.nr_frames > GNTTAB_MAX_STATUS_FRAMES) {
		s.status = GNTST_general_error;
	} else {
		for (uint32_t i = 0; i < s.nr_frames; i++)
			if (vcpu_copy_to_guest(v, s.frame_list + 8 * i,
					       &g->gpfn[GNTTAB_MAX_FRAMES + i], 8))
				return -EFAULT;
		s.status = GNTST_okay;
	}
	return vcpu_copy_to_guest(v, uop, &s, sizeof(s));
}

long gnttab_hypercall(struct vcpu *v, uint64_t cmd, uint64_t uop,
		      uint64_t count)
{
	/* The queries take exactly one argument structure. */
	if (count != 1 && cmd != GNTTABOP_copy)
		return -EINVAL;
	switch (cmd) {
	case GNTTABOP_query_size:
		return gnttab_query_size(v, uop);
	case GNTTABOP_set_version:
		return gnttab_set_version(v, uop);
	case GNTTABOP_get_version:
		return gnttab_get_version(v, uop);
	case GNTTABOP_get_status_frames:
		return gnttab_get_status_frames(v, uop);
	default:
		/* setup_table is the PV interface; map/unmap/copy/transfer
		 * are for the backend side (domain 0). */
		log_unimplemented("grant_table_op", cmd, 0);
		return -ENOSYS;
	}
}
