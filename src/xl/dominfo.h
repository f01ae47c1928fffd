/* What kxl learns about a running domain, and xl's ways of printing it.
 *
 * Two sources: the domain process's control channel (common/ctl_wire.h,
 * src/domain/control.h) for what only it knows (paused, shut down and
 * kept, boots, its console pty, its configuration), and /proc for what the
 * host kernel knows better: each vCPU is a thread named "vcpuN" of the
 * domain process, so /proc/<pid>/task/<tid>/stat gives its scheduler state
 * (R: running, S/D: blocked), the CPU it last ran on (field 39) and the
 * CPU time it used (utime + stime, guest time included).
 *
 * The parsers and formatters are pure and unit-tested
 * (tests/unit/test_dominfo.c). */
#ifndef KXEN_XL_DOMINFO_H
#define KXEN_XL_DOMINFO_H

#include <sched.h> /* cpu_set_t (_GNU_SOURCE) */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/ctl_wire.h"

struct kxl_dom;

/* One task of /proc/<pid>/task: the fields kxl uses. */
struct proc_task {
	pid_t tid;
	char comm[16];
	char state;	/* R, S, D, T, Z, ... */
	uint64_t ticks; /* utime + stime, in clock ticks */
	int cpu;	/* field 39: the CPU it last ran on */
};

/* Parses one /proc/.../stat line (the comm may hold spaces and ')').
 * 0 or -EINVAL. */
int procstat_parse(const char *line, struct proc_task *t);

#define DOMINFO_MAX_VCPUS 64

struct kxl_dominfo {
	bool answered;	 /* the control channel replied to "info" */
	bool dying;	 /* the domain process is destroying it */
	unsigned paused; /* pause count */
	int shutdown;	 /* -1, or the SHUTDOWN_* reason it stopped with */
	unsigned boots;
	long long boot_time;
	uint64_t cpu_exited_ns;
	char uuid[37];
	char pty[128];
	char line[CTL_LINE_MAX]; /* the whole "info" reply, for ctl_get */
	/* The vCPU threads, by vCPU id (vcpu[i].tid 0: no thread). */
	unsigned nr_vcpus; /* highest id + 1 seen, or the configured count */
	struct proc_task vcpu[DOMINFO_MAX_VCPUS];
	cpu_set_t affinity[DOMINFO_MAX_VCPUS];
};

/* Fills info for d: the control channel's "info" (timeout_ms to answer)
 * and the vCPU threads of d->pid.  Never fails: what could not be learnt
 * stays zero (info->answered false). */
void dominfo_get(const struct kxl_dom *d, struct kxl_dominfo *info,
		 int timeout_ms);
/* dominfo_get for n domains at once (all asked before any answer is
 * read; timeout_ms for them all): a malloc'd array of n, NULL when out of
 * memory. */
struct kxl_dominfo *dominfo_get_all(const struct kxl_dom *doms, int n,
				    int timeout_ms);

/* xl's six state letters "rbpscd" (each '-' when not so) into out[7]:
 * r some vCPU running, b some vCPU blocked (neither while paused), p
 * paused, s shut down, then the shutdown reason's letter as xl prints it
 * ("-rscwS": poweroff, reboot, suspend, crash, watchdog, soft reset), d
 * dying. */
void dominfo_state(const struct kxl_dominfo *info, char out[7]);
/* One vCPU's state as xl vcpu-list prints it ("r", "b" or "-"). */
char dominfo_vcpu_state(const struct kxl_dominfo *info, unsigned vcpu);
/* CPU seconds the domain's vCPUs used. */
double dominfo_cpu_seconds(const struct kxl_dominfo *info);
double dominfo_vcpu_seconds(const struct kxl_dominfo *info, unsigned vcpu);

/* ---- Domain-0: the host ---- */

/* CPU seconds the host spent outside guests (/proc/stat), all CPUs
 * (cpu -1) or one. */
double dom0_cpu_seconds(int cpu);
/* The host's RAM in MiB. */
unsigned long dom0_memory_mb(void);

/* ---- device counters (kxl top) ---- */

#define DOMSTATS_MAX_DEVS 32

/* One vbd's and one vif's counters as the control channel's "stats"
 * reports them (src/domain/control.h); a vif's tx is what the guest
 * sent. */
struct kxl_vbd_stats {
	uint32_t devid;
	uint64_t rd_req, wr_req, oo_req, rd_sect, wr_sect;
};
struct kxl_vif_stats {
	uint32_t devid;
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
};

struct kxl_domstats {
	bool answered;		/* the control channel replied to "stats" */
	uint64_t mem_kb;	/* RAM less what the balloon gave back */
	uint64_t maxmem_kb;
	unsigned nr_vbds, nr_vifs;
	struct kxl_vbd_stats vbd[DOMSTATS_MAX_DEVS];
	struct kxl_vif_stats vif[DOMSTATS_MAX_DEVS];
};

/* Parses a "stats" reply line into st (answered set).  0, or -EINVAL for
 * a missing or malformed key (st then holds what came before it); devices
 * beyond DOMSTATS_MAX_DEVS are left out. */
int domstats_parse(const char *line, struct kxl_domstats *st);
/* Asks d's domain process for its counters (timeout_ms to answer).  Never
 * fails: what could not be learnt stays zero (st->answered false). */
void domstats_get(const struct kxl_dom *d, struct kxl_domstats *st,
		  int timeout_ms);

/* xl uptime's duration: "[D day[s], ]HH:MM:SS", or without seconds in
 * short mode ("%2d:%02d" style). */
void uptime_format(unsigned long secs, bool short_mode, char *out, size_t len);
/* A CPU set as xl prints bitmaps: "all" when every one of the nr_cpus is
 * in it, "none" when none is, else ranges "0-3,6". */
void cpumap_format(const cpu_set_t *set, unsigned nr_cpus, char *out,
		   size_t len);

/* ---- the control channel, client side ---- */

/* Connects to domid's control socket.  fd, or -errno (-ENOENT: no such
 * socket). */
int domctl_connect(uint32_t domid);
/* Sends one request line (newline added).  0 or -errno. */
int domctl_send(int fd, const char *req);
/* Reads one reply line (newline removed) within timeout_ms (-1: no
 * limit).  0 for "ok ...", the errno of an "error N ..." line (positive),
 * or -errno: -ETIMEDOUT, -EPIPE when the domain process closed it. */
int domctl_recv(int fd, char *line, size_t len, int timeout_ms);
/* domctl_send with a file descriptor passed along (SCM_RIGHTS).  0 or
 * -errno. */
int domctl_send_fd(int fd, const char *req, int pass_fd);
/* Connect, send, receive, close. */
int domctl_request(uint32_t domid, const char *req, char *reply, size_t len,
		   int timeout_ms);
/* The message of an "error N MESSAGE" line. */
const char *domctl_error_text(const char *line);

#endif
