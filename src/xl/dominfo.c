/* What kxl learns about a running domain (see dominfo.h): the control
 * channel's client, /proc's vCPU threads, and xl's formats. */
#include "xl/dominfo.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xl/kxl.h"

/* ---- /proc ---- */

int procstat_parse(const char *line, struct proc_task *t)
{
	const char *open = strchr(line, '('), *close = strrchr(line, ')');
	unsigned long long utime = 0, stime = 0;
	const char *p;
	size_t n;
	int field;

	memset(t, 0, sizeof(*t));
	t->cpu = -1;
	if (!open || !close || close < open || close[1] != ' ')
		return -EINVAL;
	t->tid = (pid_t)strtol(line, NULL, 10);
	n = (size_t)(close - open - 1);
	if (n >= sizeof(t->comm))
		n = sizeof(t->comm) - 1;
	memcpy(t->comm, open + 1, n);
	t->comm[n] = '\0';
	/* After "(comm) " come fields 3 (state), 4, ... separated by one
	 * space each. */
	p = close + 2;
	for (field = 3; *p && field <= 39; field++) {
		switch (field) {
		case 3:
			t->state = *p;
			break;
		case 14:
			utime = strtoull(p, NULL, 10);
			break;
		case 15:
			stime = strtoull(p, NULL, 10);
			break;
		case 39:
			t->cpu = (int)strtol(p, NULL, 10);
			break;
		}
		p = strchr(p, ' ');
		if (!p)
			break;
		p++;
	}
	if (!t->state || field < 15)
		return -EINVAL;
	t->ticks = utime + stime;
	return 0;
}

/* The threads named vcpuN of pid, into info->vcpu[N]. */
static void dominfo_threads(pid_t pid, struct kxl_dominfo *info)
{
	char path[64], line[1024];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		struct proc_task t;
		unsigned long id;
		char *end;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat",
			 (int)pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue; /* the thread ended meanwhile */
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
		if (procstat_parse(line, &t) < 0 ||
		    strncmp(t.comm, "vcpu", 4) != 0)
			continue;
		id = strtoul(t.comm + 4, &end, 10);
		if (*end || end == t.comm + 4 || id >= DOMINFO_MAX_VCPUS)
			continue;
		info->vcpu[id] = t;
		CPU_ZERO(&info->affinity[id]);
		sched_getaffinity(t.tid, sizeof(cpu_set_t),
				  &info->affinity[id]);
		if (id + 1 > info->nr_vcpus)
			info->nr_vcpus = (unsigned)id + 1;
	}
	closedir(dir);
}

/* The first half of dominfo_get: defaults, and the "info" request sent.
 * The connected socket, or -1 (nothing to ask: being created, dying, or
 * not answering its socket). */
static int dominfo_ask(const struct kxl_dom *d, struct kxl_dominfo *info)
{
	char path[128];
	int fd;

	memset(info, 0, sizeof(*info));
	info->shutdown = -1;
	info->nr_vcpus =
	    d->vcpus < DOMINFO_MAX_VCPUS ? d->vcpus : DOMINFO_MAX_VCPUS;
	if (d->pid <= 0)
		return -1; /* still being created */
	if (ctl_path(d->domid, "dying", path, sizeof(path)) == 0 &&
	    access(path, F_OK) == 0) {
		info->dying = true;
		return -1;
	}
	fd = domctl_connect(d->domid);
	if (fd < 0)
		return -1;
	if (domctl_send(fd, "info")) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The second half: the reply on fd (if any, closed here) and the vCPU
 * threads. */
static void dominfo_take(const struct kxl_dom *d, struct kxl_dominfo *info,
			 int fd, int timeout_ms)
{
	long long v;

	if (fd >= 0 &&
	    domctl_recv(fd, info->line, sizeof(info->line), timeout_ms) == 0) {
		info->answered = true;
		if (ctl_get_num(info->line, "paused", &v) == 0)
			info->paused = (unsigned)v;
		if (ctl_get_num(info->line, "shutdown", &v) == 0)
			info->shutdown = (int)v;
		if (ctl_get_num(info->line, "boots", &v) == 0)
			info->boots = (unsigned)v;
		if (ctl_get_num(info->line, "boot_time", &v) == 0)
			info->boot_time = v;
		if (ctl_get_num(info->line, "cpu_exited_ns", &v) == 0)
			info->cpu_exited_ns = (uint64_t)v;
		ctl_get(info->line, "uuid", info->uuid, sizeof(info->uuid));
		ctl_get(info->line, "pty", info->pty, sizeof(info->pty));
		if (strcmp(info->pty, "-") == 0)
			info->pty[0] = '\0';
	}
	if (fd >= 0)
		close(fd);
	if (d->pid > 0)
		dominfo_threads(d->pid, info);
}

void dominfo_get(const struct kxl_dom *d, struct kxl_dominfo *info,
		 int timeout_ms)
{
	dominfo_take(d, info, dominfo_ask(d, info), timeout_ms);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct kxl_dominfo *dominfo_get_all(const struct kxl_dom *doms, int n,
				    int timeout_ms)
{
	struct kxl_dominfo *infos = calloc(n > 0 ? (size_t)n : 1, sizeof(*infos));
	int *fds = calloc(n > 0 ? (size_t)n : 1, sizeof(*fds));
	long long deadline;

	if (!infos || !fds) {
		free(infos);
		free(fds);
		return NULL;
	}
	/* Every request goes out before any reply is read: the domain
	 * processes answer side by side, so the whole takes as long as the
	 * slowest of them rather than the sum of them all. */
	for (int i = 0; i < n; i++)
		fds[i] = dominfo_ask(&doms[i], &infos[i]);
	deadline = now_ms() + timeout_ms;
	for (int i = 0; i < n; i++) {
		long long left = deadline - now_ms();

		dominfo_take(&doms[i], &infos[i], fds[i],
			     left > 0 ? (int)left : 0);
	}
	free(fds);
	return infos;
}

/* ---- Domain-0: the host ---- */

/* The host's CPU time not spent in guests, in clock ticks: /proc/stat's
 * line for all CPUs (cpu == -1) or one. */
static unsigned long long host_ticks(int cpu)
{
	unsigned long long v[10] = {0}, sum;
	char line[512], want[16];
	FILE *f = fopen("/proc/stat", "r");

	if (cpu < 0)
		snprintf(want, sizeof(want), "cpu ");
	else
		snprintf(want, sizeof(want), "cpu%d ", cpu);
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		sscanf(line + strlen(want),
		       "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
		       &v[8], &v[9]);
		break;
	}
	fclose(f);
	/* user nice system idle iowait irq softirq steal guest guest_nice:
	 * busy time, less the guests' (counted in user and nice). */
	sum = v[0] + v[1] + v[2] + v[5] + v[6];
	return sum > v[8] + v[9] ? sum - v[8] - v[9] : 0;
}

double dom0_cpu_seconds(int cpu)
{
	long hz = sysconf(_SC_CLK_TCK);

	return (double)host_ticks(cpu) / (double)(hz > 0 ? hz : 100);
}

unsigned long dom0_memory_mb(void)
{
	return (unsigned long)((unsigned long long)sysconf(_SC_PHYS_PAGES) *
				   (unsigned long long)sysconf(_SC_PAGESIZE) >>
			       20);
}

/* ---- device counters ---- */

/* "N,N,...": exactly n unsigned decimal numbers.  0 or -EINVAL. */
static int domstats_numbers(const char *v, uint64_t *out, unsigned n)
{
	const char *p = v;

	for (unsigned i = 0; i < n; i++) {
		char *end;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		out[i] = strtoull(p, &end, 10);
		if (errno || *end != (i + 1 < n ? ',' : '\0'))
			return -EINVAL;
		p = end + 1;
	}
	return 0;
}

int domstats_parse(const char *line, struct kxl_domstats *st)
{
	long long mem, maxmem, nvbd, nvif;
	char key[16], val[256];
	uint64_t n[6];

	memset(st, 0, sizeof(*st));
	if (ctl_get_num(line, "mem_kb", &mem) || mem < 0 ||
	    ctl_get_num(line, "maxmem_kb", &maxmem) || maxmem < 0 ||
	    ctl_get_num(line, "vbds", &nvbd) || nvbd < 0 ||
	    ctl_get_num(line, "vifs", &nvif) || nvif < 0)
		return -EINVAL;
	st->answered = true;
	st->mem_kb = (uint64_t)mem;
	st->maxmem_kb = (uint64_t)maxmem;
	for (long long i = 0; i < nvbd && i < DOMSTATS_MAX_DEVS; i++) {
		struct kxl_vbd_stats *b = &st->vbd[i];

		snprintf(key, sizeof(key), "vbd%lld", i);
		if (ctl_get(line, key, val, sizeof(val)) ||
		    domstats_numbers(val, n, 6) || n[0] > UINT32_MAX)
			return -EINVAL;
		*b = (struct kxl_vbd_stats){(uint32_t)n[0], n[1], n[2],
					    n[3],	    n[4], n[5]};
		st->nr_vbds++;
	}
	for (long long i = 0; i < nvif && i < DOMSTATS_MAX_DEVS; i++) {
		struct kxl_vif_stats *f = &st->vif[i];

		snprintf(key, sizeof(key), "vif%lld", i);
		if (ctl_get(line, key, val, sizeof(val)) ||
		    domstats_numbers(val, n, 5) || n[0] > UINT32_MAX)
			return -EINVAL;
		*f = (struct kxl_vif_stats){(uint32_t)n[0], n[1], n[2], n[3],
					    n[4]};
		st->nr_vifs++;
	}
	return 0;
}

void domstats_get(const struct kxl_dom *d, struct kxl_domstats *st,
		  int timeout_ms)
{
	static char line[CTL_LINE_MAX];

	memset(st, 0, sizeof(*st));
	if (d->pid <= 0 ||
	    domctl_request(d->domid, "stats", line, sizeof(line), timeout_ms) !=
		0 ||
	    domstats_parse(line, st) != 0)
		st->answered = false;
}

/* ---- formats ---- */

void dominfo_state(const struct kxl_dominfo *info, char out[7])
{
	static const char reasons[] = "-rscwS"; /* xl's, by SHUTDOWN_* */
	bool running = false, blocked = false;

	for (unsigned i = 0; i < info->nr_vcpus; i++) {
		char s = dominfo_vcpu_state(info, i);

		running |= s == 'r';
		blocked |= s == 'b';
	}
	out[0] = running ? 'r' : '-';
	out[1] = blocked ? 'b' : '-';
	out[2] = info->paused ? 'p' : '-';
	out[3] = info->shutdown >= 0 ? 's' : '-';
	out[4] = info->shutdown < 0 ? '-'
		 : info->shutdown < (int)sizeof(reasons) - 1
		     ? reasons[info->shutdown]
		     : '?';
	out[5] = info->dying ? 'd' : '-';
	out[6] = '\0';
}

char dominfo_vcpu_state(const struct kxl_dominfo *info, unsigned vcpu)
{
	const struct proc_task *t = &info->vcpu[vcpu];

	if (vcpu >= DOMINFO_MAX_VCPUS || !t->tid || info->paused || info->dying)
		return '-';
	if (t->state == 'R')
		return 'r';
	if (t->state == 'S' || t->state == 'D')
		return 'b';
	return '-';
}

double dominfo_vcpu_seconds(const struct kxl_dominfo *info, unsigned vcpu)
{
	long hz = sysconf(_SC_CLK_TCK);

	if (vcpu >= DOMINFO_MAX_VCPUS)
		return 0;
	return (double)info->vcpu[vcpu].ticks / (double)(hz > 0 ? hz : 100);
}

double dominfo_cpu_seconds(const struct kxl_dominfo *info)
{
	double s = (double)info->cpu_exited_ns / 1e9;

	for (unsigned i = 0; i < info->nr_vcpus; i++)
		s += dominfo_vcpu_seconds(info, i);
	return s;
}

void uptime_format(unsigned long secs, bool short_mode, char *out, size_t len)
{
	unsigned long day = secs / 86400, hour = secs / 3600 % 24,
		      min = secs / 60 % 60, sec = secs % 60;
	char days[32] = "";

	if (day)
		snprintf(days, sizeof(days), "%lu day%s, ", day,
			 day > 1 ? "s" : "");
	if (short_mode)
		snprintf(out, len, "%s%2lu:%02lu", days, hour, min);
	else
		snprintf(out, len, "%s%2lu:%02lu:%02lu", days, hour, min, sec);
}

void cpumap_format(const cpu_set_t *set, unsigned nr_cpus, char *out,
		   size_t len)
{
	unsigned count = 0;
	size_t at = 0;

	for (unsigned i = 0; i < nr_cpus; i++)
		count += CPU_ISSET(i, set) ? 1 : 0;
	if (count == nr_cpus || !count) {
		snprintf(out, len, "%s", count ? "all" : "none");
		return;
	}
	out[0] = '\0';
	for (unsigned i = 0; i < nr_cpus; i++) {
		unsigned j = i;

		if (!CPU_ISSET(i, set))
			continue;
		while (j + 1 < nr_cpus && CPU_ISSET(j + 1, set))
			j++;
		if (at < len)
			at += (size_t)snprintf(out + at, len - at, "%s%u",
					       at ? "," : "", i);
		if (j > i && at < len)
			at += (size_t)snprintf(out + at, len - at, "-%u", j);
		i = j;
	}
}

/* ---- control channel client ---- */

int domctl_connect(uint32_t domid)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[128];
	int fd, ret;

	ret = ctl_path(domid, "sock", path, sizeof(path));
	if (ret)
		return ret;
	memcpy(sa.sun_path, path, strlen(path) + 1); /* fits: ctl_path */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int domctl_send(int fd, const char *req)
{
	char line[CTL_LINE_MAX];
	int n = snprintf(line, sizeof(line), "%s\n", req);

	if (n < 0 || (size_t)n >= sizeof(line))
		return -E2BIG;
	return send(fd, line, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -errno;
}

int domctl_send_fd(int fd, const char *req, int pass_fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	char line[CTL_LINE_MAX];
	int n = snprintf(line, sizeof(line), "%s\n", req);
	struct iovec iov = {.iov_base = line};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf)};
	struct cmsghdr *h;
	ssize_t sent;

	if (n < 0 || (size_t)n >= sizeof(line))
		return -E2BIG;
	iov.iov_len = (size_t)n;
	memset(&cm, 0, sizeof(cm));
	h = CMSG_FIRSTHDR(&mh);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &pass_fd, sizeof(int));
	/* The descriptor travels with the first byte: all of it in one. */
	sent = sendmsg(fd, &mh, MSG_NOSIGNAL);
	if (sent == n)
		return 0;
	return sent < 0 ? -errno : -EIO;
}

int domctl_recv(int fd, char *line, size_t len, int timeout_ms)
{
	size_t n = 0;

	/* Byte by byte: a reply is one short line and a second one (wait-
	 * shutdown) must stay in the socket for the next call. */
	while (n + 1 < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t got;
		char ch;

		if (poll(&p, 1, timeout_ms) == 0)
			return -ETIMEDOUT;
		got = recv(fd, &ch, 1, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -EPIPE;
		if (ch == '\n')
			break;
		line[n++] = ch;
	}
	line[n] = '\0';
	if (strncmp(line, "ok", 2) == 0 && (!line[2] || line[2] == ' '))
		return 0;
	if (strncmp(line, "error ", 6) == 0 && atoi(line + 6) > 0)
		return atoi(line + 6);
	return EPROTO;
}

int domctl_request(uint32_t domid, const char *req, char *reply, size_t len,
		   int timeout_ms)
{
	int fd = domctl_connect(domid), ret;

	if (fd < 0)
		return fd;
	ret = domctl_send(fd, req);
	if (!ret)
		ret = domctl_recv(fd, reply, len, timeout_ms);
	close(fd);
	return ret;
}

const char *domctl_error_text(const char *line)
{
	const char *p =
	    strncmp(line, "error ", 6) == 0 ? strchr(line + 6, ' ') : NULL;

	return p ? p + 1 : line;
}
