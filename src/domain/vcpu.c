/* vCPU threads: KVM_RUN and the exits that reach user space. */
#include "domain/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "common/log.h"
#include "domain/cpuid.h"
#include "domain/hypercall.h"
#include "domain/ioport.h"
#include "domain/timer.h"

#define VCPU_KICK_SIGNAL SIGUSR1

static void vcpu_kick_handler(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN */
}

int vcpu_create(struct domain *d, unsigned id)
{
	struct vcpu *v = &d->vcpus[id];
	struct kvm_xen_vcpu_attr xid = {
		.type = KVM_XEN_VCPU_ATTR_TYPE_VCPU_ID,
		.u.vcpu_id = id,
	};
	int ret;

	v->dom = d;
	v->id = id;
	pthread_mutex_init(&v->work_lock, NULL);
	v->fd = ioctl(d->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		log_warn("KVM_CREATE_VCPU %u", id);
		return -errno;
	}
	v->run = mmap(NULL, d->vcpu_mmap_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		log_warn("mmap of vCPU %u run area", id);
		return -errno;
	}
	ret = cpuid_setup_vcpu(d->kvm_fd, v->fd, id, d->nr_vcpus,
			       d->cfg->domid);
	if (ret)
		return ret;
	if (ioctl(v->fd, KVM_XEN_VCPU_SET_ATTR, &xid) < 0) {
		log_warn("KVM_XEN_VCPU_ATTR_TYPE_VCPU_ID %u", id);
		return -errno;
	}
	v->up = id == 0;
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	struct vcpu_work *w;

	while ((w = v->work)) {
		v->work = w->next;
		free(w->arg);
		free(w);
	}
	if (v->run)
		munmap(v->run, v->dom->vcpu_mmap_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static void seg_flat(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = 0;
	s->db = 1;
	s->s = 1;
	s->g = 1;
}

int vcpu_set_pvh_entry(struct vcpu *v, uint64_t entry, uint64_t start_info)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {0};

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	seg_flat(&sregs.cs, 0x10, 0xb); /* execute/read, accessed */
	seg_flat(&sregs.ds, 0x18, 0x3); /* read/write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.selector = 0x20;
	sregs.tr.limit = 0x67;
	sregs.tr.type = 0xb; /* busy 32-bit TSS, required by VMX */
	sregs.tr.present = 1;
	sregs.cr0 = 0x11; /* PE | ET, paging off */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	regs.rip = entry;
	regs.rbx = start_info;
	regs.rflags = 0x2;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

void vcpu_dump(struct vcpu *v, const char *why)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		log_warnx("vCPU %u: %s (registers unavailable)", v->id, why);
		return;
	}
	log_warnx("vCPU %u: %s: rip %llx rsp %llx rax %llx rbx %llx rcx %llx "
		  "rdx %llx rsi %llx rdi %llx rflags %llx cr0 %llx cr3 %llx "
		  "cr4 %llx efer %llx cs %x",
		  v->id, why, (unsigned long long)r.rip,
		  (unsigned long long)r.rsp, (unsigned long long)r.rax,
		  (unsigned long long)r.rbx, (unsigned long long)r.rcx,
		  (unsigned long long)r.rdx, (unsigned long long)r.rsi,
		  (unsigned long long)r.rdi, (unsigned long long)r.rflags,
		  (unsigned long long)s.cr0, (unsigned long long)s.cr3,
		  (unsigned long long)s.cr4, (unsigned long long)s.efer,
		  s.cs.selector);
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->run)
		return;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (v->thread_started)
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_queue_work(struct vcpu *v, void (*fn)(struct vcpu *, void *),
		     void *arg)
{
	struct vcpu_work *w = malloc(sizeof(*w)), **tail;

	if (!w) {
		log_warnx("vCPU %u: out of memory queueing work", v->id);
		free(arg);
		return;
	}
	w->fn = fn;
	w->arg = arg;
	w->next = NULL;
	pthread_mutex_lock(&v->work_lock);
	for (tail = &v->work; *tail; tail = &(*tail)->next)
		;
	*tail = w;
	pthread_mutex_unlock(&v->work_lock);
	if (v->thread_started && !pthread_equal(pthread_self(), v->thread))
		vcpu_kick(v);
}

/* Runs queued work on v's own thread: the only place a vCPU ioctl for v
 * may be issued while other vCPUs run. */
static void vcpu_run_work(struct vcpu *v)
{
	struct vcpu_work *w;

	for (;;) {
		pthread_mutex_lock(&v->work_lock);
		w = v->work;
		if (w)
			v->work = w->next;
		pthread_mutex_unlock(&v->work_lock);
		if (!w)
			return;
		w->fn(v, w->arg);
		free(w);
	}
}

int vcpu_gva_to_gpa(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation t = {.linear_address = gva};

	if (ioctl(v->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
		return -EFAULT;
	*gpa = t.physical_address;
	return 0;
}

/* Walks [gva, gva+len) a page at a time: guest-virtual ranges need not be
 * physically contiguous. */
static int vcpu_copy_guest(struct vcpu *v, uint64_t gva, void *buf,
			   size_t len, bool to_guest)
{
	uint8_t *p = buf;

	while (len) {
		uint64_t gpa, in_page = GUEST_PAGE_SIZE - (gva & 4095);
		size_t n = len < in_page ? len : in_page;
		void *host;

		if (vcpu_gva_to_gpa(v, gva, &gpa))
			return -EFAULT;
		host = gmem_ptr(&v->dom->mem, gpa, n);
		if (!host)
			return -EFAULT;
		if (to_guest)
			memcpy(host, p, n);
		else
			memcpy(p, host, n);
		p += n;
		gva += n;
		len -= n;
	}
	return 0;
}

int vcpu_copy_from_guest(struct vcpu *v, uint64_t gva, void *buf, size_t len)
{
	return vcpu_copy_guest(v, gva, buf, len, false);
}

int vcpu_copy_to_guest(struct vcpu *v, uint64_t gva, const void *buf,
		       size_t len)
{
	return vcpu_copy_guest(v, gva, (void *)buf, len, true);
}

/* Returns false if the vCPU must stop. */
static bool vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	/* String I/O repeats the access `count` times over the buffer. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		if (!ioport_access(v, run->io.port,
				   run->io.direction == KVM_EXIT_IO_OUT, data,
				   run->io.size))
			return false;
	return true;
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	if (log_first_time("MMIO page", run->mmio.phys_addr & ~4095ull,
			   run->mmio.is_write))
		log_debug("no device at MMIO 0x%llx (%s)",
			  (unsigned long long)run->mmio.phys_addr,
			  run->mmio.is_write ? "write" : "read");
}

/* Returns false when the vCPU must stop. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	switch (run->exit_reason) {
	case KVM_EXIT_XEN:
		if (run->xen.type == KVM_EXIT_XEN_HCALL)
			hypercall_dispatch(v);
		return true;
	case KVM_EXIT_IO:
		return vcpu_handle_io(v);
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(v);
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return true;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: Xen's default (HVM_PARAM_TRIPLE_FAULT_REASON)
		 * treats it as a reboot, and so does Linux's last way to
		 * restart a machine. */
		log_info("vCPU %u: triple fault: rebooting the domain", v->id);
		domain_request_shutdown(v->dom, SHUTDOWN_reboot);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		domain_request_shutdown(v->dom,
					run->system_event.type ==
							KVM_SYSTEM_EVENT_RESET
						? SHUTDOWN_reboot
						: SHUTDOWN_poweroff);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		log_warnx("vCPU %u: entry failed, hardware reason 0x%llx",
			  v->id,
			  (unsigned long long)
				  run->fail_entry.hardware_entry_failure_reason);
		vcpu_dump(v, "entry failure");
		domain_request_shutdown(v->dom, SHUTDOWN_crash);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		log_warnx("vCPU %u: KVM internal error, suberror %u", v->id,
			  run->internal.suberror);
		vcpu_dump(v, "internal error");
		domain_request_shutdown(v->dom, SHUTDOWN_crash);
		return false;
	default:
		log_warnx("vCPU %u: unexpected exit reason %u", v->id,
			  run->exit_reason);
		vcpu_dump(v, "unexpected exit");
		domain_request_shutdown(v->dom, SHUTDOWN_crash);
		return false;
	}
}

/* Tells KVM (and through the runstate area, the guest) that v is offline
 * while it is parked, as Xen does for a paused vCPU; KVM counts it as
 * running again at the next KVM_RUN.  Best effort: without runstate
 * support in KVM there is nothing to tell. */
static void vcpu_runstate_offline(struct vcpu *v)
{
	struct kvm_xen_vcpu_attr a = {
		.type = KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_CURRENT,
		.u.runstate.state = RUNSTATE_offline,
	};

	if (ioctl(v->fd, KVM_XEN_VCPU_SET_ATTR, &a) < 0 &&
	    log_first_time("runstate offline", errno, 0))
		log_debug("vCPU %u: runstate offline: %s", v->id,
			  strerror(errno));
}

/* Waits, outside KVM_RUN, while the domain is paused. */
static void vcpu_park(struct vcpu *v)
{
	struct domain *d = v->dom;

	vcpu_runstate_offline(v);
	pthread_mutex_lock(&d->pause_lock);
	d->nr_parked++;
	pthread_cond_broadcast(&d->pause_cond);
	while (atomic_load(&d->paused) && !atomic_load(&d->stopping))
		pthread_cond_wait(&d->pause_cond, &d->pause_lock);
	d->nr_parked--;
	pthread_mutex_unlock(&d->pause_lock);
}

/* The thread's CPU time goes to the domain's account (a domain kept after
 * its shutdown still shows the time it used), and a pause waiting for
 * this thread to park stops waiting. */
static void vcpu_thread_exit(struct vcpu *v)
{
	struct domain *d = v->dom;
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
		atomic_fetch_add(&d->cpu_exited_ns,
				 (uint64_t)ts.tv_sec * 1000000000ull +
					 (uint64_t)ts.tv_nsec);
	pthread_mutex_lock(&d->pause_lock);
	atomic_store(&v->exited, true);
	pthread_cond_broadcast(&d->pause_cond);
	pthread_mutex_unlock(&d->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct domain *d = v->dom;
	char name[16];
	sigset_t set;

	/* kxl list and vcpu-list find the vCPU threads by this name. */
	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	for (;;) {
		__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		vcpu_run_work(v);
		if (atomic_load(&d->stopping) ||
		    atomic_load(&d->shutdown_reason) != DOMAIN_RUNNING)
			break;
		/* domain_pause() sets paused before it kicks: either we see
		 * it here or KVM_RUN sees immediate_exit. */
		if (atomic_load(&d->paused)) {
			vcpu_park(v);
			continue;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_warn("vCPU %u: KVM_RUN", v->id);
			domain_request_shutdown(d, SHUTDOWN_crash);
			break;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	vcpu_thread_exit(v);
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	static bool handler_installed;
	struct sigaction sa = {.sa_handler = vcpu_kick_handler};
	int ret;

	if (!handler_installed) {
		sigemptyset(&sa.sa_mask);
		sigaction(VCPU_KICK_SIGNAL, &sa, NULL); /* no SA_RESTART */
		handler_installed = true;
	}
	ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (ret) {
		log_warnx("starting vCPU %u: %s", v->id, strerror(ret));
		return -ret;
	}
	v->thread_started = true;
	return 0;
}

int domain_pause(struct domain *d)
{
	struct timespec deadline;
	bool done = false;
	int ret = 0;

	pthread_mutex_lock(&d->pause_lock);
	if (!atomic_load(&d->paused)) {
		d->paused_at = now_ns();
		atomic_store(&d->paused, true);
	}
	pthread_mutex_unlock(&d->pause_lock);
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		vcpu_kick(&d->vcpus[i]);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 2;
	pthread_mutex_lock(&d->pause_lock);
	while (!done && !ret) {
		unsigned live = 0;

		for (unsigned i = 0; i < d->nr_vcpus; i++)
			live += d->vcpus[i].thread_started &&
				!atomic_load(&d->vcpus[i].exited);
		done = d->nr_parked >= live;
		if (!done)
			ret = pthread_cond_clockwait(&d->pause_cond,
						     &d->pause_lock,
						     CLOCK_MONOTONIC, &deadline);
	}
	pthread_mutex_unlock(&d->pause_lock);
	return done ? 0 : -ETIMEDOUT;
}

void domain_unpause(struct domain *d)
{
	uint64_t paused_for = 0;

	pthread_mutex_lock(&d->pause_lock);
	if (atomic_load(&d->paused)) {
		paused_for = now_ns() - d->paused_at;
		atomic_store(&d->paused, false);
		pthread_cond_broadcast(&d->pause_cond);
	}
	pthread_mutex_unlock(&d->pause_lock);
	if (paused_for)
		timer_resume(d, paused_for);
}
