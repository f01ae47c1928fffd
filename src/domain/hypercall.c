/* Hypercall dispatch, and the small hypercalls: xen_version, console_io,
 * physdev_op, vm_assist. */
#include "domain/hypercall.h"

#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <xen/features.h>
#include <xen/physdev.h>
#include <xen/version.h>

#include "backends/console.h"
#include "common/log.h"
#include "common/version.h"

_Static_assert(sizeof(xen_extraversion_t) == 16, "extraversion size");
_Static_assert(sizeof(xen_feature_info_t) == 8, "feature_info size");
_Static_assert(sizeof(xen_platform_parameters_t) == 8, "platform params");
_Static_assert(sizeof(xen_compile_info_t) == 64 + 16 + 32 + 32,
	       "compile_info size");

static uint32_t xen_features_submap0(void)
{
	return (1u << XENFEAT_writable_page_tables) |
	       (1u << XENFEAT_auto_translated_physmap) |
	       (1u << XENFEAT_supervisor_mode_kernel) |
	       (1u << XENFEAT_hvm_callback_vector) |
	       (1u << XENFEAT_hvm_safe_pvclock) |
	       (1u << XENFEAT_linux_rsdp_unrestricted);
}

long hc_xen_version(struct vcpu *v, uint64_t cmd, uint64_t arg)
{
	switch (cmd) {
	case XENVER_version:
		return (KXEN_XEN_MAJOR << 16) | KXEN_XEN_MINOR;
	case XENVER_extraversion: {
		xen_extraversion_t ev = KXEN_EXTRAVERSION;

		return vcpu_copy_to_guest(v, arg, ev, sizeof(ev));
	}
	case XENVER_compile_info: {
		xen_compile_info_t ci;

		memset(&ci, 0, sizeof(ci));
		strcpy(ci.compiler, "gcc");
		strcpy(ci.compile_by, "kxen");
		strcpy(ci.compile_domain, "kxen");
		strcpy(ci.compile_date, __DATE__);
		return vcpu_copy_to_guest(v, arg, &ci, sizeof(ci));
	}
	case XENVER_capabilities: {
		xen_capabilities_info_t caps;

		memset(caps, 0, sizeof(caps));
		strcpy(caps, KXEN_XEN_CAPS);
		return vcpu_copy_to_guest(v, arg, caps, sizeof(caps));
	}
	case XENVER_changeset: {
		xen_changeset_info_t cs;

		memset(cs, 0, sizeof(cs));
		strcpy(cs, "kxen");
		return vcpu_copy_to_guest(v, arg, cs, sizeof(cs));
	}
	case XENVER_platform_parameters: {
		xen_platform_parameters_t pp = {.virt_start = 0};

		return vcpu_copy_to_guest(v, arg, &pp, sizeof(pp));
	}
	case XENVER_get_features: {
		xen_feature_info_t fi;

		if (vcpu_copy_from_guest(v, arg, &fi, sizeof(fi)))
			return -EFAULT;
		fi.submap = fi.submap_idx == 0 ? xen_features_submap0() : 0;
		return vcpu_copy_to_guest(v, arg, &fi, sizeof(fi));
	}
	case XENVER_pagesize:
		return 4096;
	case XENVER_guest_handle: {
		xen_domain_handle_t h;

		memcpy(h, v->dom->cfg->uuid, sizeof(h));
		return vcpu_copy_to_guest(v, arg, h, sizeof(h));
	}
	case XENVER_commandline: {
		xen_commandline_t cl;

		memset(cl, 0, sizeof(cl));
		return vcpu_copy_to_guest(v, arg, cl, sizeof(cl));
	}
	case XENVER_build_id:
		return -EPERM; /* as Xen answers unprivileged guests */
	default:
		log_unimplemented("xen_version", cmd, 0);
		return -ENOSYS;
	}
}

/* CONSOLEIO_write from a domU: Xen prints it to its own log; so do we, to
 * the domain's console log, marked as hypervisor-console output. */
static long hc_console_io(struct vcpu *v, uint64_t cmd, uint64_t count,
			  uint64_t buf)
{
	char tmp[256];

	switch (cmd) {
	case CONSOLEIO_write:
		while (count) {
			size_t n = count < sizeof(tmp) ? count : sizeof(tmp);

			if (vcpu_copy_from_guest(v, buf, tmp, n))
				return -EFAULT;
			console_debug_write(v->dom, tmp, n);
			count -= n;
			buf += n;
		}
		return 0;
	case CONSOLEIO_read:
		return 0; /* nothing to read: domU has no hypervisor console */
	default:
		log_unimplemented("console_io", cmd, 0);
		return -ENOSYS;
	}
}

static long hc_physdev_op(struct vcpu *v, uint64_t cmd, uint64_t arg)
{
	/* A PVH domU owns no physical devices or IRQs. */
	log_unimplemented("physdev_op", cmd, 0);
	return -ENOSYS;
}

static long hc_vm_assist(struct vcpu *v, uint64_t cmd, uint64_t type)
{
	/* KVM always maintains XEN_RUNSTATE_UPDATE in runstate areas. */
	if (type == VMASST_TYPE_runstate_update_flag &&
	    (cmd == VMASST_CMD_enable || cmd == VMASST_CMD_disable))
		return 0;
	log_unimplemented("vm_assist", cmd, type);
	return -EINVAL;
}

void hypercall_dispatch(struct vcpu *v)
{
	struct kvm_xen_exit *x = &v->run->xen;
	__u64 *p = x->u.hcall.params;
	long r;

	/* Xen refuses hypercalls from HVM guest user space. */
	if (x->u.hcall.cpl != 0) {
		x->u.hcall.result = (uint64_t)(long)-EPERM;
		return;
	}
	if (!x->u.hcall.longmode) {
		log_unimplemented("32-bit hypercall", x->u.hcall.input, 0);
		x->u.hcall.result = (uint64_t)(long)-ENOSYS;
		return;
	}
	switch (x->u.hcall.input) {
	case __HYPERVISOR_xen_version:
		r = hc_xen_version(v, p[0], p[1]);
		break;
	case __HYPERVISOR_memory_op:
		r = hc_memory_op(v, p[0], p[1]);
		break;
	case __HYPERVISOR_hvm_op:
		r = hc_hvm_op(v, p[0], p[1]);
		break;
	case __HYPERVISOR_vcpu_op:
		r = hc_vcpu_op(v, p[0], p[1], p[2]);
		break;
	case __HYPERVISOR_sched_op:
		r = hc_sched_op(v, p[0], p[1]);
		break;
	case __HYPERVISOR_set_timer_op:
		r = hc_set_timer_op(v, p[0]);
		break;
	case __HYPERVISOR_event_channel_op:
		r = evtchn_hypercall(v, p[0], p[1]);
		break;
	case __HYPERVISOR_console_io:
		r = hc_console_io(v, p[0], p[1], p[2]);
		break;
	case __HYPERVISOR_grant_table_op:
		r = gnttab_hypercall(v, p[0], p[1], p[2]);
		break;
	case __HYPERVISOR_physdev_op:
		r = hc_physdev_op(v, p[0], p[1]);
		break;
	case __HYPERVISOR_vm_assist:
		r = hc_vm_assist(v, p[0], p[1]);
		break;
	default:
		log_unimplemented("hypercall", x->u.hcall.input, 0);
		r = -ENOSYS;
		break;
	}
	x->u.hcall.result = (uint64_t)r;
	log_debug("vCPU %u: hypercall %llu (%llx, %llx, %llx) = %ld", v->id,
		  (unsigned long long)x->u.hcall.input, (unsigned long long)p[0],
		  (unsigned long long)p[1], (unsigned long long)p[2], r);
}
