/* The per-domain process: one KVM virtual machine running one Xen PVH guest.
 *
 * Threads: one per vCPU (runs KVM_RUN and handles the exits that reach user
 * space, hypercalls included) and the main thread, which runs the event
 * loop (backends such as the console, signals, shutdown handling).
 *
 * Locking: `dom->lock` protects the event channel table and the HVM
 * parameters.  A KVM vCPU ioctl can only be issued while that vCPU is out
 * of KVM_RUN, so work aimed at another vCPU (registering its vcpu_info,
 * arming its timer) is queued with vcpu_queue_work() and done by the
 * target's own thread. */
#ifndef KXEN_DOMAIN_DOMAIN_H
#define KXEN_DOMAIN_DOMAIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>
#include <xen/xen.h>
#include <xen/hvm/params.h>

#include "domain/guest_mem.h"
#include "domain/evtchn.h"
#include "domain/gnttab.h"

#define DOMAIN_MAX_VCPUS 64
#define DOMAIN_MAX_DISKS 16
#define DOMAIN_MAX_VIFS 16

/* Xen's shutdown reasons (SHUTDOWN_* in sched.h) plus our own for a
 * domain that stopped because the host side gave up on it. */
#define DOMAIN_RUNNING (-1)

struct domain;

struct vcpu_work {
	struct vcpu_work *next;
	void (*fn)(struct vcpu *v, void *arg);
	void *arg;
};

struct vcpu {
	struct domain *dom;
	unsigned id;                /* Xen vCPU id == KVM vCPU id == APIC id */
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t work_lock;
	struct vcpu_work *work;     /* queued by other threads */

	uint64_t vcpu_info_gpa;     /* where KVM maintains this vcpu_info */
	bool vcpu_info_placed;      /* guest used VCPUOP_register_vcpu_info */
	uint32_t timer_port;        /* VIRQ_TIMER port, 0 when unbound */
	uint64_t periodic_ns;       /* VCPUOP_set_periodic_timer period */
	uint64_t periodic_next;     /* next periodic tick, monotonic ns */
	bool up;                    /* VCPUOP_is_up */
	atomic_bool exited;         /* its thread has left the run loop */
};

struct domain_config {
	const char *name;
	uint32_t domid;
	uint8_t uuid[16];
	uint64_t memory_mb;
	unsigned vcpus;
	const char *kernel;
	const char *ramdisk;        /* may be NULL */
	const char *cmdline;        /* may be NULL */
	const char *console_log;    /* console output file, may be NULL */
	bool console_stdio;         /* console on stdin/stdout */
	bool console_pty;           /* allocate a pty for the console */
	int on_poweroff, on_reboot, on_crash, on_watchdog; /* ACTION_* */
	bool paused;                /* start with vCPUs not running */
	const char *disks[DOMAIN_MAX_DISKS]; /* xl disk specs */
	unsigned nr_disks;
	const char *vifs[DOMAIN_MAX_VIFS]; /* xl vif specs */
	unsigned nr_vifs;
};

/* What to do when the guest shuts down (xl.cfg on_poweroff etc.). */
enum domain_action {
	ACTION_DESTROY,
	ACTION_RESTART,
	ACTION_PRESERVE,
	ACTION_RENAME_RESTART,
	ACTION_COREDUMP_DESTROY,
	ACTION_COREDUMP_RESTART,
	ACTION_SOFT_RESET,
};

struct domain {
	const struct domain_config *cfg;
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct guest_mem mem;
	unsigned nr_vcpus;
	struct vcpu vcpus[DOMAIN_MAX_VCPUS];

	pthread_mutex_t lock;
	uint64_t hvm_params[HVM_NR_PARAMS];
	uint64_t shinfo_gfn;        /* 0: not mapped yet */
	uint8_t upcall_vector;
	struct evtchn_table evtchn;
	struct gnttab gnttab;
	uint8_t *ballooned;         /* bitmap: RAM pages given back (balloon) */
	uint64_t nr_ballooned;

	/* Shutdown: the first SCHEDOP_shutdown (or fatal exit) wins. */
	atomic_int shutdown_reason; /* DOMAIN_RUNNING or SHUTDOWN_* */
	atomic_bool stopping;       /* vCPU threads must leave their loops */
	int wake_fd;                /* eventfd: wakes the main loop */
	uint64_t start_ns;          /* CLOCK_MONOTONIC at build */

	/* Pause (xl pause): while `paused` is set, vCPU threads park on
	 * pause_cond instead of entering KVM_RUN and the user-space timers
	 * wait (timer.h).  nr_parked and paused_at are under pause_lock. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	atomic_bool paused;
	unsigned nr_parked;
	uint64_t paused_at;         /* CLOCK_MONOTONIC when paused */
	/* CPU time (ns) of the vCPU threads that have ended, for a domain
	 * kept after its shutdown (on_*=preserve). */
	atomic_uint_fast64_t cpu_exited_ns;

	struct console_backend *console;
	struct xs_client *xs;       /* connection to kxend, NULL if none */
	struct backends *backends;  /* device backends (backends.h) */

	/* Watchdogs (SCHEDOP_watchdog): deadlines in CLOCK_MONOTONIC ns,
	 * 0 when the slot is free. */
	uint64_t watchdog_deadline[2];
};

/* Builds the VM: KVM, memory, Xen configuration, kernel, boot info,
 * vCPUs.  Returns 0 or -errno, with a message logged. */
int domain_build(struct domain *d, const struct domain_config *cfg);
/* Starts the vCPU threads (after domain_build). */
int domain_start(struct domain *d);
/* Stops and joins every vCPU thread. */
void domain_stop(struct domain *d);
/* Releases everything domain_build made. */
void domain_teardown(struct domain *d);

/* Records a shutdown request (first one wins) and wakes the main loop.
 * Called from any thread. */
void domain_request_shutdown(struct domain *d, int reason);

/* Queues fn(v, arg) to run on v's own thread before it next enters the
 * guest, and kicks v out of KVM_RUN.  Ownership of arg passes to fn. */
void vcpu_queue_work(struct vcpu *v, void (*fn)(struct vcpu *, void *),
		     void *arg);
/* Makes v leave KVM_RUN soon (immediate_exit + signal). */
void vcpu_kick(struct vcpu *v);

/* Pauses the domain (main thread): every vCPU thread is kicked out of
 * KVM_RUN and parks until domain_unpause(); returns once all of them are
 * parked (0) or after 2 s (-ETIMEDOUT, still pausing).  Idempotent. */
int domain_pause(struct domain *d);
/* Lets the parked vCPU threads run again and moves the user-space timers'
 * deadlines by the time spent paused.  Idempotent. */
void domain_unpause(struct domain *d);

/* Guest-virtual access from a vCPU's own thread (hypercall arguments are
 * guest-virtual addresses).  0 or -EFAULT. */
int vcpu_copy_from_guest(struct vcpu *v, uint64_t gva, void *buf, size_t len);
int vcpu_copy_to_guest(struct vcpu *v, uint64_t gva, const void *buf,
		       size_t len);
int vcpu_gva_to_gpa(struct vcpu *v, uint64_t gva, uint64_t *gpa);

/* Monotonic nanoseconds. */
uint64_t now_ns(void);

#endif
