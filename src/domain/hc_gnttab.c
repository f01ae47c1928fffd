/* GNTTABOP_*: the grant table queries a guest makes of its hypervisor. */
#include <stdint.h>

#include <errno.h>
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
