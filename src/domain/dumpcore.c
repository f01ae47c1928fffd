/* Writes a guest core file (see dumpcore.h, elfcore.h). */
#include "domain/dumpcore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "domain/domain.h"
#include "domain/elfcore.h"

#define DUMP_CHUNK (1u << 20)

/* A stopped vCPU's registers, in the core's formats.  0 or -errno. */
static int dump_cpu(struct vcpu *v, struct elfcore_cpu *c)
{
	struct user_regs_struct *u = &c->regs;
	struct kvm_sregs s;
	struct kvm_regs r;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	memset(c, 0, sizeof(*c));
	c->id = v->id;
	u->r15 = r.r15, u->r14 = r.r14, u->r13 = r.r13, u->r12 = r.r12;
	u->rbp = r.rbp, u->rbx = r.rbx, u->r11 = r.r11, u->r10 = r.r10;
	u->r9 = r.r9, u->r8 = r.r8, u->rax = r.rax, u->rcx = r.rcx;
	u->rdx = r.rdx, u->rsi = r.rsi, u->rdi = r.rdi;
	u->orig_rax = ~0ull; /* not in a system call, as Linux says it */
	u->rip = r.rip, u->eflags = r.rflags, u->rsp = r.rsp;
	u->cs = s.cs.selector, u->ss = s.ss.selector, u->ds = s.ds.selector;
	u->es = s.es.selector, u->fs = s.fs.selector, u->gs = s.gs.selector;
	u->fs_base = s.fs.base, u->gs_base = s.gs.base;
	c->extra.vcpu = v->id;
	c->extra.cr0 = s.cr0, c->extra.cr2 = s.cr2, c->extra.cr3 = s.cr3;
	c->extra.cr4 = s.cr4, c->extra.cr8 = s.cr8, c->extra.efer = s.efer;
	c->extra.fs_base = s.fs.base, c->extra.gs_base = s.gs.base;
	c->extra.gdt_base = s.gdt.base, c->extra.idt_base = s.idt.base;
	return 0;
}

static bool dump_zero(const uint8_t *p, size_t n)
{
	const uint64_t *w = (const uint64_t *)p; /* page-aligned */

	for (size_t i = 0; i < n / 8; i++)
		if (w[i])
			return false;
	return true;
}

static int dump_pwrite(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* Copies guest RAM at memfd offset [src, src + len) to the core at dst,
 * reading only what the memfd holds (SEEK_DATA): a hole would otherwise be
 * filled with fresh pages just to be read as zeros. */
static int dump_region(struct domain *d, int fd, uint64_t src, uint64_t len,
		       uint64_t dst)
{
	uint64_t at = src, end = src + len;

	while (at < end) {
		off_t data = lseek(d->mem.fd, (off_t)at, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			break; /* only holes up to the end */
		if (data < 0)
			return -errno;
		if ((uint64_t)data >= end)
			break;
		hole = lseek(d->mem.fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if ((uint64_t)hole > end)
			hole = (off_t)end;
		for (uint64_t p = (uint64_t)data; p < (uint64_t)hole;
		     p += DUMP_CHUNK) {
			size_t n = (uint64_t)hole - p < DUMP_CHUNK
				       ? (size_t)((uint64_t)hole - p)
				       : DUMP_CHUNK;
			const uint8_t *h = d->mem.host + p;
			int ret;

			if (dump_zero(h, n))
				continue;
			ret = dump_pwrite(fd, h, n, dst + (p - src));
			if (ret)
				return ret;
		}
		at = (uint64_t)hole;
	}
	return 0;
}

int dumpcore_write(struct domain *d, int fd, bool regs, uint64_t *bytes,
		   unsigned *nr_regs)
{
	struct elfcore_region rg[2];
	struct elfcore_cpu *cpus = NULL;
	struct elfcore_layout lay;
	unsigned nr = 0, ncpu = 0;
	uint8_t *hdr = NULL;
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	rg[nr++] = (struct elfcore_region){0, d->mem.low_size};
	if (d->mem.size > d->mem.low_size)
		rg[nr++] = (struct elfcore_region){
		    GUEST_4G, d->mem.size - d->mem.low_size};
	if (regs) {
		cpus = calloc(d->nr_vcpus, sizeof(*cpus));
		if (!cpus)
			return -ENOMEM;
		for (unsigned i = 0; i < d->nr_vcpus; i++)
			if (d->vcpus[i].fd >= 0 &&
			    dump_cpu(&d->vcpus[i], &cpus[ncpu]) == 0)
				ncpu++;
	}
	ret = elfcore_build(rg, nr, cpus, ncpu, d->cfg->name, d->cfg->domid,
			    &hdr, &lay);
	if (ret)
		goto out;
	if (ftruncate(fd, 0) < 0) {
		ret = -errno;
		goto out;
	}
	ret = dump_pwrite(fd, hdr, lay.hdr_len, 0);
	/* The low region is the memfd's start, the high one follows it. */
	if (!ret)
		ret = dump_region(d, fd, 0, rg[0].size, lay.data_off[0]);
	if (!ret && nr > 1)
		ret = dump_region(d, fd, d->mem.low_size, rg[1].size,
				  lay.data_off[1]);
	if (!ret && ftruncate(fd, (off_t)lay.file_size) < 0)
		ret = -errno;
	*bytes = lay.file_size;
	*nr_regs = ncpu;
out:
	free(cpus);
	free(hdr);
	return ret;
}
