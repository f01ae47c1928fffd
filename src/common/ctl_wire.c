/* The domain control channel's line format: escaping, key lookup, paths.
 * Pure apart from reading $KXEN_RUN_DIR. */
#include "common/ctl_wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ctl_run_dir(void)
{
	const char *d = getenv("KXEN_RUN_DIR");

	return d && *d ? d : "/run/kxen";
}

int ctl_path(uint32_t domid, const char *suffix, char *out, size_t len)
{
	int n =
	    snprintf(out, len, "%s/domain-%u.%s", ctl_run_dir(), domid, suffix);

	/* 108: sizeof(sockaddr_un.sun_path), NUL included. */
	if (n < 0 || (size_t)n >= len || (size_t)n >= 108)
		return -ENAMETOOLONG;
	return 0;
}

static int ctl_plain(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && ch != '%';
}

int ctl_put(char *buf, size_t len, const char *key, const char *value)
{
	size_t at = strlen(buf), need = at + 2 + strlen(key);
	const unsigned char *v = (const unsigned char *)value;
	char *p;

	for (size_t i = 0; v[i]; i++)
		need += ctl_plain(v[i]) ? 1 : 3;
	if (need + 1 > len)
		return -ENOSPC;
	p = buf + at;
	p += sprintf(p, " %s=", key);
	for (; *v; v++) {
		if (ctl_plain(*v))
			*p++ = (char)*v;
		else
			p += sprintf(p, "%%%02X", *v);
	}
	*p = '\0';
	return 0;
}

int ctl_put_num(char *buf, size_t len, const char *key, long long value)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", value);
	return ctl_put(buf, len, key, num);
}

static int ctl_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ctl_get(const char *line, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key), n = 0;
	const char *p = strchr(line, ' ');

	if (len == 0)
		return -ENOSPC;
	out[0] = '\0';
	/* Words after the first ("ok"): find "KEY=". */
	while (p) {
		p++;
		if (strncmp(p, key, klen) == 0 && p[klen] == '=')
			break;
		p = strchr(p, ' ');
	}
	if (!p)
		return -ENOENT;
	for (p += klen + 1; *p && *p != ' ' && *p != '\n'; p++) {
		int ch = (unsigned char)*p;

		if (ch == '%') {
			int hi = ctl_hex(p[1]),
			    lo = hi < 0 ? -1 : ctl_hex(p[2]);

			if (lo < 0)
				return -EINVAL;
			ch = hi << 4 | lo;
			p += 2;
		}
		if (n + 1 >= len) {
			out[n] = '\0';
			return -ENOSPC;
		}
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return 0;
}

int ctl_get_num(const char *line, const char *key, long long *out)
{
	char v[32], *end;
	int ret = ctl_get(line, key, v, sizeof(v));

	if (ret)
		return ret == -ENOSPC ? -EINVAL : ret;
	errno = 0;
	*out = strtoll(v, &end, 10);
	return *end || !v[0] || errno ? -EINVAL : 0;
}
