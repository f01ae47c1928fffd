/* kxl: the xl-compatible command line.  One main_<cmd> per command, each
 * returning EXIT_SUCCESS or EXIT_FAILURE; the table is in main.c. */
#ifndef KXEN_XL_KXL_H
#define KXEN_XL_KXL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct kxl_cmd {
	const char *name;
	int (*main_fn)(int argc, char **argv);
	bool dry_run_ok;
	const char *summary;
	const char *usage;
};

extern bool kxl_dry_run; /* global -N */

int main_create(int argc, char **argv);
int main_list(int argc, char **argv);
int main_destroy(int argc, char **argv);
int main_domid(int argc, char **argv);
int main_domname(int argc, char **argv);
int main_help(int argc, char **argv);
int main_block_attach(int argc, char **argv);
int main_block_detach(int argc, char **argv);
int main_block_list(int argc, char **argv);
int main_network_attach(int argc, char **argv);
int main_network_detach(int argc, char **argv);
int main_network_list(int argc, char **argv);
int main_shutdown(int argc, char **argv);
int main_reboot(int argc, char **argv);
int main_pause(int argc, char **argv);
int main_unpause(int argc, char **argv);
int main_console(int argc, char **argv);
int main_rename(int argc, char **argv);
int main_uptime(int argc, char **argv);
int main_info(int argc, char **argv);
int main_dmesg(int argc, char **argv);
int main_vcpu_list(int argc, char **argv);
int main_sysrq(int argc, char **argv);
int main_top(int argc, char **argv);
int main_dump_core(int argc, char **argv);

struct xs_handle;
struct diskspec;
/* Opens libxenstore, printing why not (no kxend) on failure. */
struct xs_handle *kxl_xs_open(void);
/* Removes what a domain process that died (kill -9, crash) left in
 * xenstore: its tree, device directories and /vm entry; releases it. */
void kxl_store_cleanup(uint32_t domid, const char *uuid);
/* Checks disk d, about to go to domain domid, against every disk attached
 * to any domain (xenstore's backend/vbd): 0, or -EBUSY/-EEXIST with the
 * reason printed (see diskspec_conflict). */
int kxl_disk_conflicts(struct xs_handle *h, uint32_t domid,
		       const struct diskspec *d);

/* The registry of running domains: one file per domain in
 * $KXEN_RUN_DIR/domains (default /run/kxen/domains), holding the fields
 * below.  kxend takes this role over when it exists (see
 * docs/architecture.md). */
struct kxl_dom {
	uint32_t domid;
	char name[64];
	pid_t pid;
	uint64_t memory_mb;
	unsigned vcpus;
	uint64_t start_time;
	char console_log[256];
};

/* Reserves the lowest free domid for name; refuses a duplicate name.
 * 0 or -errno (-EEXIST for a duplicate) with a message printed. */
int reg_reserve(struct kxl_dom *dom);
int reg_update(const struct kxl_dom *dom);
/* Removes the entry and what the domain process may have left (its
 * control socket, its dying marker). */
void reg_release(uint32_t domid);
/* Renames domid's entry under the registry lock, refusing a name another
 * domain has (-EEXIST) or an invalid one (-EINVAL), with a message.  0 or
 * -errno. */
int reg_rename(uint32_t domid, const char *name);
/* Fills out (up to max) with live domains sorted by domid; returns the
 * count.  Entries whose process died are removed. */
int reg_list(struct kxl_dom *out, int max);
/* Finds a domain by name or domid text.  0 or -ENOENT. */
int reg_find(const char *name_or_id, struct kxl_dom *out);
const char *reg_dir(void);
const char *kxl_log_dir(void);

#endif
