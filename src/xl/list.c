/* kxl list, vcpu-list and uptime: xl's formats, from the registry, the
 * domains' control channels and /proc (see dominfo.h).  Domain-0 is this
 * host. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xl/diskspec.h"
#include "xl/dominfo.h"
#include "xl/kxl.h"

#define LIST_MAX 256
#define LIST_TIMEOUT_MS 1000 /* a domain process busy rebuilding */

/* The domains named on the command line (all when none), Domain-0 as
 * domid 0 with *want_dom0.  Returns the count, or -1 with xl's message
 * for a name that is not a domain. */
static int list_select(int argc, char **argv, struct kxl_dom *out,
		       bool *want_dom0)
{
	static struct kxl_dom all[LIST_MAX];
	int n = reg_list(all, LIST_MAX), k = 0;

	*want_dom0 = argc == 0;
	if (argc == 0) {
		memcpy(out, all, sizeof(all[0]) * (size_t)n);
		return n;
	}
	for (int a = 0; a < argc; a++) {
		struct kxl_dom d;

		if (strcmp(argv[a], "0") == 0 ||
		    strcmp(argv[a], "Domain-0") == 0) {
			*want_dom0 = true;
			continue;
		}
		if (reg_find(argv[a], &d) < 0) {
			fprintf(stderr, "Error: Domain '%s' does not exist.\n",
				argv[a]);
			return -1;
		}
		out[k++] = d;
	}
	return k;
}

/* ---- list -l ---- */

static void json_string(const char *v)
{
	putchar('"');
	for (; *v; v++) {
		unsigned char ch = (unsigned char)*v;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* "KEY": "VALUE" from the info reply, at indent, with a comma unless
 * last. */
static void json_field(const struct kxl_dominfo *info, const char *key,
		       int indent, bool last)
{
	char v[4096];

	ctl_get(info->line, key, v, sizeof(v));
	printf("%*s\"%s\": ", indent, "", key);
	json_string(v);
	printf("%s\n", last ? "" : ",");
}

static void json_disks(const struct kxl_dominfo *info)
{
	static struct diskspec ds;
	long long n = 0;
	char key[32], spec[4200], err[256];

	ctl_get_num(info->line, "disks", &n);
	printf("      \"disks\": [%s", n > 0 ? "\n" : "");
	for (long long i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "disk%lld", i);
		if (ctl_get(info->line, key, spec, sizeof(spec)) < 0 ||
		    diskspec_parse(spec, &ds, err, sizeof(err)) < 0)
			memset(&ds, 0, sizeof(ds));
		printf("        {\n          \"pdev_path\": ");
		json_string(ds.target);
		printf(",\n          \"vdev\": ");
		json_string(ds.vdev);
		printf(",\n          \"format\": \"%s\",\n"
		       "          \"readwrite\": %s\n        }%s\n",
		       ds.format == DISKSPEC_FORMAT_QCOW2 ? "qcow2" : "raw",
		       ds.readonly ? "false" : "true", i + 1 < n ? "," : "");
	}
	printf("%s],\n", n > 0 ? "      " : "");
}

/* The domains' state, asked of them all at once (dominfo_get_all) the
 * first time one is wanted: kxl runs one command, on one list of domains.
 * A listing then waits for the slowest domain process, not for each in
 * turn. */
static struct kxl_dominfo *list_infos;

static void info_of(const struct kxl_dom *doms, int n, int i,
		    struct kxl_dominfo *info)
{
	if (!list_infos)
		list_infos = dominfo_get_all(doms, n, LIST_TIMEOUT_MS);
	if (list_infos)
		*info = list_infos[i];
	else
		dominfo_get(&doms[i], info, LIST_TIMEOUT_MS);
}

/* The domains as xl list -l prints them: an array of {domid, config},
 * config being the subset of libxl_domain_config kxen has (the same
 * fields as create -n). */
static void list_long(const struct kxl_dom *doms, int n)
{
	static struct kxl_dominfo info;
	bool first = true;

	printf("[");
	for (int i = 0; i < n; i++) {
		info_of(doms, n, i, &info);
		if (!info.answered)
			continue; /* as xl: no configuration, not listed */
		printf("%s\n  {\n    \"domid\": %u,\n    \"config\": {\n",
		       first ? "" : ",", doms[i].domid);
		first = false;
		printf("      \"c_info\": {\n        \"type\": \"pvh\",\n");
		json_field(&info, "name", 8, false);
		json_field(&info, "uuid", 8, true);
		printf("      },\n      \"b_info\": {\n");
		printf("        \"max_vcpus\": %u,\n", doms[i].vcpus);
		printf("        \"avail_vcpus\": %u,\n", doms[i].vcpus);
		printf("        \"max_memkb\": %llu,\n",
		       (unsigned long long)doms[i].memory_mb * 1024);
		printf("        \"target_memkb\": %llu,\n",
		       (unsigned long long)doms[i].memory_mb * 1024);
		json_field(&info, "kernel", 8, false);
		json_field(&info, "ramdisk", 8, false);
		json_field(&info, "cmdline", 8, true);
		printf("      },\n");
		json_disks(&info);
		json_field(&info, "on_poweroff", 6, false);
		json_field(&info, "on_reboot", 6, false);
		json_field(&info, "on_crash", 6, false);
		json_field(&info, "on_watchdog", 6, true);
		printf("    }\n  }");
	}
	printf("%s]\n", first ? "" : "\n");
}

/* ---- list ---- */

int main_list(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"long", 0, NULL, 'l'},    {"verbose", 0, NULL, 'v'},
	    {"context", 0, NULL, 'Z'}, {"help", 0, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct kxl_dom doms[LIST_MAX];
	static struct kxl_dominfo info;
	bool details = false, verbose = false, context = false, dom0;
	char state[7];
	int c, n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "lvZh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			details = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'Z':
			context = true;
			break;
		default:
			fprintf(stderr, "Usage: kxl list [-l] [-v] [-Z] "
					"[Domain ...]\n");
			return c == 'h' ? EXIT_SUCCESS : EXIT_FAILURE;
		}
	}
	n = list_select(argc - optind, argv + optind, doms, &dom0);
	if (n < 0)
		return EXIT_FAILURE;
	if (details) {
		list_long(doms, n);
		return EXIT_SUCCESS;
	}
	printf("Name                                        ID   Mem VCPUs\t"
	       "State\tTime(s)");
	if (verbose)
		printf("   UUID                            Reason-Code\t"
		       "Security Label");
	if (context && !verbose)
		printf("   Security Label");
	printf("\n");
	if (dom0) {
		printf("%-40s %5d %5lu %5ld     %s  %8.1f", "Domain-0", 0,
		       dom0_memory_mb(), sysconf(_SC_NPROCESSORS_ONLN),
		       "r-----", dom0_cpu_seconds(-1));
		if (verbose)
			printf(" 00000000-0000-0000-0000-000000000000 %8s",
			       "-");
		if (verbose || context)
			printf(" %16s", "-");
		printf("\n");
	}
	for (int i = 0; i < n; i++) {
		info_of(doms, n, i, &info);
		dominfo_state(&info, state);
		printf("%-40s %5u %5llu %5u     %s  %8.1f", doms[i].name,
		       doms[i].domid, (unsigned long long)doms[i].memory_mb,
		       doms[i].vcpus, state, dominfo_cpu_seconds(&info));
		if (verbose) {
			printf(" %-36s", info.uuid[0] ? info.uuid : "-");
			if (info.shutdown >= 0)
				printf(" %8x", info.shutdown);
			else
				printf(" %8s", "-");
		}
		if (verbose || context)
			printf(" %16s", "-");
		printf("\n");
	}
	return EXIT_SUCCESS;
}

/* ---- vcpu-list ---- */

static void vcpu_row(const char *name, unsigned domid, unsigned vcpu, int cpu,
		     char r, char b, bool online, double secs, const char *hard)
{
	printf("%-32s %5u %5u", name, domid, vcpu);
	if (!online)
		printf("%5c %3c%cp ", '-', '-', '-');
	else
		printf("%5d %3c%c- ", cpu, r, b);
	printf("%9.1f  %s / all\n", secs, hard);
}

int main_vcpu_list(int argc, char **argv)
{
	static struct kxl_dom doms[LIST_MAX];
	static struct kxl_dominfo info;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	char map[256];
	bool dom0;
	int n;

	if (argc > 1 && argv[1][0] == '-') {
		fprintf(stderr, "Usage: kxl vcpu-list [Domain, ...]\n");
		return strcmp(argv[1], "-h") ? EXIT_FAILURE : EXIT_SUCCESS;
	}
	n = list_select(argc - 1, argv + 1, doms, &dom0);
	if (n < 0)
		return EXIT_FAILURE;
	printf("%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU",
	       "State", "Time(s)", "Affinity (Hard / Soft)");
	/* Domain-0's vCPUs are the host's CPUs, each pinned to itself. */
	for (long c = 0; dom0 && c < sysconf(_SC_NPROCESSORS_ONLN); c++) {
		snprintf(map, sizeof(map), "%ld", c);
		vcpu_row("Domain-0", 0, (unsigned)c, (int)c, 'r', '-', true,
			 dom0_cpu_seconds((int)c), map);
	}
	for (int i = 0; i < n; i++) {
		info_of(doms, n, i, &info);
		for (unsigned v = 0; v < info.nr_vcpus; v++) {
			const struct proc_task *t = &info.vcpu[v];
			char s = dominfo_vcpu_state(&info, v);

			if (t->tid)
				cpumap_format(&info.affinity[v], (unsigned)ncpu,
					      map, sizeof(map));
			vcpu_row(doms[i].name, doms[i].domid, v, t->cpu,
				 s == 'r' ? 'r' : '-', s == 'b' ? 'b' : '-',
				 t->tid != 0, dominfo_vcpu_seconds(&info, v),
				 t->tid ? map : "all");
		}
	}
	return EXIT_SUCCESS;
}

/* ---- uptime ---- */

static void uptime_row(const char *name, unsigned domid, unsigned long up,
		       bool short_mode, time_t now)
{
	char dur[64], clock[16];

	uptime_format(up, short_mode, dur, sizeof(dur));
	if (short_mode) {
		strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
		printf(" %s up %s, %s (%u)\n", clock, dur, name, domid);
	} else {
		printf("%-33s %4u %s\n", name, domid, dur);
	}
}

int main_uptime(int argc, char **argv)
{
	static struct kxl_dom doms[LIST_MAX];
	static struct kxl_dominfo info;
	bool short_mode = false, dom0;
	time_t now = time(NULL);
	double host_up = 0;
	FILE *f;
	int c, n;

	optind = 1;
	while ((c = getopt(argc, argv, "sh")) != -1) {
		if (c == 's') {
			short_mode = true;
			continue;
		}
		fprintf(stderr, "Usage: kxl uptime [-s] [Domain ...]\n");
		return c == 'h' ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	n = list_select(argc - optind, argv + optind, doms, &dom0);
	if (n < 0)
		return EXIT_FAILURE;
	if (!short_mode)
		printf("%-33s %4s %s\n", "Name", "ID", "Uptime");
	f = fopen("/proc/uptime", "r");
	if (f) {
		if (fscanf(f, "%lf", &host_up) != 1)
			host_up = 0;
		fclose(f);
	}
	if (dom0)
		uptime_row("Domain-0", 0, (unsigned long)host_up, short_mode,
			   now);
	for (int i = 0; i < n; i++) {
		long long since = (long long)doms[i].start_time;

		/* A reboot starts the uptime again, as Xen's new domain. */
		info_of(doms, n, i, &info);
		if (info.boot_time > 0)
			since = info.boot_time;
		uptime_row(doms[i].name, doms[i].domid,
			   now > since ? (unsigned long)(now - since) : 0,
			   short_mode, now);
	}
	return EXIT_SUCCESS;
}
