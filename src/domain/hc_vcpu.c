/* vcpu_op, sched_op and set_timer_op: per-vCPU areas (vcpu_info,
 * runstate, time), timers, blocking and shutdown.
 *
 * KVM handles the hot paths in the kernel once told where things are:
 * singleshot timers (after VIRQ_TIMER is bound), SCHEDOP_poll/yield.  What
 * reaches us here is set-up, or a call KVM declined. */
#include <stdint.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "common/log.h"
#include "domain/hypercall.h"
#include "domain/timer.h"

_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "vcpu_info reg");
_Static_assert(sizeof(struct vcpu_register_runstate_memory_area) == 8,
	       "runstate reg");
_Static_assert(sizeof(struct vcpu_set_periodic_timer) == 8, "periodic");
_Static_assert(sizeof(struct vcpu_set_singleshot_timer) == 16, "singleshot");
_Static_assert(sizeof(struct sched_shutdown) == 4, "sched_shutdown");
_Static_assert(sizeof(struct sched_remote_shutdown) == 8, "remote_shutdown");
_Static_assert(sizeof(struct sched_watchdog) == 8, "sched_watchdog");
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info");

struct vcpu_attr_work {
	struct kvm_xen_vcpu_attr attr;
	uint64_t copy_from; /* vcpu_info: old location to copy, or 0 */
};

static void vcpu_attr_apply(struct vcpu *v, void *arg)
{
	struct vcpu_attr_work *w = arg;
	struct guest_mem *m = &v->dom->mem;

	if (w->copy_from) {
		void *src = gmem_ptr(m, w->copy_from, sizeof(struct vcpu_info));
		void *dst = gmem_ptr(m, w->attr.u.gpa, sizeof(struct vcpu_info));

		if (src && dst)
			memcpy(dst, src, sizeof(struct vcpu_info));
	}
	if (ioctl(v->fd, KVM_XEN_VCPU_SET_ATTR, &w->attr) < 0)
		log_warn("vCPU %u: KVM_XEN_VCPU_SET_ATTR type %u", v->id,
			 w->attr.type);
	free(w);
}

/* Queues one KVM Xen attribute for vCPU n (run by n's own thread). */
static int vcpu_attr_queue(struct domain *d, unsigned n,
			   const struct kvm_xen_vcpu_attr *a, uint64_t copy)
{
	struct vcpu_attr_work *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->attr = *a;
	w->copy_from = copy;
	vcpu_queue_work(&d->vcpus[n], vcpu_attr_apply, w);
	return 0;
}

void vcpu_info_place(struct domain *d, unsigned n, uint64_t gpa, bool copy)
{
	struct kvm_xen_vcpu_attr a = {.type = KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO};
	struct vcpu *t = &d->vcpus[n];
	uint64_t old = t->vcpu_info_gpa;

	a.u.gpa = gpa;
	t->vcpu_info_gpa = gpa;
	vcpu_attr_queue(d, n, &a, copy ? old : 0);
}

int vcpu_timer_bind(struct domain *d, unsigned n, uint32_t port)
{
	struct kvm_xen_vcpu_attr a = {.type = KVM_XEN_VCPU_ATTR_TYPE_TIMER};

	a.u.timer.port = port;
	a.u.timer.priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL;
	a.u.timer.expires_ns = 0;
	d->vcpus[n].timer_port = port;
	return vcpu_attr_queue(d, n, &a, 0);
}

/* Translates a guest-virtual area to one guest-physical range that must
 * not cross a page (what KVM can maintain). */
static long vcpu_area_gpa(struct vcpu *v, uint64_t gva, size_t len,
			  uint64_t *gpa)
{
	if ((gva & 4095) + len > GUEST_PAGE_SIZE)
		return -EINVAL;
	if (vcpu_gva_to_gpa(v, gva, gpa) ||
	    !gmem_ptr(&v->dom->mem, *gpa, len))
		return -EFAULT;
	return 0;
}

static long vcpu_register_info(struct vcpu *v, unsigned n, uint64_t arg)
{
	struct domain *d = v->dom;
	struct vcpu_register_vcpu_info r;
	uint64_t gpa;

	if (vcpu_copy_from_guest(v, arg, &r, sizeof(r)))
		return -EFAULT;
	if (d->vcpus[n].vcpu_info_placed)
		return -EINVAL; /* Xen allows this once per vCPU */
	if (r.offset > GUEST_PAGE_SIZE - sizeof(struct vcpu_info))
		return -EINVAL;
	gpa = (r.mfn << 12) + r.offset;
	if (!gmem_ptr(&d->mem, gpa, sizeof(struct vcpu_info)))
		return -EINVAL;
	d->vcpus[n].vcpu_info_placed = true;
	vcpu_info_place(d, n, gpa, true);
	return 0;
}

static long vcpu_register_area(struct vcpu *v, unsigned n, uint64_t arg,
			       uint16_t type, size_t len)
{
	struct kvm_xen_vcpu_attr a = {.type = type};
	uint64_t gva, gpa;
	long ret;

	if (vcpu_copy_from_guest(v, arg, &gva, sizeof(gva)))
		return -EFAULT;
	if (gva == 0) {
		a.u.gpa = ~0ull; /* KVM's "no area" */
	} else {
		ret = vcpu_area_gpa(v, gva, len, &gpa);
		if (ret)
			return ret;
		a.u.gpa = gpa;
	}
	return vcpu_attr_queue(v->dom, n, &a, 0);
}

long hc_vcpu_op(struct vcpu *v, uint64_t cmd, uint64_t vcpuid, uint64_t arg)
{
	struct domain *d = v->dom;

	if (vcpuid >= d->nr_vcpus)
		return -ENOENT;
	switch (cmd) {
	case VCPUOP_register_vcpu_info:
		return vcpu_register_info(v, (unsigned)vcpuid, arg);
	case VCPUOP_register_runstate_memory_area:
		return vcpu_register_area(v, (unsigned)vcpuid, arg,
					  KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR,
					  sizeof(struct vcpu_runstate_info));
	case VCPUOP_register_vcpu_time_memory_area:
		return vcpu_register_area(v, (unsigned)vcpuid, arg,
					  KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO,
					  sizeof(struct vcpu_time_info));
	case VCPUOP_is_up:
		return d->vcpus[vcpuid].up || vcpuid == v->id;
	case VCPUOP_set_singleshot_timer:
	case VCPUOP_stop_singleshot_timer:
		/* KVM declined: VIRQ_TIMER is not bound yet, so there is
		 * nothing to deliver; Xen would accept and drop it too. */
		if (vcpuid != v->id)
			return -EINVAL;
		return 0;
	case VCPUOP_set_periodic_timer: {
		struct vcpu_set_periodic_timer p;

		if (vcpu_copy_from_guest(v, arg, &p, sizeof(p)))
			return -EFAULT;
		if (p.period_ns < 1000000)
			return -EINVAL; /* Xen's minimum period: 1 ms */
		return timer_set_periodic(d, (unsigned)vcpuid, p.period_ns);
	}
	case VCPUOP_stop_periodic_timer:
		return timer_set_periodic(d, (unsigned)vcpuid, 0);
	case VCPUOP_up:
	case VCPUOP_down:
	case VCPUOP_initialise:
		/* HVM/PVH guests start secondary vCPUs with INIT/SIPI. */
		log_unimplemented("vcpu_op", cmd, 0);
		return -ENOSYS;
	default:
		log_unimplemented("vcpu_op", cmd, 0);
		return -ENOSYS;
	}
}

static long sched_block(struct vcpu *v)
{
	struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_HALTED};

	/* Xen re-enables event delivery, then blocks until one is pending;
	 * a halted vCPU in KVM wakes on exactly that (the upcall). */
	if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		sched_yield();
	return 0;
}

long hc_sched_op(struct vcpu *v, uint64_t cmd, uint64_t arg)
{
	struct domain *d = v->dom;

	switch (cmd) {
	case SCHEDOP_yield:
		sched_yield();
		return 0;
	case SCHEDOP_block:
		return sched_block(v);
	case SCHEDOP_poll:
		return 0; /* a spurious wake-up is allowed by the ABI */
	case SCHEDOP_shutdown: {
		struct sched_shutdown s;

		if (vcpu_copy_from_guest(v, arg, &s, sizeof(s)))
			return -EFAULT;
		if (s.reason > SHUTDOWN_MAX)
			return -EINVAL;
		if (s.reason == SHUTDOWN_suspend || s.reason == SHUTDOWN_soft_reset) {
			log_unimplemented("shutdown reason", s.reason, 0);
			return -ENOSYS;
		}
		domain_request_shutdown(d, (int)s.reason);
		return 0;
	}
	case SCHEDOP_remote_shutdown: {
		struct sched_remote_shutdown s;

		if (vcpu_copy_from_guest(v, arg, &s, sizeof(s)))
			return -EFAULT;
		if (s.domain_id != DOMID_SELF && s.domain_id != d->cfg->domid)
			return -EPERM;
		if (s.reason > SHUTDOWN_MAX || s.reason == SHUTDOWN_suspend)
			return -EINVAL;
		domain_request_shutdown(d, (int)s.reason);
		return 0;
	}
	case SCHEDOP_shutdown_code:
		return 0; /* only matters for suspend, recorded by the caller */
	case SCHEDOP_watchdog: {
		struct sched_watchdog w;

		if (vcpu_copy_from_guest(v, arg, &w, sizeof(w)))
			return -EFAULT;
		return timer_watchdog(d, w.id, w.timeout);
	}
	default:
		log_unimplemented("sched_op", cmd, 0);
		return -ENOSYS;
	}
}

long hc_set_timer_op(struct vcpu *v, uint64_t timeout_ns)
{
	return 0; /* reached only while VIRQ_TIMER is unbound: nothing fires */
}
