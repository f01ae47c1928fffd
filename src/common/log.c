/* kxen logging: stderr in the foreground, syslog when daemonised. */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static const char *log_prog = "kxen";
static bool log_syslog;
static int log_verbose;

void log_init(const char *prog, bool use_syslog)
{
	log_prog = prog;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_verbose(int level)
{
	log_verbose = level;
}

static void log_vemit(int prio, const char *fmt, va_list ap, int err)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog) {
		if (err)
			syslog(prio, "%s: %s", msg, strerror(err));
		else
			syslog(prio, "%s", msg);
		return;
	}
	if (err)
		fprintf(stderr, "%s: %s: %s\n", log_prog, msg, strerror(err));
	else
		fprintf(stderr, "%s: %s\n", log_prog, msg);
}

#define LOG_BODY(prio, err)                \
	do {                               \
		va_list ap;                \
		va_start(ap, fmt);         \
		log_vemit(prio, fmt, ap, err); \
		va_end(ap);                \
	} while (0)

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, 0);
}

void log_debug(const char *fmt, ...)
{
	if (log_verbose < 1)
		return;
	LOG_BODY(LOG_DEBUG, 0);
}

void log_warn(const char *fmt, ...)
{
	int err = errno;

	LOG_BODY(LOG_WARNING, err);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 0);
}

void fatal(const char *fmt, ...)
{
	int err = errno;

	LOG_BODY(LOG_CRIT, err);
	exit(EXIT_FAILURE);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 0);
	exit(EXIT_FAILURE);
}

/* A small fixed table is enough: the set of distinct unimplemented
 * (what, a, b) triples a guest can reach is bounded by the ABI. */
#define UNIMPL_SLOTS 256
static struct {
	const char *what;
	uint64_t a, b;
} unimpl_seen[UNIMPL_SLOTS];
static unsigned unimpl_count;
static pthread_mutex_t unimpl_lock = PTHREAD_MUTEX_INITIALIZER;

bool log_first_time(const char *what, uint64_t a, uint64_t b)
{
	bool first = true;

	pthread_mutex_lock(&unimpl_lock);
	for (unsigned i = 0; i < unimpl_count; i++) {
		if (unimpl_seen[i].a == a && unimpl_seen[i].b == b &&
		    strcmp(unimpl_seen[i].what, what) == 0) {
			first = false;
			break;
		}
	}
	if (first && unimpl_count < UNIMPL_SLOTS) {
		unimpl_seen[unimpl_count].what = what;
		unimpl_seen[unimpl_count].a = a;
		unimpl_seen[unimpl_count].b = b;
		unimpl_count++;
	} else if (first) {
		first = false; /* table full: stay quiet rather than flood */
	}
	pthread_mutex_unlock(&unimpl_lock);
	return first;
}

void log_unimplemented(const char *what, uint64_t a, uint64_t b)
{
	if (log_first_time(what, a, b))
		log_warnx("unimplemented: %s (%llu, %llu)", what,
			  (unsigned long long)a, (unsigned long long)b);
}
