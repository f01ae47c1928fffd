/* Building and tearing down a domain: the KVM VM, its memory, KVM's Xen
 * support, the kernel and boot information, and the vCPUs. */
#include "domain/domain.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xen/sched.h>

#include "backends/console.h"
#include "common/log.h"
#include "common/util.h"
#include "domain/boot/acpi.h"
#include "domain/boot/kernel.h"
#include "domain/boot/layout.h"
#include "domain/boot/pvh.h"
#include "domain/cpuid.h"
#include "domain/vcpu.h"
#include "domain/backends.h"
#include "domain/xs_client.h"

/* KVM_XEN_HVM_CONFIG bits this process cannot work without. */
#define KXEN_NEEDED_XEN_CAPS                                                  \
	(KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL | KVM_XEN_HVM_CONFIG_SHARED_INFO | \
	 KVM_XEN_HVM_CONFIG_EVTCHN_2LEVEL | KVM_XEN_HVM_CONFIG_EVTCHN_SEND)

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int domain_open_kvm(struct domain *d)
{
	int caps;

	d->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (d->kvm_fd < 0) {
		log_warn("cannot open /dev/kvm");
		return -errno;
	}
	caps = ioctl(d->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XEN_HVM);
	if (caps < 0 || (caps & KXEN_NEEDED_XEN_CAPS) != KXEN_NEEDED_XEN_CAPS) {
		log_warnx("this host's KVM lacks Xen support (KVM_CAP_XEN_HVM = "
			  "0x%x, need 0x%x): a kernel built with CONFIG_KVM_XEN "
			  "is required",
			  caps < 0 ? 0 : caps, KXEN_NEEDED_XEN_CAPS);
		return -ENOTSUP;
	}
	d->vcpu_mmap_size = ioctl(d->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (d->vcpu_mmap_size <= 0) {
		log_warn("KVM_GET_VCPU_MMAP_SIZE");
		return -EINVAL;
	}
	return 0;
}

static int domain_create_vm(struct domain *d)
{
	struct kvm_enable_cap split = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args = {24},
	};
	struct kvm_xen_hvm_config xc = {
		.flags = KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL |
			 KVM_XEN_HVM_CONFIG_EVTCHN_SEND,
		.msr = cpuid_hypercall_msr(),
	};
	struct kvm_xen_hvm_attr lm = {
		.type = KVM_XEN_ATTR_TYPE_LONG_MODE,
		.u.long_mode = 1,
	};

	d->vm_fd = ioctl(d->kvm_fd, KVM_CREATE_VM, 0);
	if (d->vm_fd < 0) {
		log_warn("KVM_CREATE_VM");
		return -errno;
	}
	/* Intel needs these three pages out of the guest's way; AMD ignores
	 * them.  They sit in the MMIO hole just below the LAPIC. */
	if (ioctl(d->vm_fd, KVM_SET_TSS_ADDR, 0xfeffd000ul) < 0)
		log_warn("KVM_SET_TSS_ADDR");
	/* LAPIC in the kernel, no PIC/IOAPIC: PVH has no legacy devices. */
	if (ioctl(d->vm_fd, KVM_ENABLE_CAP, &split) < 0) {
		log_warn("KVM_CAP_SPLIT_IRQCHIP");
		return -errno;
	}
	if (ioctl(d->vm_fd, KVM_XEN_HVM_CONFIG, &xc) < 0) {
		log_warn("KVM_XEN_HVM_CONFIG");
		return -errno;
	}
	if (ioctl(d->vm_fd, KVM_XEN_HVM_SET_ATTR, &lm) < 0) {
		log_warn("KVM_XEN_ATTR_TYPE_LONG_MODE");
		return -errno;
	}
	return 0;
}

static int domain_map_memory(struct domain *d, uint64_t bytes)
{
	struct kvm_userspace_memory_region r = {0};
	int ret;

	ret = gmem_alloc(&d->mem, bytes);
	if (ret) {
		log_warnx("cannot allocate %llu MiB of guest memory: %s",
			  (unsigned long long)(bytes >> 20), strerror(-ret));
		return ret;
	}
	r.slot = 0;
	r.guest_phys_addr = 0;
	r.memory_size = d->mem.low_size;
	r.userspace_addr = (uintptr_t)d->mem.host;
	if (ioctl(d->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		log_warn("KVM_SET_USER_MEMORY_REGION (low)");
		return -errno;
	}
	if (d->mem.size > d->mem.low_size) {
		r.slot = 1;
		r.guest_phys_addr = GUEST_4G;
		r.memory_size = d->mem.size - d->mem.low_size;
		r.userspace_addr = (uintptr_t)(d->mem.host + d->mem.low_size);
		if (ioctl(d->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			log_warn("KVM_SET_USER_MEMORY_REGION (high)");
			return -errno;
		}
	}
	return 0;
}

/* Kernel, initrd, ACPI, start_info; returns the start_info gpa in *si. */
static int domain_load_guest(struct domain *d, uint64_t *entry, uint64_t *si)
{
	const struct domain_config *cfg = d->cfg;
	struct kernel_info ki;
	struct pvh_boot boot = {.cmdline = cfg->cmdline};
	char err[256] = "";
	uint8_t *initrd = NULL;
	size_t initrd_len = 0;
	int ret;

	ret = kernel_load_file(cfg->kernel, &d->mem, &ki, err, sizeof(err));
	if (ret) {
		log_warnx("kernel %s: %s", cfg->kernel,
			  err[0] ? err : strerror(-ret));
		return ret;
	}
	log_debug("kernel %s (%s): entry 0x%llx, [0x%llx, 0x%llx)",
		  cfg->kernel, ki.format, (unsigned long long)ki.entry,
		  (unsigned long long)ki.paddr_lo,
		  (unsigned long long)ki.paddr_hi);
	*entry = ki.entry;

	if (cfg->ramdisk) {
		ret = file_read_all(cfg->ramdisk, "ramdisk", GUEST_4G, &initrd,
				    &initrd_len, err, sizeof(err));
		if (ret) {
			log_warnx("%s", err);
			return ret;
		}
		boot.initrd_len = initrd_len;
		boot.initrd_gpa =
			pvh_place_initrd(&d->mem, ki.paddr_hi, initrd_len);
		if (!boot.initrd_gpa ||
		    gmem_write(&d->mem, boot.initrd_gpa, initrd, initrd_len)) {
			log_warnx("ramdisk %s (%zu bytes) does not fit in %llu "
				  "MiB of guest memory beside the kernel",
				  cfg->ramdisk, initrd_len,
				  (unsigned long long)cfg->memory_mb);
			free(initrd);
			return -ENOMEM;
		}
		free(initrd);
	}

	ret = acpi_build(&d->mem, d->nr_vcpus, &boot.rsdp_gpa);
	if (ret) {
		log_warnx("building ACPI tables: %s", strerror(-ret));
		return ret;
	}
	ret = pvh_build_start_info(&d->mem, &boot, si);
	if (ret) {
		log_warnx("building start_info: %s%s", strerror(-ret),
			  ret == -E2BIG ? " (command line too long)" : "");
		return ret;
	}
	return 0;
}

int domain_build(struct domain *d, const struct domain_config *cfg)
{
	uint64_t entry = 0, si = 0;
	unsigned i;
	int ret;

	memset(d, 0, sizeof(*d));
	d->cfg = cfg;
	d->kvm_fd = d->vm_fd = d->wake_fd = -1;
	d->mem.fd = -1;
	d->gnttab.fd = -1;
	for (i = 0; i < DOMAIN_MAX_VCPUS; i++)
		d->vcpus[i].fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->pause_lock, NULL);
	pthread_cond_init(&d->pause_cond, NULL);
	atomic_store(&d->shutdown_reason, DOMAIN_RUNNING);
	d->nr_vcpus = cfg->vcpus;
	d->start_ns = now_ns();
	if (d->nr_vcpus < 1 || d->nr_vcpus > DOMAIN_MAX_VCPUS) {
		log_warnx("vcpus = %u: must be 1..%d", d->nr_vcpus,
			  DOMAIN_MAX_VCPUS);
		return -EINVAL;
	}
	d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->wake_fd < 0)
		return -errno;

	ret = domain_open_kvm(d);
	if (ret)
		return ret;
	ret = domain_create_vm(d);
	if (ret)
		return ret;
	ret = domain_map_memory(d, cfg->memory_mb << 20);
	if (ret)
		return ret;
	ret = evtchn_init(d);
	if (ret)
		return ret;
	ret = gnttab_init(d);
	if (ret)
		return ret;
	d->ballooned = calloc(d->mem.size / GUEST_PAGE_SIZE / 8 + 1, 1);
	if (!d->ballooned)
		return -ENOMEM;
	ret = domain_load_guest(d, &entry, &si);
	if (ret)
		return ret;
	for (i = 0; i < d->nr_vcpus; i++) {
		ret = vcpu_create(d, i);
		if (ret)
			return ret;
	}
	ret = vcpu_set_pvh_entry(&d->vcpus[0], entry, si);
	if (ret)
		return ret;

	/* Parameters the guest reads at boot; the console and xenstore
	 * pages live in the reserved boot region (layout.h). */
	d->hvm_params[HVM_PARAM_TIMER_MODE] = HVMPTM_no_delay_for_missed_ticks;
	ret = console_backend_create(d);
	if (ret)
		return ret;
	/* The tree names the console's port and page. */
	ret = xs_client_attach(d);
	if (ret)
		return ret;
	/* Last: devices live in the domain's tree. */
	return backends_start(d);
}

void domain_request_shutdown(struct domain *d, int reason)
{
	int expected = DOMAIN_RUNNING;
	uint64_t one = 1;

	atomic_compare_exchange_strong(&d->shutdown_reason, &expected, reason);
	if (write(d->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("waking the main loop");
}

int domain_start(struct domain *d)
{
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		int ret = vcpu_start(&d->vcpus[i]);

		if (ret)
			return ret;
	}
	return 0;
}

void domain_stop(struct domain *d)
{
	atomic_store(&d->stopping, true);
	pthread_mutex_lock(&d->pause_lock); /* wakes parked vCPUs */
	pthread_cond_broadcast(&d->pause_cond);
	pthread_mutex_unlock(&d->pause_lock);
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		vcpu_kick(&d->vcpus[i]);
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		if (d->vcpus[i].thread_started)
			pthread_join(d->vcpus[i].thread, NULL);
		d->vcpus[i].thread_started = false;
	}
}

void domain_teardown(struct domain *d)
{
	domain_stop(d);
	backends_stop(d);
	xs_client_detach(d);
	console_backend_destroy(d);
	for (unsigned i = 0; i < DOMAIN_MAX_VCPUS; i++)
		vcpu_destroy(&d->vcpus[i]);
	evtchn_fini(d);
	gnttab_fini(d);
	free(d->ballooned);
	d->ballooned = NULL;
	if (d->vm_fd >= 0)
		close(d->vm_fd);
	if (d->kvm_fd >= 0)
		close(d->kvm_fd);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	gmem_free(&d->mem);
	d->vm_fd = d->kvm_fd = d->wake_fd = -1;
}
