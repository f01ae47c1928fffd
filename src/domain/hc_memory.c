/* memory_op and hvm_op: shared_info placement, the memory map, reservation
 * queries and HVM parameters. */
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/ioctl.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>

#include "common/log.h"
#include "domain/boot/layout.h"
#include "domain/boot/pvh.h"
#include "domain/hypercall.h"

_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "add_to_physmap");
_Static_assert(sizeof(struct xen_memory_map) == 16, "memory_map");

/* The low bits of a memory_op command; the rest is a continuation index
 * (KXEN_MEMOP_CMD_MASK, visible to Xen and its tools only). */
#define KXEN_MEMOP_CMD_MASK 0x3f

/* xen_memory_map with its guest handle as the 64-bit value it is. */
struct memory_map_arg {
	uint32_t nr_entries;
	uint32_t pad;
	uint64_t buffer;
};
_Static_assert(sizeof(struct memory_map_arg) == sizeof(struct xen_memory_map),
	       "memory_map layout");
_Static_assert(sizeof(struct xen_hvm_param) == 16, "hvm_param");

/* Xen's e820 entry as XENMEM_memory_map returns it. */
struct xen_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct xen_e820_entry) == 20, "e820 entry");

static bool domid_is_self(const struct domain *d, uint16_t domid)
{
	return domid == DOMID_SELF || domid == d->cfg->domid;
}

static long memory_map_shared_info(struct vcpu *v, uint64_t gpfn)
{
	struct domain *d = v->dom;
	struct kvm_xen_hvm_attr a = {.type = KVM_XEN_ATTR_TYPE_SHARED_INFO};

	if (!gmem_ptr(&d->mem, gpfn << 12, GUEST_PAGE_SIZE))
		return -EINVAL;
	a.u.shared_info.gfn = gpfn;
	if (ioctl(d->vm_fd, KVM_XEN_HVM_SET_ATTR, &a) < 0) {
		log_warn("KVM_XEN_ATTR_TYPE_SHARED_INFO gfn 0x%llx",
			 (unsigned long long)gpfn);
		return -EINVAL;
	}
	pthread_mutex_lock(&d->lock);
	d->shinfo_gfn = gpfn;
	pthread_mutex_unlock(&d->lock);
	/* Until a vCPU registers its own vcpu_info, Xen keeps it in
	 * shared_info (legacy slots for the first 32 vCPUs). */
	for (unsigned i = 0; i < d->nr_vcpus && i < XEN_LEGACY_MAX_VCPUS; i++) {
		if (!d->vcpus[i].vcpu_info_placed)
			vcpu_info_place(d, i,
					(gpfn << 12) +
						offsetof(struct shared_info,
							 vcpu_info[i]),
					false);
	}
	return 0;
}

/* xen_memory_reservation of a 64-bit guest, the handle as u64. */
struct memory_reservation_arg {
	uint64_t extent_start;
	uint64_t nr_extents;
	uint32_t extent_order;
	uint32_t mem_flags;
	uint16_t domid;
	uint16_t pad[3];
};
_Static_assert(sizeof(struct memory_reservation_arg) ==
		       sizeof(struct xen_memory_reservation),
	       "memory_reservation layout");

/* Largest extent we accept: 2 MiB, what Linux's balloon uses at most. */
#define MEMORY_MAX_EXTENT_ORDER 9

static bool page_ballooned(const struct domain *d, uint64_t page)
{
	return d->ballooned[page / 8] & (1u << (page % 8));
}

/* XENMEM_decrease_reservation (give pages back) and
 * XENMEM_populate_physmap (take them again).  Pages are guest RAM in the
 * memfd: giving one back punches a hole (the host frees it; the guest
 * reads zeros if it touches it again).  The boot region (start_info,
 * ACPI, console and store rings) cannot be given back.  Like Xen, returns
 * the number of extents done, stopping at the first bad one. */
static long memory_reservation(struct vcpu *v, uint64_t arg, bool release)
{
	struct domain *d = v->dom;
	struct memory_reservation_arg r;
	uint64_t done = 0, gpfn;

	if (vcpu_copy_from_guest(v, arg, &r, sizeof(r)))
		return -EFAULT;
	if (!domid_is_self(d, r.domid))
		return -EPERM;
	if (r.extent_order > MEMORY_MAX_EXTENT_ORDER)
		return -EINVAL;
	for (; done < r.nr_extents; done++) {
		uint64_t npages = 1ull << r.extent_order, gpa;
		int64_t off;

		if (vcpu_copy_from_guest(v, r.extent_start + 8 * done, &gpfn, 8))
			break;
		gpa = gpfn << 12;
		if ((gpfn & (npages - 1)) ||
		    !gmem_ptr(&d->mem, gpa, npages * GUEST_PAGE_SIZE) ||
		    (gpa < GUEST_RESERVED_END &&
		     gpa + npages * GUEST_PAGE_SIZE > GUEST_RESERVED_START))
			break;
		off = gmem_file_offset(&d->mem, gpa);
		/* Only pages given back can come back: a domain never holds
		 * more than its memory; populating a present page is a no-op. */
		pthread_mutex_lock(&d->lock);
		for (uint64_t i = 0; i < npages; i++) {
			uint64_t page = (uint64_t)off / 4096 + i;
			bool was = page_ballooned(d, page);

			if (release && !was) {
				d->ballooned[page / 8] |= 1u << (page % 8);
				d->nr_ballooned++;
			} else if (!release && was) {
				d->ballooned[page / 8] &= ~(1u << (page % 8));
				d->nr_ballooned--;
			}
		}
		pthread_mutex_unlock(&d->lock);
		if (release &&
		    fallocate(d->mem.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      off, (off_t)(npages * GUEST_PAGE_SIZE)) < 0)
			log_warn("returning guest pages at gpfn 0x%llx",
				 (unsigned long long)gpfn);
		if (!release && vcpu_copy_to_guest(v, r.extent_start + 8 * done,
						   &gpfn, 8))
			break;
	}
	return (long)done;
}

static long memory_add_to_physmap(struct vcpu *v, uint64_t arg)
{
	struct xen_add_to_physmap xatp;

	if (vcpu_copy_from_guest(v, arg, &xatp, sizeof(xatp)))
		return -EFAULT;
	if (!domid_is_self(v->dom, xatp.domid))
		return -EPERM;
	switch (xatp.space) {
	case XENMAPSPACE_shared_info:
		if (xatp.idx != 0)
			return -EINVAL;
		return memory_map_shared_info(v, xatp.gpfn);
	case XENMAPSPACE_grant_table:
		return gnttab_map_frame(v->dom, xatp.idx, xatp.gpfn);
	default:
		log_unimplemented("add_to_physmap space", xatp.space, 0);
		return -ENOSYS;
	}
}

static long memory_memory_map(struct vcpu *v, uint64_t arg)
{
	struct hvm_memmap_table_entry mm[8];
	struct xen_e820_entry e;
	struct memory_map_arg map;
	int n = pvh_build_memmap(&v->dom->mem, mm, 8);

	if (n < 0)
		return n;
	if (vcpu_copy_from_guest(v, arg, &map, sizeof(map)))
		return -EFAULT;
	if (map.nr_entries < (unsigned)n)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		e.addr = mm[i].addr;
		e.size = mm[i].size;
		e.type = mm[i].type;
		if (vcpu_copy_to_guest(v, map.buffer + i * sizeof(e), &e,
				       sizeof(e)))
			return -EFAULT;
	}
	map.nr_entries = n;
	return vcpu_copy_to_guest(v, arg, &map, sizeof(map));
}

static long memory_reservation_query(struct vcpu *v, uint64_t arg)
{
	uint16_t domid;

	if (vcpu_copy_from_guest(v, arg, &domid, sizeof(domid)))
		return -EFAULT;
	if (!domid_is_self(v->dom, domid))
		return -EPERM;
	return (long)((v->dom->mem.size >> 12) - v->dom->nr_ballooned);
}

long hc_memory_op(struct vcpu *v, uint64_t cmd, uint64_t arg)
{
	switch (cmd & KXEN_MEMOP_CMD_MASK) {
	case XENMEM_add_to_physmap:
		return memory_add_to_physmap(v, arg);
	case XENMEM_memory_map:
		return memory_memory_map(v, arg);
	case XENMEM_current_reservation:
		return memory_reservation_query(v, arg);
	case XENMEM_maximum_reservation: {
		long cur = memory_reservation_query(v, arg);

		return cur < 0 ? cur : (long)(v->dom->mem.size >> 12);
	}
	case XENMEM_decrease_reservation:
		return memory_reservation(v, arg, true);
	case XENMEM_populate_physmap:
		return memory_reservation(v, arg, false);
	case XENMEM_maximum_gpfn: {
		const struct guest_mem *m = &v->dom->mem;

		return m->size > m->low_size
			       ? (long)((GUEST_4G + m->size - m->low_size) >>
					12) - 1
			       : (long)(m->low_size >> 12) - 1;
	}
	default:
		log_unimplemented("memory_op", cmd & KXEN_MEMOP_CMD_MASK, 0);
		return -ENOSYS;
	}
}

/* HVM_PARAM_CALLBACK_IRQ: the guest tells us how to raise its upcall.
 * PVH guests use the vector form; KVM then injects that vector whenever
 * a vCPU's evtchn_upcall_pending is set. */
static long hvm_set_callback(struct domain *d, uint64_t value)
{
	struct kvm_xen_hvm_attr a = {.type = KVM_XEN_ATTR_TYPE_UPCALL_VECTOR};
	unsigned type = (unsigned)(value >> 56);

	if (value == 0) {
		a.u.vector = 0;
	} else if (type == HVM_PARAM_CALLBACK_TYPE_VECTOR &&
		   (value & 0xff) >= 0x10) {
		a.u.vector = value & 0xff;
	} else {
		log_unimplemented("callback irq type", type, 0);
		return -EINVAL;
	}
	if (ioctl(d->vm_fd, KVM_XEN_HVM_SET_ATTR, &a) < 0) {
		log_warn("KVM_XEN_ATTR_TYPE_UPCALL_VECTOR");
		return -EINVAL;
	}
	d->upcall_vector = a.u.vector;
	return 0;
}

static long hvm_param(struct vcpu *v, uint64_t arg, bool set)
{
	struct domain *d = v->dom;
	struct xen_hvm_param p;
	long ret = 0;

	if (vcpu_copy_from_guest(v, arg, &p, sizeof(p)))
		return -EFAULT;
	if (!domid_is_self(d, p.domid))
		return -EPERM;
	if (p.index >= HVM_NR_PARAMS)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	if (!set) {
		p.value = d->hvm_params[p.index];
	} else {
		switch (p.index) {
		case HVM_PARAM_CALLBACK_IRQ:
			ret = hvm_set_callback(d, p.value);
			break;
		case HVM_PARAM_TIMER_MODE:
			break;
		default:
			/* Store/console pages and the like belong to the
			 * toolstack; a guest may not move them. */
			ret = -EPERM;
			break;
		}
		if (ret == 0)
			d->hvm_params[p.index] = p.value;
	}
	pthread_mutex_unlock(&d->lock);
	if (ret == 0 && !set)
		ret = vcpu_copy_to_guest(v, arg, &p, sizeof(p));
	return ret;
}

long hc_hvm_op(struct vcpu *v, uint64_t cmd, uint64_t arg)
{
	switch (cmd) {
	case HVMOP_set_param:
		return hvm_param(v, arg, true);
	case HVMOP_get_param:
		return hvm_param(v, arg, false);
	default:
		log_unimplemented("hvm_op", cmd, 0);
		return -ENOSYS;
	}
}
