/* The domain control channel's wire format, shared by kxen-domain (the
 * server, src/domain/control.c) and kxl (the client, src/xl/dominfo.c).
 *
 * Each domain process listens on a Unix stream socket
 * $KXEN_RUN_DIR/domain-<domid>.sock (default run directory /run/kxen), mode
 * 0600: whoever can connect is the toolstack.  A client sends one request
 * line and reads reply lines:
 *
 *     request:  VERB [ARG]\n                    (at most CTL_LINE_MAX bytes)
 *     reply:    ok[ KEY=VALUE]...\n
 *               error ERRNO MESSAGE\n           (ERRNO a positive errno)
 *
 * VALUEs are escaped so that a reply stays one line of space-separated
 * words: '%', bytes below 0x21 and above 0x7e become %XX (hex), so
 * "console=hvc0 quiet" travels as "console=hvc0%20quiet".
 *
 * Example (`kxl list` asking domain 3):
 *     > info
 *     < ok name=web domid=3 vcpus=2 memory=256 paused=0 shutdown=-1 ...
 *
 * While the domain process is tearing its domain down for good it removes
 * the socket and creates $KXEN_RUN_DIR/domain-<domid>.dying (xl's 'd'
 * state) until it exits. */
#ifndef KXEN_COMMON_CTL_WIRE_H
#define KXEN_COMMON_CTL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define CTL_LINE_MAX 4096

/* $KXEN_RUN_DIR, else /run/kxen. */
const char *ctl_run_dir(void);
/* The socket's path (suffix "sock") or the dying marker's ("dying") for
 * domid, into out.  0, or -ENAMETOOLONG when it does not fit (a socket
 * path must fit sockaddr_un, 108 bytes). */
int ctl_path(uint32_t domid, const char *suffix, char *out, size_t len);

/* Appends " KEY=VALUE" (VALUE escaped) to the NUL-terminated line in buf
 * (len bytes in all).  0, or -ENOSPC with buf unchanged. */
int ctl_put(char *buf, size_t len, const char *key, const char *value);
/* ctl_put of a number. */
int ctl_put_num(char *buf, size_t len, const char *key, long long value);

/* Finds KEY in a reply line (any word "KEY=..." after the first) and
 * copies its unescaped value into out.  0, -ENOENT when there is no such
 * key, -ENOSPC when the value does not fit (out then holds a truncated,
 * terminated copy), -EINVAL for a bad escape. */
int ctl_get(const char *line, const char *key, char *out, size_t len);
/* ctl_get of a decimal number (negative allowed).  0, -ENOENT, -EINVAL. */
int ctl_get_num(const char *line, const char *key, long long *out);

#endif
