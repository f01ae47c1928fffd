/* vCPUs: creation, the PVH entry state, and the run loop. */
#ifndef KXEN_DOMAIN_VCPU_H
#define KXEN_DOMAIN_VCPU_H

#include <stdint.h>

#include "domain/domain.h"

/* Creates vCPU `id` of d (KVM vCPU, run area, CPUID, Xen vCPU id). */
int vcpu_create(struct domain *d, unsigned id);
void vcpu_destroy(struct vcpu *v);

/* Puts v in the state Xen's PVH ABI gives the boot vCPU: 32-bit flat
 * protected mode, paging off, EIP = entry, EBX = start_info. */
int vcpu_set_pvh_entry(struct vcpu *v, uint64_t entry, uint64_t start_info);

/* Starts v's thread. Secondary vCPUs wait in KVM for INIT/SIPI. */
int vcpu_start(struct vcpu *v);

/* Logs v's registers (for crashes and host-side failures). */
void vcpu_dump(struct vcpu *v, const char *why);

#endif
