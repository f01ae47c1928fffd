/* CPUID for a Xen PVH guest: the host's supported leaves with KVM's own
 * paravirtual leaves replaced by Xen's (signature "XenVMMXenVMM" at
 * 0x40000000), per-vCPU APIC ids, and the hypervisor bit set. */
#include "domain/cpuid.h"

#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include <xen/arch-x86/cpuid.h>

#include "common/log.h"

#define CPUID_MAX_ENTRIES 256

/* The hypercall-page MSR the guest writes (Xen's leaf 2 reports it). */
#define XEN_HYPERCALL_MSR 0x40000000u

static struct kvm_cpuid2 *cpuid_supported(int kvm_fd)
{
	struct kvm_cpuid2 *c;

	c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	if (!c)
		return NULL;
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		log_warn("KVM_GET_SUPPORTED_CPUID");
		free(c);
		return NULL;
	}
	return c;
}

static struct kvm_cpuid_entry2 *cpuid_add(struct kvm_cpuid2 *c, uint32_t fn)
{
	struct kvm_cpuid_entry2 *e;

	if (c->nent >= CPUID_MAX_ENTRIES)
		return NULL;
	e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	return e;
}

uint32_t cpuid_hypercall_msr(void)
{
	return XEN_HYPERCALL_MSR;
}

int cpuid_setup_vcpu(int kvm_fd, int vcpu_fd, unsigned vcpu_id,
		     unsigned nr_vcpus, uint32_t domid)
{
	struct kvm_cpuid2 *c = cpuid_supported(kvm_fd);
	struct kvm_cpuid_entry2 *e;
	unsigned i, out = 0;
	int ret = -ENOMEM;

	if (!c)
		return -ENOMEM;
	/* Drop KVM's own paravirtual leaves: this guest sees Xen only. */
	for (i = 0; i < c->nent; i++) {
		if ((c->entries[i].function & 0xffff0000u) == 0x40000000u)
			continue;
		c->entries[out++] = c->entries[i];
	}
	c->nent = out;

	for (i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffffu) | (vcpu_id << 24) |
				 ((nr_vcpus & 0xff) << 16);
			e->ecx |= 1u << 31; /* running under a hypervisor */
			break;
		case 0xb:
		case 0x1f:
			e->edx = vcpu_id; /* x2APIC id */
			break;
		}
	}

	e = cpuid_add(c, XEN_CPUID_LEAF(0));
	if (!e)
		goto out;
	e->eax = XEN_CPUID_LEAF(4); /* highest Xen leaf */
	e->ebx = XEN_CPUID_SIGNATURE_EBX;
	e->ecx = XEN_CPUID_SIGNATURE_ECX;
	e->edx = XEN_CPUID_SIGNATURE_EDX;
	e = cpuid_add(c, XEN_CPUID_LEAF(1));
	if (!e)
		goto out;
	e->eax = (4u << 16) | 17u; /* we implement the Xen 4.17 ABI */
	e = cpuid_add(c, XEN_CPUID_LEAF(2));
	if (!e)
		goto out;
	e->eax = 1; /* one hypercall page */
	e->ebx = XEN_HYPERCALL_MSR;
	e = cpuid_add(c, XEN_CPUID_LEAF(3));
	if (!e)
		goto out;
	e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	e = cpuid_add(c, XEN_CPUID_LEAF(4));
	if (!e)
		goto out;
	e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	e->eax = XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT;
	e->ebx = vcpu_id;
	e->ecx = domid;

	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0) {
		ret = -errno;
		log_warn("KVM_SET_CPUID2 for vCPU %u", vcpu_id);
		goto out;
	}
	ret = 0;
out:
	free(c);
	return ret;
}
