/* kxl info and dmesg: the host as xl info describes a Xen host (the
 * hypervisor here is Linux's KVM with kxen's per-domain processes), and
 * kxen's own log as the hypervisor's console ring. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/version.h"
#include "xl/kxl.h"

#define DMESG_LINES 200 /* per log file, about a console ring's worth */

static void info_line(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void info_line(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("%-23s: ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* The value of "key" in a "key : value" file such as /proc/cpuinfo (the
 * first one) or "key: value kB" in /proc/meminfo, into out. */
static bool proc_value(const char *file, const char *key, char *out, size_t len)
{
	char line[1024];
	size_t klen = strlen(key);
	FILE *f = fopen(file, "r");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line + klen;

		if (strncmp(line, key, klen) ||
		    (*p != ' ' && *p != '\t' && *p != ':'))
			continue;
		p = strchr(p, ':');
		if (!p)
			continue;
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
		p[strcspn(p, "\n")] = '\0';
		snprintf(out, len, "%s", p);
		found = true;
	}
	fclose(f);
	return found;
}

static unsigned long long meminfo_mb(const char *key)
{
	char v[64];

	return proc_value("/proc/meminfo", key, v, sizeof(v))
		   ? strtoull(v, NULL, 10) / 1024
		   : 0;
}

static unsigned count_nodes(void)
{
	DIR *dir = opendir("/sys/devices/system/node");
	struct dirent *de;
	unsigned n = 0;

	if (!dir)
		return 1;
	while ((de = readdir(dir)))
		n += strncmp(de->d_name, "node", 4) == 0 &&
		     de->d_name[4] >= '0' && de->d_name[4] <= '9';
	closedir(dir);
	return n ? n : 1;
}

int main_info(int argc, char **argv)
{
	struct utsname u;
	char v[4096], flags[8192] = "";
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long cores = 1, siblings = 1;
	FILE *f;

	if (argc > 1) {
		fprintf(stderr, "Usage: kxl info\n");
		return strcmp(argv[1], "-h") ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	if (uname(&u) == 0) {
		info_line("host", "%s", u.nodename);
		info_line("release", "%s", u.release);
		info_line("version", "%s", u.version);
		info_line("machine", "%s", u.machine);
	}
	if (proc_value("/proc/cpuinfo", "cpu cores", v, sizeof(v)))
		cores = strtoul(v, NULL, 10);
	if (proc_value("/proc/cpuinfo", "siblings", v, sizeof(v)))
		siblings = strtoul(v, NULL, 10);
	proc_value("/proc/cpuinfo", "flags", flags, sizeof(flags));
	info_line("nr_cpus", "%ld", cpus);
	info_line("max_cpu_id", "%ld", sysconf(_SC_NPROCESSORS_CONF) - 1);
	info_line("nr_nodes", "%u", count_nodes());
	info_line("cores_per_socket", "%lu", cores ? cores : 1);
	info_line("threads_per_core", "%lu",
		  cores && siblings >= cores ? siblings / cores : 1);
	if (proc_value("/proc/cpuinfo", "cpu MHz", v, sizeof(v)))
		info_line("cpu_mhz", "%s", v);
	/* What KVM offers kxen's guests: hardware virtualization, with
	 * nested paging (hap) where the CPU has it. */
	info_line("virt_caps", "%s%s",
		  strstr(flags, " vmx") || strstr(flags, " svm") ? "hvm" : "",
		  strstr(flags, " ept") || strstr(flags, " npt") ? " hap" : "");
	info_line("total_memory", "%llu", meminfo_mb("MemTotal"));
	info_line("free_memory", "%llu", meminfo_mb("MemAvailable"));
	info_line("sharing_freed_memory", "0");
	info_line("sharing_used_memory", "0");
	info_line("outstanding_claims", "0");
	info_line("free_cpus", "0");
	/* The Xen that guests see is kxen's (the hypercall ABI version). */
	info_line("xen_major", "%d", KXEN_XEN_MAJOR);
	info_line("xen_minor", "%d", KXEN_XEN_MINOR);
	info_line("xen_extra", "%s", KXEN_EXTRAVERSION);
	info_line("xen_version", "%d.%d%s", KXEN_XEN_MAJOR, KXEN_XEN_MINOR,
		  KXEN_EXTRAVERSION);
	info_line("xen_caps", "%s", KXEN_XEN_CAPS);
	info_line("xen_scheduler", "linux");
	info_line("xen_pagesize", "%ld", sysconf(_SC_PAGESIZE));
	/* The "hypervisor's" command line: the host kernel's. */
	f = fopen("/proc/cmdline", "r");
	v[0] = '\0';
	if (f) {
		if (fgets(v, sizeof(v), f))
			v[strcspn(v, "\n")] = '\0';
		fclose(f);
	}
	info_line("xen_commandline", "%s", v);
	info_line("cc_compiler", "gcc %s", __VERSION__);
	info_line("cc_compile_date", "%s", __DATE__);
	info_line("xend_config_format", "4");
	return EXIT_SUCCESS;
}

/* ---- dmesg ---- */

static int dmesg_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The last DMESG_LINES lines of path, each prefixed "(name) ". */
static void dmesg_file(const char *path, const char *name)
{
	static char *ring[DMESG_LINES];
	char line[4096];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		free(ring[n % DMESG_LINES]);
		ring[n % DMESG_LINES] = strdup(line);
		n++;
	}
	fclose(f);
	for (size_t i = n > DMESG_LINES ? n - DMESG_LINES : 0; i < n; i++) {
		char *l = ring[i % DMESG_LINES];

		if (l)
			printf("(%s) %s%s", name, l,
			       l[strlen(l) - 1] == '\n' ? "" : "\n");
	}
	for (size_t i = 0; i < DMESG_LINES; i++) {
		free(ring[i]);
		ring[i] = NULL;
	}
}

/* kxen's equivalent of the hypervisor's console ring: what each domain
 * process logged ($KXEN_LOG_DIR/domain-<name>.log), its last lines; -c
 * empties the logs afterwards. */
int main_dmesg(int argc, char **argv)
{
	const char *dirname = kxl_log_dir();
	bool clear = false;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *dir;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--clear") == 0) {
			clear = true;
			continue;
		}
		fprintf(stderr, "Usage: kxl dmesg [-c]\n");
		return strcmp(argv[i], "-h") ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	dir = opendir(dirname);
	if (!dir) {
		if (errno == ENOENT)
			return EXIT_SUCCESS; /* nothing has run yet */
		fprintf(stderr, "kxl: %s: %s\n", dirname, strerror(errno));
		return EXIT_FAILURE;
	}
	while ((de = readdir(dir))) {
		size_t l = strlen(de->d_name);
		char **grown;

		if (strncmp(de->d_name, "domain-", 7) || l < 12 ||
		    strcmp(de->d_name + l - 4, ".log"))
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown)
			break;
		names = grown;
		names[n++] = strdup(de->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), dmesg_cmp);
	for (size_t i = 0; i < n; i++) {
		char path[4096], name[256];

		if (!names[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirname, names[i]);
		snprintf(name, sizeof(name), "%.*s",
			 (int)(strlen(names[i]) - 11), names[i] + 7);
		dmesg_file(path, name);
		if (clear && truncate(path, 0) < 0)
			fprintf(stderr, "kxl: %s: %s\n", path, strerror(errno));
		free(names[i]);
	}
	free(names);
	return EXIT_SUCCESS;
}
