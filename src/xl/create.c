/* kxl create: read an xl.cfg (or xm-era) file, validate it completely,
 * then start the domain's process.  Nothing is created before the whole
 * configuration is known to be good. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xl/config.h"
#include "xl/diskspec.h"
#include "xl/kxl.h"

/* Every key kxl knows; the rest are warned about and ignored, as xl
 * ignores keys it does not use. */
static const char *const known_keys[] = {
	"name", "uuid", "type", "builder", "kernel", "ramdisk", "cmdline",
	"extra", "root", "memory", "maxmem", "vcpus", "maxvcpus", "cpus",
	"on_poweroff", "on_reboot", "on_crash", "on_watchdog", "disk", "vif",
	"description", NULL,
};

static const char *const actions[] = {
	"destroy", "restart", "preserve", "rename-restart",
	"coredump-destroy", "coredump-restart", "soft-reset", NULL,
};

#define CREATE_MAX_DISKS 16

struct create_spec {
	struct diskspec disks[CREATE_MAX_DISKS];
	unsigned nr_disks;
	char name[64];
	char uuid[37];
	char kernel[PATH_MAX];
	char ramdisk[PATH_MAX];
	char cmdline[4096];
	uint64_t memory, maxmem;
	unsigned vcpus, maxvcpus;
	const char *on_poweroff, *on_reboot, *on_crash, *on_watchdog;
};

static int spec_error(const struct xl_config *c, const char *key,
		      const char *msg)
{
	const struct cfg_entry *e = cfg_get(c, key);

	if (e && e->line)
		fprintf(stderr, "kxl: %s:%d: %s: %s\n", c->file, e->line, key,
			msg);
	else
		fprintf(stderr, "kxl: %s: %s: %s\n", c->file, key, msg);
	return -1;
}

static int spec_number(const struct xl_config *c, const char *key,
		       uint64_t def, uint64_t min, uint64_t max, uint64_t *out)
{
	const struct cfg_entry *e = cfg_get(c, key);
	char msg[128], *end;
	unsigned long long v;

	*out = def;
	if (!e)
		return 0;
	if (e->val.type == CFG_LIST)
		return spec_error(c, key, "expected a number, found a list");
	errno = 0;
	v = strtoull(e->val.str, &end, 0);
	if (*end || errno || !*e->val.str) {
		snprintf(msg, sizeof(msg), "expected a number, found '%s'",
			 e->val.str);
		return spec_error(c, key, msg);
	}
	if (v < min || v > max) {
		snprintf(msg, sizeof(msg), "%llu is out of range %llu..%llu", v,
			 (unsigned long long)min, (unsigned long long)max);
		return spec_error(c, key, msg);
	}
	*out = v;
	return 0;
}

static int spec_action(const struct xl_config *c, const char *key,
		       const char *def, const char **out)
{
	const char *v = cfg_get_str(c, key);

	*out = def;
	if (!v)
		return cfg_get(c, key) ? spec_error(c, key, "expected a string")
				       : 0;
	for (int i = 0; actions[i]; i++) {
		if (strcmp(v, actions[i]) == 0) {
			*out = actions[i];
			return 0;
		}
	}
	return spec_error(c, key,
			  "expected destroy, restart, preserve, rename-restart, "
			  "coredump-destroy, coredump-restart or soft-reset");
}

/* Paths are used as given (relative to the current directory), as xl
 * does; the file must exist and be readable. */
static int spec_file(const struct xl_config *c, const char *key, char *out,
		     size_t len, bool required)
{
	const char *v = cfg_get_str(c, key);
	char msg[PATH_MAX + 64];

	out[0] = '\0';
	if (!v) {
		if (cfg_get(c, key))
			return spec_error(c, key, "expected a file name");
		return required ? spec_error(c, key, "missing (required)") : 0;
	}
	if (access(v, R_OK) < 0) {
		snprintf(msg, sizeof(msg), "'%s': %s", v, strerror(errno));
		return spec_error(c, key, msg);
	}
	if (!realpath(v, out) || strlen(out) >= len)
		return spec_error(c, key, "path too long");
	return 0;
}

static void random_uuid(char out[37])
{
	uint8_t b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, b, sizeof(b)) != sizeof(b)) {
		srand((unsigned)time(NULL) ^ (unsigned)getpid());
		for (int i = 0; i < 16; i++)
			b[i] = (uint8_t)rand();
	}
	if (fd >= 0)
		close(fd);
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

static bool valid_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	return true;
}

/* Every disk is parsed and checked here, before anything exists: the
 * syntax, that the target is there, and that no two disks clash. */
static int spec_disks(const struct xl_config *c, struct create_spec *s)
{
	const struct cfg_entry *e = cfg_get(c, "disk");
	char err[512], msg[600];

	if (!e)
		return 0;
	if (e->val.type != CFG_LIST)
		return spec_error(c, "disk", "expected a list [ '...', ... ]");
	if (e->val.nitems > CREATE_MAX_DISKS)
		return spec_error(c, "disk", "too many disks (16 at most)");
	for (size_t i = 0; i < e->val.nitems; i++) {
		struct diskspec *d = &s->disks[s->nr_disks];

		if (diskspec_parse(e->val.items[i], d, err, sizeof(err)) < 0)
			return spec_error(c, "disk", err);
		if (d->target[0] && !d->script[0] && access(d->target, F_OK) < 0) {
			snprintf(msg, sizeof(msg), "'%s': %s", d->target,
				 strerror(errno));
			return spec_error(c, "disk", msg);
		}
		for (unsigned j = 0; j < s->nr_disks; j++)
			if (diskspec_conflict(&s->disks[j], d, true, err,
					      sizeof(err)) < 0)
				return spec_error(c, "disk", err);
		s->nr_disks++;
	}
	return 0;
}

static int spec_build(const struct xl_config *c, struct create_spec *s)
{
	const char *v;
	uint64_t n;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < c->n; i++) {
		bool known = false;

		for (int k = 0; known_keys[k]; k++)
			known |= strcmp(c->entries[i].key, known_keys[k]) == 0;
		if (!known)
			fprintf(stderr,
				"kxl: warning: %s:%d: unknown setting '%s' "
				"ignored\n",
				c->file, c->entries[i].line, c->entries[i].key);
	}
	v = cfg_get_str(c, "name");
	if (!v || !*v)
		return spec_error(c, "name", "missing (required)");
	if (strlen(v) >= sizeof(s->name) || strpbrk(v, " /\t\n"))
		return spec_error(c, "name",
				  "must be under 64 characters, without "
				  "spaces or '/'");
	strcpy(s->name, v);
	v = cfg_get_str(c, "type");
	if (!v)
		v = cfg_get_str(c, "builder");
	if (v && strcmp(v, "pvh") != 0) {
		if (strcmp(v, "pv") == 0 || strcmp(v, "linux") == 0)
			fprintf(stderr, "kxl: warning: %s: type '%s': kxen "
					"boots the kernel as a PVH guest\n",
				c->file, v);
		else
			return spec_error(c, cfg_get(c, "type") ? "type"
								 : "builder",
					  "kxen runs PVH guests only (type = "
					  "\"pvh\")");
	}
	if (spec_file(c, "kernel", s->kernel, sizeof(s->kernel), true) ||
	    spec_file(c, "ramdisk", s->ramdisk, sizeof(s->ramdisk), false))
		return -1;
	if (spec_number(c, "memory", 128, 16, 1 << 20, &s->memory) ||
	    spec_number(c, "maxmem", s->memory, 16, 1 << 20, &s->maxmem))
		return -1;
	if (s->maxmem < s->memory)
		return spec_error(c, "maxmem", "must not be below memory");
	if (spec_number(c, "vcpus", 1, 1, 64, &n))
		return -1;
	s->vcpus = (unsigned)n;
	if (spec_number(c, "maxvcpus", s->vcpus, 1, 64, &n))
		return -1;
	s->maxvcpus = (unsigned)n;
	if (s->maxvcpus < s->vcpus)
		return spec_error(c, "maxvcpus", "must not be below vcpus");
	if (spec_action(c, "on_poweroff", "destroy", &s->on_poweroff) ||
	    spec_action(c, "on_reboot", "restart", &s->on_reboot) ||
	    spec_action(c, "on_crash", "destroy", &s->on_crash) ||
	    spec_action(c, "on_watchdog", "destroy", &s->on_watchdog))
		return -1;
	v = cfg_get_str(c, "uuid");
	if (v && !valid_uuid(v))
		return spec_error(c, "uuid", "expected xxxxxxxx-xxxx-xxxx-"
					     "xxxx-xxxxxxxxxxxx");
	if (v)
		snprintf(s->uuid, sizeof(s->uuid), "%s", v);
	else
		random_uuid(s->uuid);
	/* xl: cmdline wins; otherwise "root=<root> <extra>". */
	v = cfg_get_str(c, "cmdline");
	if (v) {
		snprintf(s->cmdline, sizeof(s->cmdline), "%s", v);
	} else {
		const char *root = cfg_get_str(c, "root");
		const char *extra = cfg_get_str(c, "extra");

		snprintf(s->cmdline, sizeof(s->cmdline), "%s%s%s%s",
			 root ? "root=" : "", root ? root : "",
			 root && extra ? " " : "", extra ? extra : "");
	}
	return spec_disks(c, s);
}

static void json_str(const char *key, const char *v, bool comma)
{
	printf("    \"%s\": \"", key);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			putchar('\\');
		putchar(*v);
	}
	printf("\"%s\n", comma ? "," : "");
}

static void spec_print_json(const struct create_spec *s)
{
	printf("{\n  \"c_info\": {\n");
	json_str("type", "pvh", true);
	json_str("name", s->name, true);
	json_str("uuid", s->uuid, false);
	printf("  },\n  \"b_info\": {\n");
	printf("    \"max_vcpus\": %u,\n", s->maxvcpus);
	printf("    \"avail_vcpus\": %u,\n", s->vcpus);
	printf("    \"max_memkb\": %llu,\n",
	       (unsigned long long)s->maxmem * 1024);
	printf("    \"target_memkb\": %llu,\n",
	       (unsigned long long)s->memory * 1024);
	json_str("kernel", s->kernel, true);
	json_str("ramdisk", s->ramdisk, true);
	json_str("cmdline", s->cmdline, false);
	printf("  },\n  \"disks\": [");
	for (unsigned i = 0; i < s->nr_disks; i++) {
		const struct diskspec *d = &s->disks[i];

		printf("%s\n    {\n", i ? "," : "");
		json_str("pdev_path", d->target, true);
		json_str("vdev", d->vdev, true);
		printf("    \"virtual_device\": %u,\n", d->vdev_number);
		json_str("backend", d->backend == DISKSPEC_BACKEND_PHY ? "phy"
				    : d->backend == DISKSPEC_BACKEND_FILE ? "file"
									  : "auto",
			 true);
		json_str("format", d->format == DISKSPEC_FORMAT_QCOW2 ? "qcow2"
				   : d->format == DISKSPEC_FORMAT_EMPTY ? "empty"
									: "raw",
			 true);
		printf("    \"readwrite\": %s,\n", d->readonly ? "false" : "true");
		printf("    \"is_cdrom\": %s\n    }", d->is_cdrom ? "true" : "false");
	}
	printf("%s],\n  \"nics\": [],\n", s->nr_disks ? "\n  " : "");
	json_str("on_poweroff", s->on_poweroff, true);
	json_str("on_reboot", s->on_reboot, true);
	json_str("on_crash", s->on_crash, true);
	json_str("on_watchdog", s->on_watchdog, false);
	printf("}\n");
}

/* xl looks for a config that is not found as given in /etc/xen. */
static const char *resolve_config(const char *arg, char *buf, size_t len)
{
	if (access(arg, F_OK) == 0 || strchr(arg, '/'))
		return arg;
	snprintf(buf, len, "/etc/xen/%s", arg);
	return access(buf, F_OK) == 0 ? buf : arg;
}

static void domain_binary(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(out, len, "kxen-domain");
		return;
	}
	self[n] = '\0';
	snprintf(out, len, "%s/kxen-domain", dirname(self));
}

static void exec_domain(const struct create_spec *s, const struct kxl_dom *d,
			bool console_stdio)
{
	char bin[PATH_MAX], domid[16], mem[32], vcpus[16];
	const char *argv[40];
	int n = 0;

	domain_binary(bin, sizeof(bin));
	snprintf(domid, sizeof(domid), "%u", d->domid);
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)s->memory);
	snprintf(vcpus, sizeof(vcpus), "%u", s->vcpus);
	argv[n++] = bin;
	argv[n++] = "--name"; argv[n++] = s->name;
	argv[n++] = "--domid"; argv[n++] = domid;
	argv[n++] = "--uuid"; argv[n++] = s->uuid;
	argv[n++] = "--memory"; argv[n++] = mem;
	argv[n++] = "--vcpus"; argv[n++] = vcpus;
	argv[n++] = "--kernel"; argv[n++] = s->kernel;
	if (s->ramdisk[0]) {
		argv[n++] = "--ramdisk";
		argv[n++] = s->ramdisk;
	}
	if (s->cmdline[0]) {
		argv[n++] = "--cmdline";
		argv[n++] = s->cmdline;
	}
	argv[n++] = "--console-log"; argv[n++] = d->console_log;
	argv[n++] = console_stdio ? "--console-stdio" : "--console-pty";
	argv[n++] = "--on-poweroff"; argv[n++] = s->on_poweroff;
	argv[n++] = "--on-reboot"; argv[n++] = s->on_reboot;
	argv[n++] = "--on-crash"; argv[n++] = s->on_crash;
	argv[n++] = "--on-watchdog"; argv[n++] = s->on_watchdog;
	if (getenv("KXEN_DEBUG"))
		argv[n++] = "-v";
	argv[n] = NULL;
	execv(bin, (char **)argv);
	fprintf(stderr, "kxl: cannot run %s: %s\n", bin, strerror(errno));
	_exit(127);
}

/* Runs the domain process and waits for it, forwarding a first Ctrl-C
 * as a destroy request; removes the registry entry afterwards. */
static int run_foreground(const struct create_spec *s, struct kxl_dom *d,
			  bool console)
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		perror("kxl: fork");
		reg_release(d->domid);
		return EXIT_FAILURE;
	}
	if (pid == 0)
		exec_domain(s, d, console);
	signal(SIGINT, SIG_IGN); /* the child gets it from the tty */
	d->pid = pid;
	reg_update(d);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	reg_release(d->domid);
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	fprintf(stderr, "kxl: domain process ended by signal %d\n",
		WTERMSIG(status));
	return EXIT_FAILURE;
}

/* Detaches: a monitor process (like xl's own) waits for the domain
 * process so that the registry entry goes away with it. */
static int run_background(const struct create_spec *s, struct kxl_dom *d)
{
	int pfd[2];
	pid_t mon;
	char log[600];

	if (pipe(pfd) < 0)
		return EXIT_FAILURE;
	mon = fork();
	if (mon < 0)
		return EXIT_FAILURE;
	if (mon == 0) {
		pid_t pid;
		int fd, status;

		setsid();
		close(pfd[0]);
		snprintf(log, sizeof(log), "%s/domain-%s.log", kxl_log_dir(),
			 s->name);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0640);
		pid = fork();
		if (pid == 0) {
			int nul = open("/dev/null", O_RDWR);

			dup2(nul, 0);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			close(pfd[1]);
			exec_domain(s, d, false);
		}
		d->pid = pid;
		reg_update(d);
		if (write(pfd[1], &pid, sizeof(pid)) < 0)
			_exit(1);
		close(pfd[1]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		reg_release(d->domid);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &d->pid, sizeof(d->pid)) != sizeof(d->pid)) {
		fprintf(stderr, "kxl: the domain process did not start\n");
		return EXIT_FAILURE;
	}
	close(pfd[0]);
	return EXIT_SUCCESS;
}

int main_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", 0, NULL, 'h'},
		{"defconfig", 1, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	bool foreground = false, console = false, dry = kxl_dry_run, quiet = false;
	const char *file = NULL;
	char buf[PATH_MAX], err[512];
	struct xl_config cfg;
	struct create_spec spec;
	struct kxl_dom dom;
	bool cfg_has_vif;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+hcpnqFf:de", opts, NULL)) != -1) {
		switch (c) {
		case 'c': console = true; break;
		case 'F': foreground = true; break;
		case 'n': dry = true; break;
		case 'q': quiet = true; break;
		case 'f': file = optarg; break;
		case 'p': case 'd': case 'e': break; /* accepted, as xl */
		case 'h':
		default:
			fprintf(stderr, "usage: kxl create [-c] [-p] [-n] [-F] "
					"[-q] <config file> [key=value ...]\n");
			return c == 'h' ? EXIT_SUCCESS : EXIT_FAILURE;
		}
	}
	if (!file && optind < argc && !strchr(argv[optind], '='))
		file = argv[optind++];
	if (!file) {
		fprintf(stderr, "kxl create: no config file given\n");
		return EXIT_FAILURE;
	}
	file = resolve_config(file, buf, sizeof(buf));
	if (!quiet)
		fprintf(stderr, "Parsing config from %s\n", file);
	if (cfg_parse_file(file, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "kxl: %s\n", err);
		return EXIT_FAILURE;
	}
	for (; optind < argc; optind++) {
		if (cfg_override(&cfg, argv[optind], err, sizeof(err)) < 0) {
			fprintf(stderr, "kxl: %s\n", err);
			cfg_free(&cfg);
			return EXIT_FAILURE;
		}
	}
	ret = spec_build(&cfg, &spec);
	cfg_has_vif = cfg_get(&cfg, "vif") != NULL;
	cfg_free(&cfg);
	if (ret < 0)
		return EXIT_FAILURE;
	if (dry) {
		spec_print_json(&spec);
		return EXIT_SUCCESS;
	}
	if (spec.nr_disks) {
		fprintf(stderr, "kxl: %s: disk devices are not supported yet "
				"(the block backend is not there): refusing to "
				"start %s without them\n",
			file, spec.name);
		return EXIT_FAILURE;
	}
	if (cfg_has_vif) {
		fprintf(stderr, "kxl: %s: network devices are not supported "
				"yet: refusing to start %s without them\n",
			file, spec.name);
		return EXIT_FAILURE;
	}

	memset(&dom, 0, sizeof(dom));
	snprintf(dom.name, sizeof(dom.name), "%s", spec.name);
	dom.memory_mb = spec.memory;
	dom.vcpus = spec.vcpus;
	dom.start_time = (uint64_t)time(NULL);
	if (mkdir(kxl_log_dir(), 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "kxl: cannot create %s: %s\n", kxl_log_dir(),
			strerror(errno));
		return EXIT_FAILURE;
	}
	snprintf(dom.console_log, sizeof(dom.console_log),
		 "%s/console-%s.log", kxl_log_dir(), spec.name);
	if (reg_reserve(&dom) < 0)
		return EXIT_FAILURE;
	/* The console log holds this boot only. */
	if (truncate(dom.console_log, 0) < 0 && errno != ENOENT)
		fprintf(stderr, "kxl: warning: %s: %s\n", dom.console_log,
			strerror(errno));
	if (foreground || console)
		return run_foreground(&spec, &dom, console);
	ret = run_background(&spec, &dom);
	if (ret == EXIT_SUCCESS && !quiet)
		fprintf(stderr, "Started domain %s (id=%u)\n", spec.name,
			dom.domid);
	return ret;
}
