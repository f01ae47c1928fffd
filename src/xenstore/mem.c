/* Counted allocation for the pure xenstore modules (see mem.h). */
#include "mem.h"

#include <stdlib.h>
#include <string.h>

static long xs_mem_blocks;
static long xs_mem_budget = -1;

static int xs_mem_refuse(void)
{
	if (xs_mem_budget < 0)
		return 0;
	if (xs_mem_budget == 0)
		return 1;
	xs_mem_budget--;
	return 0;
}

void *xs_malloc(size_t n)
{
	void *p;

	if (xs_mem_refuse())
		return NULL;
	p = malloc(n ? n : 1);
	if (p)
		xs_mem_blocks++;
	return p;
}

void *xs_calloc(size_t nmemb, size_t size)
{
	void *p;

	if (xs_mem_refuse())
		return NULL;
	p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (p)
		xs_mem_blocks++;
	return p;
}

void *xs_realloc(void *p, size_t n)
{
	void *q;

	if (!p)
		return xs_malloc(n);
	if (xs_mem_refuse())
		return NULL;
	q = realloc(p, n ? n : 1);
	return q;
}

char *xs_strndup(const char *s, size_t n)
{
	char *p = xs_malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *xs_strdup(const char *s)
{
	return xs_strndup(s, strlen(s));
}

void *xs_memdup(const void *src, size_t n)
{
	void *p = xs_malloc(n);

	if (p && n)
		memcpy(p, src, n);
	return p;
}

void xs_free(void *p)
{
	if (!p)
		return;
	xs_mem_blocks--;
	free(p);
}

long xs_mem_live(void)
{
	return xs_mem_blocks;
}

void xs_mem_fail_after(long n)
{
	xs_mem_budget = n;
}
