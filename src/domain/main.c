/* kxen-domain: runs one Xen PVH domain in this process until it is
 * destroyed, acting on its shutdowns as on_poweroff/on_reboot/on_crash
 * say.  Started by kxl; prints xl's messages about the domain's life. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <xen/sched.h>

#include "backends/console.h"
#include "common/log.h"
#include "domain/backends.h"
#include "domain/control.h"
#include "domain/domain.h"
#include "domain/loop.h"
#include "domain/timer.h"
#include "domain/xs_client.h"

static const char *const action_names[] = {
	[ACTION_DESTROY] = "destroy",
	[ACTION_RESTART] = "restart",
	[ACTION_PRESERVE] = "preserve",
	[ACTION_RENAME_RESTART] = "rename-restart",
	[ACTION_COREDUMP_DESTROY] = "coredump-destroy",
	[ACTION_COREDUMP_RESTART] = "coredump-restart",
	[ACTION_SOFT_RESET] = "soft-reset",
};

static int parse_action(const char *s)
{
	for (unsigned i = 0; i < sizeof(action_names) / sizeof(action_names[0]);
	     i++)
		if (strcmp(s, action_names[i]) == 0)
			return (int)i;
	fatalx("unknown action '%s' (destroy, restart, preserve, "
	       "rename-restart, coredump-destroy, coredump-restart, "
	       "soft-reset)",
	       s);
}

static void parse_uuid(const char *s, uint8_t out[16])
{
	unsigned n = 0;

	for (const char *p = s; *p && n < 32; p++) {
		int v;

		if (*p == '-')
			continue;
		if (sscanf(p, "%1x", (unsigned *)&v) != 1)
			fatalx("bad uuid '%s'", s);
		out[n / 2] = (uint8_t)((out[n / 2] << 4) | v);
		n++;
	}
	if (n != 32)
		fatalx("bad uuid '%s'", s);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: kxen-domain --name NAME --kernel FILE [options]\n"
		"  --domid N          domain id (default 1)\n"
		"  --uuid UUID        domain handle\n"
		"  --memory MB        guest memory (default 128)\n"
		"  --vcpus N          vCPUs (default 1)\n"
		"  --ramdisk FILE     initrd\n"
		"  --cmdline TEXT     kernel command line\n"
		"  --console-log FILE append console output to FILE\n"
		"  --console-stdio    console on stdin/stdout\n"
		"  --console-pty      console on a new pty (path printed)\n"
		"  --disk SPEC        a disk, in xl's disk syntax (repeatable)\n"
		"  --vif SPEC         a network interface, in xl's vif syntax "
		"(repeatable)\n"
		"  --on-poweroff A, --on-reboot A, --on-crash A, "
		"--on-watchdog A\n"
		"                     destroy|restart|preserve|...\n"
		"  -v                 debug logging\n");
	exit(EXIT_FAILURE);
}

static void parse_args(int argc, char **argv, struct domain_config *cfg)
{
	enum {
		O_NAME = 256, O_DOMID, O_UUID, O_MEMORY, O_VCPUS, O_KERNEL,
		O_RAMDISK, O_CMDLINE, O_CLOG, O_CSTDIO, O_CPTY, O_POWEROFF,
		O_REBOOT, O_CRASH, O_WATCHDOG, O_PAUSED, O_DISK, O_VIF,
	};
	static const struct option opts[] = {
		{"name", 1, NULL, O_NAME},
		{"domid", 1, NULL, O_DOMID},
		{"uuid", 1, NULL, O_UUID},
		{"memory", 1, NULL, O_MEMORY},
		{"vcpus", 1, NULL, O_VCPUS},
		{"kernel", 1, NULL, O_KERNEL},
		{"ramdisk", 1, NULL, O_RAMDISK},
		{"cmdline", 1, NULL, O_CMDLINE},
		{"console-log", 1, NULL, O_CLOG},
		{"console-stdio", 0, NULL, O_CSTDIO},
		{"console-pty", 0, NULL, O_CPTY},
		{"on-poweroff", 1, NULL, O_POWEROFF},
		{"on-reboot", 1, NULL, O_REBOOT},
		{"on-crash", 1, NULL, O_CRASH},
		{"on-watchdog", 1, NULL, O_WATCHDOG},
		{"paused", 0, NULL, O_PAUSED},
		{"disk", 1, NULL, O_DISK},
		{"vif", 1, NULL, O_VIF},
		{NULL, 0, NULL, 0},
	};
	int c;

	*cfg = (struct domain_config){
		.domid = 1,
		.memory_mb = 128,
		.vcpus = 1,
		.on_poweroff = ACTION_DESTROY,
		.on_reboot = ACTION_RESTART,
		.on_crash = ACTION_DESTROY,
		.on_watchdog = ACTION_DESTROY,
	};
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case O_NAME: cfg->name = optarg; break;
		case O_DOMID: cfg->domid = (uint32_t)strtoul(optarg, NULL, 0); break;
		case O_UUID: parse_uuid(optarg, cfg->uuid); break;
		case O_MEMORY: cfg->memory_mb = strtoull(optarg, NULL, 0); break;
		case O_VCPUS: cfg->vcpus = (unsigned)strtoul(optarg, NULL, 0); break;
		case O_KERNEL: cfg->kernel = optarg; break;
		case O_RAMDISK: cfg->ramdisk = optarg; break;
		case O_CMDLINE: cfg->cmdline = optarg; break;
		case O_CLOG: cfg->console_log = optarg; break;
		case O_CSTDIO: cfg->console_stdio = true; break;
		case O_CPTY: cfg->console_pty = true; break;
		case O_POWEROFF: cfg->on_poweroff = parse_action(optarg); break;
		case O_REBOOT: cfg->on_reboot = parse_action(optarg); break;
		case O_CRASH: cfg->on_crash = parse_action(optarg); break;
		case O_WATCHDOG: cfg->on_watchdog = parse_action(optarg); break;
		case O_PAUSED: cfg->paused = true; break;
		case O_DISK:
			if (cfg->nr_disks == DOMAIN_MAX_DISKS)
				fatalx("too many disks (%d at most)",
				       DOMAIN_MAX_DISKS);
			cfg->disks[cfg->nr_disks++] = optarg;
			break;
		case O_VIF:
			if (cfg->nr_vifs == DOMAIN_MAX_VIFS)
				fatalx("too many vifs (%d at most)",
				       DOMAIN_MAX_VIFS);
			cfg->vifs[cfg->nr_vifs++] = optarg;
			break;
		case 'v': log_set_verbose(1); break;
		default: usage();
		}
	}
	if (!cfg->name || !cfg->kernel || optind != argc)
		usage();
	if (cfg->memory_mb < 16 || cfg->memory_mb > (1ull << 20))
		fatalx("memory = %llu MiB: must be 16..1048576",
		       (unsigned long long)cfg->memory_mb);
	if (cfg->domid == 0 || cfg->domid >= DOMID_FIRST_RESERVED)
		fatalx("domid %u: must be 1..%u", cfg->domid,
		       DOMID_FIRST_RESERVED - 1);
}

static void on_wake(int fd, void *arg)
{
	uint64_t v;

	(void)arg;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("wake eventfd");
}

static volatile sig_atomic_t destroy_requested;

static void on_signal(int fd, void *arg)
{
	struct signalfd_siginfo si;

	(void)arg;
	if (read(fd, &si, sizeof(si)) == sizeof(si))
		destroy_requested = 1;
}

static int action_for(const struct domain_config *cfg, int reason)
{
	switch (reason) {
	case SHUTDOWN_poweroff: return cfg->on_poweroff;
	case SHUTDOWN_reboot: return cfg->on_reboot;
	case SHUTDOWN_watchdog: return cfg->on_watchdog;
	default: return cfg->on_crash;
	}
}

/* Runs the domain until it shuts down or we are told to destroy it.
 * Returns the shutdown reason, or -1 for an external destroy. */
static int run_until_shutdown(struct domain *d)
{
	while (!destroy_requested &&
	       atomic_load(&d->shutdown_reason) == DOMAIN_RUNNING) {
		uint64_t deadline = timer_next_deadline(d);
		uint64_t retry = xs_client_poll(d, now_ns());

		if (retry && (!deadline || retry < deadline))
			deadline = retry;
		retry = backends_poll(d, now_ns());
		if (retry && (!deadline || retry < deadline))
			deadline = retry;
		if (loop_run_once(deadline) < 0)
			fatal("event loop");
		timer_run_expired(d, now_ns());
	}
	domain_stop(d);
	return destroy_requested ? -1 : atomic_load(&d->shutdown_reason);
}

int main(int argc, char **argv)
{
	struct domain_config cfg;
	struct domain *d = calloc(1, sizeof(*d));
	sigset_t sigs;
	int sfd, reason, action;

	log_init("kxen-domain", false);
	setvbuf(stdout, NULL, _IONBF, 0);
	parse_args(argc, argv, &cfg);
	if (!d)
		fatalx("out of memory");

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || loop_add(sfd, on_signal, NULL) < 0)
		fatal("signalfd");
	signal(SIGPIPE, SIG_IGN);
	control_open(&cfg);

	for (;;) {
		if (domain_build(d, &cfg) < 0) {
			log_warnx("domain %s: could not be built", cfg.name);
			domain_teardown(d);
			return EXIT_FAILURE;
		}
		if (loop_add(d->wake_fd, on_wake, NULL) < 0)
			fatal("event loop");
		if (console_pty_path(d))
			printf("Console for domain %s (domid %u) is on %s\n",
			       cfg.name, cfg.domid, console_pty_path(d));
		printf("Waiting for domain %s (domid %u) to die [pid %ld]\n",
		       cfg.name, cfg.domid, (long)getpid());
		/* create -p: the vCPUs park before their first KVM_RUN until
		 * unpause; only the first boot (a reboot runs at once). */
		if (cfg.paused) {
			d->paused_at = now_ns();
			atomic_store(&d->paused, true);
			cfg.paused = false;
		}
		if (domain_start(d) < 0) {
			domain_teardown(d);
			return EXIT_FAILURE;
		}
		control_booted(d);
		reason = run_until_shutdown(d);
		loop_del(d->wake_fd);
		if (reason < 0) {
			control_dying();
			printf("Domain %u destroyed\n", cfg.domid);
			domain_teardown(d);
			return EXIT_SUCCESS;
		}
		action = action_for(&cfg, reason);
		printf("Domain %u has shut down, reason code %d 0x%x\n",
		       cfg.domid, reason, reason);
		printf("Action for shutdown reason code %d is %s\n", reason,
		       action_names[action]);
		control_shutdown(reason, action);
		if (action == ACTION_PRESERVE) {
			/* Keep the stopped domain (its memory) until someone
			 * destroys it, as xl does. */
			while (!destroy_requested)
				loop_run_once(0);
			control_dying();
			domain_teardown(d);
			printf("Domain %u destroyed\n", cfg.domid);
			return EXIT_SUCCESS;
		}
		printf("Domain %u needs to be cleaned up: destroying the "
		       "domain\n",
		       cfg.domid);
		domain_teardown(d);
		if (action == ACTION_RESTART || action == ACTION_RENAME_RESTART ||
		    action == ACTION_COREDUMP_RESTART) {
			printf("Done. Rebooting now\n");
			continue;
		}
		printf("Done. Exiting now\n");
		return EXIT_SUCCESS;
	}
}
