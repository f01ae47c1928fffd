/* Guest CPUID: host leaves plus Xen's hypervisor leaves. */
#ifndef KXEN_DOMAIN_CPUID_H
#define KXEN_DOMAIN_CPUID_H

#include <stdint.h>

/* Sets vCPU vcpu_id's CPUID (KVM_SET_CPUID2) for a guest of nr_vcpus
 * vCPUs in domain domid.  0 or -errno. */
int cpuid_setup_vcpu(int kvm_fd, int vcpu_fd, unsigned vcpu_id,
		     unsigned nr_vcpus, uint32_t domid);

/* The MSR index through which the guest asks for the hypercall page. */
uint32_t cpuid_hypercall_msr(void);

#endif
