/* kxl: the xl-compatible command line of kxen.  Commands are a table, as
 * in xl's own cmd_table. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xl/kxl.h"

bool kxl_dry_run;

static const struct kxl_cmd cmd_table[] = {
	{"create", main_create, true, "Create a domain from config file <filename>",
	 "[-c] [-p] [-n] [-F] [-q] <ConfigFile> [options] [vars]"},
	{"list", main_list, false, "List information about all/some domains",
	 "[-l] [Domain ...]"},
	{"destroy", main_destroy, false, "Terminate a domain immediately",
	 "<Domain>"},
	{"domid", main_domid, false, "Convert a domain name to domain id",
	 "<DomainName>"},
	{"domname", main_domname, false, "Convert a domain id to domain name",
	 "<DomainId>"},
	{"block-attach", main_block_attach, false,
	 "Create a new virtual block device",
	 "<Domain> <disk-spec-component(s)>..."},
	{"block-detach", main_block_detach, false,
	 "Destroy a domain's virtual block device", "[-f] <Domain> <DevId>"},
	{"block-list", main_block_list, false,
	 "List virtual block devices for a domain", "<Domain(s)>"},
	{"help", main_help, false, "Print this help", "[command]"},
};
#define NR_CMDS (sizeof(cmd_table) / sizeof(cmd_table[0]))

int main_help(int argc, char **argv)
{
	if (argc > 1) {
		for (size_t i = 0; i < NR_CMDS; i++) {
			if (strcmp(argv[1], cmd_table[i].name) == 0) {
				printf("Usage: kxl %s %s\n\n%s.\n",
				       cmd_table[i].name, cmd_table[i].usage,
				       cmd_table[i].summary);
				return EXIT_SUCCESS;
			}
		}
		fprintf(stderr, "kxl: unknown command '%s'\n", argv[1]);
		return EXIT_FAILURE;
	}
	printf("Usage kxl [-v] [-N] <subcommand> [args]\n\n"
	       "kxl full list of subcommands:\n\n");
	for (size_t i = 0; i < NR_CMDS; i++)
		printf(" %-20s%s\n", cmd_table[i].name, cmd_table[i].summary);
	return EXIT_SUCCESS;
}

int main_list(int argc, char **argv)
{
	static struct kxl_dom doms[256];
	int n = reg_list(doms, 256);
	time_t now = time(NULL);

	printf("%-40s %5s %5s %5s     %-6s %9s\n", "Name", "ID", "Mem",
	       "VCPUs", "State", "Time(s)");
	/* Domain-0 is this host. */
	printf("%-40s %5u %5ld %5ld     %-6s %9.1f\n", "Domain-0", 0,
	       (long)(sysconf(_SC_PHYS_PAGES) / 256 / 1024 * 4),
	       sysconf(_SC_NPROCESSORS_ONLN), "r-----", 0.0);
	for (int i = 0; i < n; i++) {
		if (argc > 1) {
			bool want = false;

			for (int a = 1; a < argc; a++) {
				char id[16];

				snprintf(id, sizeof(id), "%u", doms[i].domid);
				want |= strcmp(argv[a], doms[i].name) == 0 ||
					strcmp(argv[a], id) == 0;
			}
			if (!want)
				continue;
		}
		printf("%-40s %5u %5llu %5u     %-6s %9.1f\n", doms[i].name,
		       doms[i].domid, (unsigned long long)doms[i].memory_mb,
		       doms[i].vcpus, "-b----",
		       (double)(now - (time_t)doms[i].start_time));
	}
	return EXIT_SUCCESS;
}

static int find_or_complain(const char *arg, struct kxl_dom *d)
{
	if (reg_find(arg, d) == 0)
		return 0;
	fprintf(stderr, "kxl: domain '%s' does not exist\n", arg);
	return -ENOENT;
}

int main_destroy(int argc, char **argv)
{
	struct kxl_dom d;

	if (argc != 2) {
		fprintf(stderr, "usage: kxl destroy <Domain>\n");
		return EXIT_FAILURE;
	}
	if (find_or_complain(argv[1], &d))
		return EXIT_FAILURE;
	if (d.pid <= 0 || kill(d.pid, SIGTERM) < 0) {
		fprintf(stderr, "kxl: cannot destroy domain %u: %s\n", d.domid,
			strerror(errno));
		return EXIT_FAILURE;
	}
	for (int i = 0; i < 100 && kill(d.pid, 0) == 0; i++)
		usleep(100000);
	if (kill(d.pid, 0) == 0)
		kill(d.pid, SIGKILL);
	reg_release(d.domid);
	return EXIT_SUCCESS;
}

int main_domid(int argc, char **argv)
{
	struct kxl_dom d;

	if (argc != 2 || find_or_complain(argv[1], &d))
		return EXIT_FAILURE;
	printf("%u\n", d.domid);
	return EXIT_SUCCESS;
}

int main_domname(int argc, char **argv)
{
	struct kxl_dom d;

	if (argc != 2 || find_or_complain(argv[1], &d))
		return EXIT_FAILURE;
	printf("%s\n", d.name);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-N") == 0)
			kxl_dry_run = true;
		else if (strcmp(argv[i], "-v") == 0)
			setenv("KXEN_DEBUG", "1", 1);
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return main_help(0, NULL);
		else {
			fprintf(stderr, "kxl: unknown option '%s'\n", argv[i]);
			return EXIT_FAILURE;
		}
	}
	if (i >= argc)
		return main_help(0, NULL);
	for (size_t c = 0; c < NR_CMDS; c++) {
		if (strcmp(argv[i], cmd_table[c].name) == 0) {
			if (kxl_dry_run && !cmd_table[c].dry_run_ok) {
				fprintf(stderr, "kxl: %s does not support -N\n",
					argv[i]);
				return EXIT_FAILURE;
			}
			return cmd_table[c].main_fn(argc - i, argv + i);
		}
	}
	fprintf(stderr, "kxl: command '%s' not implemented\n", argv[i]);
	main_help(0, NULL);
	return EXIT_FAILURE;
}
