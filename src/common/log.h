/* kxen logging: one small printf-checked family shared by every binary.
 *
 * Messages go to stderr in the foreground and to syslog when the process
 * has called log_init(..., true).  log_warn() appends strerror(errno);
 * log_warnx() does not.  fatal()/fatalx() exit and are for start-up only. */
#ifndef KXEN_COMMON_LOG_H
#define KXEN_COMMON_LOG_H

#include <stdbool.h>
#include <stdint.h>

#define KX_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* prog: name shown in each line; use_syslog: daemon mode. */
void log_init(const char *prog, bool use_syslog);
/* 0 = info (default), 1 = debug. */
void log_set_verbose(int level);

void log_info(const char *fmt, ...) KX_PRINTF(1, 2);
void log_debug(const char *fmt, ...) KX_PRINTF(1, 2);
void log_warn(const char *fmt, ...) KX_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) KX_PRINTF(1, 2);
_Noreturn void fatal(const char *fmt, ...) KX_PRINTF(1, 2);
_Noreturn void fatalx(const char *fmt, ...) KX_PRINTF(1, 2);

/* Logs "unimplemented: <what> (a, b)" the first time a given (what, a, b)
 * is seen and stays silent afterwards, so a guest that probes a missing
 * feature in a loop cannot flood the log.  Thread-safe. */
void log_unimplemented(const char *what, uint64_t a, uint64_t b);

/* True the first time a given (what, a, b) is passed, false afterwards:
 * for "log once" at a level of the caller's choosing.  Thread-safe. */
bool log_first_time(const char *what, uint64_t a, uint64_t b);

#endif
