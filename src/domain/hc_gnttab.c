/* GNTTABOP_*: the grant table queries a guest makes of its hypervisor. */
#include <stdint.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <xen/grant_table.h>

#include "common/log.h"
#include "domain/domain.h"
#include "domain/gnttab.h"

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
struct gnttab_setup_table_arg {
	uint16_t dom;
	uint16_t pad;
	uint32_t nr_frames;
	int16_t status;
	uint16_t pad2[3];
	uint64_t frame_list;
};
_Static_assert(sizeof(struct gnttab_setup_table_arg) == 24,
	       "setup_table layout");
_Static_assert(sizeof(struct gnttab_copy) == 40, "gnttab_copy layout (64-bit guest)");
_Static_assert(sizeof(struct gnttab_set_version) == 4, "set_version");
_Static_assert(sizeof(struct gnttab_get_version) == 8, "get_version");

static bool gnttab_dom_ok(struct domain *d, uint16_t dom)
{
	return dom == DOMID_SELF || dom == d->cfg->domid;
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
	/* As Xen: no switch while a backend has grants of ours mapped. */
	if (s.version != g->version && gnttab_in_use(g)) {
		pthread_mutex_unlock(&v->dom->lock);
		return -EBUSY;
	}
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

/* GNTTABOP_setup_table, as Xen answers a translated (HVM/PVH) guest: the
 * gfns where the grant frames are placed, INVALID for those not placed. */
static long gnttab_setup_table(struct vcpu *v, uint64_t uop)
{
	struct gnttab_setup_table_arg t;
	struct gnttab *g = &v->dom->gnttab;

	if (vcpu_copy_from_guest(v, uop, &t, sizeof(t)))
		return -EFAULT;
	if (!gnttab_dom_ok(v->dom, t.dom)) {
		t.status = GNTST_permission_denied;
	} else if (t.nr_frames > GNTTAB_MAX_FRAMES) {
		t.status = GNTST_general_error;
	} else {
		for (uint32_t i = 0; i < t.nr_frames; i++) {
			uint64_t gfn = g->gpfn[i] ? g->gpfn[i] : ~0ull;

			if (vcpu_copy_to_guest(v, t.frame_list + 8 * i, &gfn,
					       8))
				return -EFAULT;
		}
		t.status = GNTST_okay;
	}
	return vcpu_copy_to_guest(v, uop, &t, sizeof(t));
}

/* One GNTTABOP_copy element.  A domU may copy only between frames of its
 * own (DOMID_SELF gmfns); grant references name grants made *to* the
 * caller, and no domain grants anything to a kxen guest. */
static int16_t gnttab_copy_one(struct domain *d, const struct gnttab_copy *c)
{
	const struct gnttab_copy_ptr *ends[2] = {&c->source, &c->dest};
	uint8_t *p[2];

	if ((c->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)))
		return GNTST_permission_denied;
	for (int i = 0; i < 2; i++) {
		if (!gnttab_dom_ok(d, ends[i]->domid))
			return GNTST_permission_denied;
		if ((uint32_t)ends[i]->offset + c->len > GUEST_PAGE_SIZE)
			return GNTST_bad_copy_arg;
		p[i] = gmem_ptr(&d->mem, ends[i]->u.gmfn * GUEST_PAGE_SIZE,
				GUEST_PAGE_SIZE);
		if (!p[i] || ends[i]->u.gmfn >= (1ull << 40))
			return GNTST_bad_page;
	}
	memmove(p[1] + c->dest.offset, p[0] + c->source.offset, c->len);
	return GNTST_okay;
}

static long gnttab_copy(struct vcpu *v, uint64_t uop, uint64_t count)
{
	struct gnttab_copy c;

	if (count > 512)
		return -EINVAL;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t at = uop + i * sizeof(c);

		if (vcpu_copy_from_guest(v, at, &c, sizeof(c)))
			return -EFAULT;
		c.status = gnttab_copy_one(v->dom, &c);
		if (vcpu_copy_to_guest(v, at + offsetof(struct gnttab_copy, status),
				       &c.status, sizeof(c.status)))
			return -EFAULT;
	}
	return 0;
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
	case GNTTABOP_setup_table:
		return gnttab_setup_table(v, uop);
	case GNTTABOP_copy:
		return gnttab_copy(v, uop, count);
	default:
		/* map/unmap/transfer are for a backend domain, which a
		 * kxen guest never is (backends live in the host). */
		log_unimplemented("grant_table_op", cmd, 0);
		return -ENOSYS;
	}
}
