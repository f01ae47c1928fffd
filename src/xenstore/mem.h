/* Counted allocation for the pure xenstore modules: every block the store,
 * the wire layer and the journal codec allocate goes through these, so unit
 * tests can check that nothing is left after teardown (xs_mem_live()). */
#ifndef KXEN_XENSTORE_MEM_H
#define KXEN_XENSTORE_MEM_H

#include <stddef.h>

/* malloc/calloc/realloc/strdup/free with a live-block counter.  Same
 * contracts as the libc functions; xs_realloc(NULL, n) counts as a new
 * block; xs_free(NULL) does nothing.  Single-threaded callers only. */
void *xs_malloc(size_t n);
void *xs_calloc(size_t nmemb, size_t size);
void *xs_realloc(void *p, size_t n);
char *xs_strdup(const char *s);
/* Copy of the first n bytes of s plus a NUL. */
char *xs_strndup(const char *s, size_t n);
void *xs_memdup(const void *p, size_t n);
void xs_free(void *p);

/* Number of blocks allocated and not yet freed. */
long xs_mem_live(void);

/* Test hook: after `n` more successful allocations, every allocation fails
 * until xs_mem_fail_after(-1).  Used to exercise -ENOMEM paths. */
void xs_mem_fail_after(long n);

#endif
