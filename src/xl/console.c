/* kxl console: this terminal on a domain's PV console, as xl console
 * (xenconsole) does, until the escape character (Ctrl-] by default).
 *
 * A domain started in the background has its console on a pty whose
 * master the domain process holds (src/backends/console.c); its control
 * channel says which.  The pty is a new one after each reboot: when it
 * hangs up, kxl finds the new one and carries on. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "xl/dominfo.h"
#include "xl/kxl.h"

#define CONSOLE_ESCAPE 0x1d	  /* Ctrl-] */
#define CONSOLE_REATTACH_MS 15000 /* a reboot's new pty */

/* "^]" or one character, as xenconsole's -e. */
static int console_escape(const char *s)
{
	if (s[0] == '^' && s[1] && !s[2])
		return s[1] & 0x1f;
	if (s[0] && !s[1])
		return (unsigned char)s[0];
	return -1;
}

/* The domain's current console pty into path and its boot count, or
 * -errno. */
static int console_pty(const struct kxl_dom *d, char *path, size_t len,
		       long long *boots)
{
	char line[CTL_LINE_MAX];
	int ret = domctl_request(d->domid, "info", line, sizeof(line), 2000);

	if (ret)
		return ret < 0 ? ret : -ret;
	if (ctl_get_num(line, "boots", boots) < 0)
		*boots = 0;
	if (ctl_get(line, "pty", path, len) < 0 || strcmp(path, "-") == 0)
		return -ENOTTY;
	return 0;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};

			poll(&p, 1, 100);
			continue;
		}
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copies between stdin/stdout and the pty until the escape character
 * (1), stdin's end (1) or the pty's hang-up (0). */
static int console_copy(int pty, int escape)
{
	char buf[4096];

	for (;;) {
		struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
				      {.fd = pty, .events = POLLIN}};
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[1].revents & POLLIN) {
			n = read(pty, buf, sizeof(buf));
			if (n > 0 &&
			    write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
				return 1;
			if (n <= 0 && errno != EAGAIN && errno != EINTR)
				return 0;
		} else if (p[1].revents & (POLLHUP | POLLERR)) {
			return 0;
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			char *esc;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0)
				return 1;
			esc = memchr(buf, escape, (size_t)n);
			if (esc)
				n = esc - buf;
			if (n > 0 && write_all(pty, buf, (size_t)n) < 0)
				return 0;
			if (esc)
				return 1;
		}
	}
}

int main_console(int argc, char **argv)
{
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO);
	int c, escape = CONSOLE_ESCAPE, done = 0;
	char path[128];
	long long boots;
	struct kxl_dom d;

	optind = 1;
	while ((c = getopt(argc, argv, "t:n:e:h")) != -1) {
		switch (c) {
		case 't':
			if (strcmp(optarg, "pv") == 0)
				break;
			if (strcmp(optarg, "serial") &&
			    strcmp(optarg, "vuart")) {
				fprintf(stderr,
					"console type supported are: pv, "
					"serial, vuart\n");
				return EXIT_FAILURE;
			}
			fprintf(stderr, "kxl: a PVH guest under kxen has only "
					"its PV console\n");
			return EXIT_FAILURE;
		case 'n':
			if (strcmp(optarg, "0") == 0)
				break;
			fprintf(stderr,
				"kxl: console %s: kxen guests have one "
				"console, number 0\n",
				optarg);
			return EXIT_FAILURE;
		case 'e':
			escape = console_escape(optarg);
			if (escape >= 0)
				break;
			fprintf(stderr, "kxl: escape character: one character "
					"or ^X\n");
			return EXIT_FAILURE;
		default:
			fprintf(stderr, "Usage: kxl console [-t pv] [-n 0] "
					"[-e ^]] <Domain>\n");
			return c == 'h' ? EXIT_SUCCESS : EXIT_FAILURE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "Usage: kxl console [-t pv] [-n 0] [-e ^]] "
				"<Domain>\n");
		return EXIT_FAILURE;
	}
	if (reg_find(argv[optind], &d) < 0) {
		fprintf(stderr, "kxl: domain '%s' does not exist\n",
			argv[optind]);
		return EXIT_FAILURE;
	}
	c = console_pty(&d, path, sizeof(path), &boots);
	if (c < 0) {
		fprintf(stderr,
			"kxl: domain %u has no console to attach to "
			"(%s)%s\n",
			d.domid, strerror(-c),
			c == -ENOTTY ? ": its console is where it was created "
				       "with -c or -F"
				     : "");
		fprintf(stderr, "Unable to attach console\n");
		return EXIT_FAILURE;
	}
	if (tty) {
		tcgetattr(STDIN_FILENO, &saved);
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	while (!done) {
		int pty =
		    open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
		struct kxl_dom now;
		char id[16];

		if (pty < 0)
			break;
		/* What the guest said while nobody listened is in the log
		 * file; start from now. */
		tcflush(pty, TCIFLUSH);
		done = console_copy(pty, escape);
		close(pty);
		/* Hung up: a reboot gives the domain a new pty; a domain
		 * that is gone ends the session. */
		snprintf(id, sizeof(id), "%u", d.domid);
		for (int waited = 0; !done; waited += 100) {
			struct timespec ts = {0, 100000000};
			char next[128];
			long long b;

			if (reg_find(id, &now) < 0 || now.pid != d.pid ||
			    waited >= CONSOLE_REATTACH_MS) {
				done = 1;
			} else if (console_pty(&d, next, sizeof(next), &b) ==
				       0 &&
				   b > boots) {
				snprintf(path, sizeof(path), "%s", next);
				boots = b;
				break;
			} else {
				nanosleep(&ts, NULL);
			}
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return EXIT_SUCCESS;
}
