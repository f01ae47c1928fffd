/* Hypercalls that KVM forwards to user space (KVM_EXIT_XEN_HCALL).
 *
 * hypercall_dispatch() switches on the hypercall number and calls one
 * function per hypercall, which switches on the sub-op.  Everything not
 * implemented answers -ENOSYS and is logged once.  Each handler returns
 * the value the guest sees in RAX (0 or a negative Xen errno, which for
 * the values used here equals Linux's). */
#ifndef KXEN_DOMAIN_HYPERCALL_H
#define KXEN_DOMAIN_HYPERCALL_H

#include <stdint.h>

#include "domain/domain.h"

/* Handles v->run->xen.u.hcall and stores the result there. */
void hypercall_dispatch(struct vcpu *v);

long hc_xen_version(struct vcpu *v, uint64_t cmd, uint64_t arg);
long hc_memory_op(struct vcpu *v, uint64_t cmd, uint64_t arg);
long hc_hvm_op(struct vcpu *v, uint64_t cmd, uint64_t arg);
long hc_vcpu_op(struct vcpu *v, uint64_t cmd, uint64_t vcpuid, uint64_t arg);
long hc_sched_op(struct vcpu *v, uint64_t cmd, uint64_t arg);
long hc_set_timer_op(struct vcpu *v, uint64_t timeout_ns);

/* Points vCPU n's vcpu_info at gpa (queued onto n's thread).  Used when
 * shared_info is mapped (the default slots) and by
 * VCPUOP_register_vcpu_info. */
void vcpu_info_place(struct domain *d, unsigned n, uint64_t gpa, bool copy);

#endif
