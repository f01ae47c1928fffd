/* The registry of running domains: a file per domid under the run
 * directory, created with O_EXCL so two concurrent creates never share a
 * domid. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ctl_wire.h"
#include "xl/kxl.h"

#define REG_MAX_DOMID 32752 /* DOMID_FIRST_RESERVED - 1 */

static char reg_path_buf[512];

const char *reg_dir(void)
{
	const char *base = getenv("KXEN_RUN_DIR");

	snprintf(reg_path_buf, sizeof(reg_path_buf), "%s/domains",
		 base && *base ? base : "/run/kxen");
	return reg_path_buf;
}

const char *kxl_log_dir(void)
{
	const char *d = getenv("KXEN_LOG_DIR");

	return d && *d ? d : "/var/log/kxen";
}

static int mkdir_p(const char *path)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
	return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

static int reg_read(uint32_t domid, struct kxl_dom *d)
{
	char path[600];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/%u", reg_dir(), domid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	memset(d, 0, sizeof(*d));
	n = fscanf(f, "%u %63s %d %llu %u %llu %255s", &d->domid, d->name,
		   &d->pid, (unsigned long long *)&d->memory_mb, &d->vcpus,
		   (unsigned long long *)&d->start_time, d->console_log);
	fclose(f);
	return n >= 6 ? 0 : -EINVAL;
}

static int reg_write(const struct kxl_dom *d, bool excl)
{
	char path[600];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/%u", reg_dir(), d->domid);
	fd = open(path, O_WRONLY | O_CREAT | (excl ? O_EXCL : O_TRUNC), 0644);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	fprintf(f, "%u %s %d %llu %u %llu %s\n", d->domid, d->name, d->pid,
		(unsigned long long)d->memory_mb, d->vcpus,
		(unsigned long long)d->start_time,
		d->console_log[0] ? d->console_log : "-");
	return fclose(f) == 0 ? 0 : -EIO;
}

static bool reg_alive(const struct kxl_dom *d)
{
	/* pid 0: still being created by its kxl (counts as alive). */
	return d->pid == 0 || kill(d->pid, 0) == 0 || errno == EPERM;
}

int reg_list(struct kxl_dom *out, int max)
{
	DIR *dir = opendir(reg_dir());
	struct dirent *de;
	int n = 0;

	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < max) {
		char *end;
		unsigned long id = strtoul(de->d_name, &end, 10);

		if (*end || !id)
			continue;
		if (reg_read((uint32_t)id, &out[n]))
			continue;
		if (!reg_alive(&out[n])) {
			reg_release((uint32_t)id);
			continue;
		}
		n++;
	}
	closedir(dir);
	for (int i = 1; i < n; i++) /* few entries: insertion sort */
		for (int j = i; j > 0 && out[j].domid < out[j - 1].domid; j--) {
			struct kxl_dom t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

int reg_reserve(struct kxl_dom *dom)
{
	static struct kxl_dom all[256];
	char lock_path[600];
	int n, lock, ret = -ENOSPC;

	if (mkdir_p(reg_dir()) < 0) {
		fprintf(stderr, "kxl: cannot create %s: %s\n", reg_dir(),
			strerror(errno));
		return -EACCES;
	}
	snprintf(lock_path, sizeof(lock_path), "%s/.lock", reg_dir());
	lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		fprintf(stderr, "kxl: cannot lock %s: %s\n", lock_path,
			strerror(errno));
		return -EACCES;
	}
	n = reg_list(all, 256);
	for (int i = 0; i < n; i++) {
		if (strcmp(all[i].name, dom->name) == 0) {
			fprintf(stderr,
				"kxl: domain with name \"%s\" already exists "
				"(domid %u)\n",
				dom->name, all[i].domid);
			ret = -EEXIST;
			goto out;
		}
	}
	for (uint32_t id = 1; id <= REG_MAX_DOMID; id++) {
		dom->domid = id;
		if (reg_write(dom, true) == 0) {
			ret = 0;
			break;
		}
	}
out:
	close(lock); /* releases the flock */
	return ret;
}

int reg_update(const struct kxl_dom *dom)
{
	return reg_write(dom, false);
}

void reg_release(uint32_t domid)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%u", reg_dir(), domid);
	unlink(path);
	/* What a domain process killed with -9 leaves behind: its control
	 * socket and dying marker (common/ctl_wire.h). */
	if (ctl_path(domid, "sock", path, sizeof(path)) == 0)
		unlink(path);
	if (ctl_path(domid, "dying", path, sizeof(path)) == 0)
		unlink(path);
}

int reg_rename(uint32_t domid, const char *name)
{
	static struct kxl_dom all[256];
	struct kxl_dom *self = NULL;
	char lock_path[600];
	int n, lock, ret = 0;

	if (!*name || strlen(name) >= sizeof(all[0].name) ||
	    strpbrk(name, " /\t\n") || strcmp(name, "Domain-0") == 0) {
		fprintf(stderr, "kxl: invalid domain name \"%s\": 1 to 63 "
				"characters, without spaces or '/'\n",
			name);
		return -EINVAL;
	}
	snprintf(lock_path, sizeof(lock_path), "%s/.lock", reg_dir());
	lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		fprintf(stderr, "kxl: cannot lock %s: %s\n", lock_path,
			strerror(errno));
		if (lock >= 0)
			close(lock);
		return -EACCES;
	}
	n = reg_list(all, 256);
	for (int i = 0; i < n; i++) {
		if (all[i].domid == domid)
			self = &all[i];
		else if (strcmp(all[i].name, name) == 0)
			ret = -EEXIST;
	}
	if (ret == -EEXIST)
		fprintf(stderr, "kxl: domain with name \"%s\" already exists.\n",
			name);
	else if (!self)
		ret = -ENOENT;
	if (!ret) {
		snprintf(self->name, sizeof(self->name), "%s", name);
		ret = reg_update(self);
	}
	close(lock);
	return ret;
}

int reg_find(const char *name_or_id, struct kxl_dom *out)
{
	static struct kxl_dom all[256];
	int n = reg_list(all, 256);
	char *end;
	unsigned long id = strtoul(name_or_id, &end, 10);

	for (int i = 0; i < n; i++) {
		if ((!*end && all[i].domid == id) ||
		    strcmp(all[i].name, name_or_id) == 0) {
			*out = all[i];
			return 0;
		}
	}
	return -ENOENT;
}
