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
	 "[-l] [-v] [Domain ...]"},
	{"destroy", main_destroy, false, "Terminate a domain immediately",
	 "<Domain>"},
	{"shutdown", main_shutdown, false, "Issue a shutdown signal to a domain",
	 "[-w] [-a] [-F] <-a|Domain>"},
	{"reboot", main_reboot, false, "Issue a reboot signal to a domain",
	 "[-w] [-a] [-F] <-a|Domain>"},
	{"pause", main_pause, false, "Pause execution of a domain", "<Domain>"},
	{"unpause", main_unpause, false, "Unpause a paused domain", "<Domain>"},
	{"console", main_console, false, "Attach to domain's console",
	 "[-t pv] [-n 0] [-e ^]] <Domain>"},
	{"rename", main_rename, false, "Rename a domain",
	 "<Domain> <NewDomainName>"},
	{"domid", main_domid, false, "Convert a domain name to domain id",
	 "<DomainName>"},
	{"domname", main_domname, false, "Convert a domain id to domain name",
	 "<DomainId>"},
	{"uptime", main_uptime, false, "Print uptime for all/some domains",
	 "[-s] [Domain ...]"},
	{"info", main_info, false, "Get information about the host", ""},
	{"dmesg", main_dmesg, false,
	 "Read and/or clear kxen's log (the domain processes')", "[-c]"},
	{"vcpu-list", main_vcpu_list, false,
	 "List the VCPUs for all/some domains", "[Domain, ...]"},
	{"sysrq", main_sysrq, false, "Send a sysrq to a domain",
	 "<Domain> <letter>"},
	{"top", main_top, false,
	 "Monitor a host and the domains in real time",
	 "[-b] [-d SECONDS] [-i ITERATIONS]"},
	{"dump-core", main_dump_core, false, "Core dump a domain",
	 "<Domain> <filename>"},
	{"block-attach", main_block_attach, false,
	 "Create a new virtual block device",
	 "<Domain> <disk-spec-component(s)>..."},
	{"block-detach", main_block_detach, false,
	 "Destroy a domain's virtual block device", "[-f] <Domain> <DevId>"},
	{"block-list", main_block_list, false,
	 "List virtual block devices for a domain", "<Domain(s)>"},
	{"network-attach", main_network_attach, false, "Create a new virtual network device", "<Domain> [vif-spec-component(s)]..."},
	{"network-detach", main_network_detach, false, "Destroy a domain's virtual network device", "[-f] <Domain> <DevId|mac>"},
	{"network-list", main_network_list, false, "List virtual network interfaces for a domain", "<Domain(s)>"},
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
