/* journal.c: durable records of dirty files in cache_dir/journal/<id>.
 *
 * A record says which data file (data/<id>) goes to which share path, what
 * remote version it is based on (for the conflict check after a restart)
 * and the mode/owner/mtime to set. It is written before a write-back close
 * returns, and whenever an upload fails, so data acknowledged by close() in
 * write-back mode or by fsync() survives a killed daemon: vfs_init replays
 * every record (vfs.c) before the mount serves anything.
 *
 * Records are appended to cache_dir/journal/log (jnlog.c: no inode per
 * record); removal appends a done line. Records of an older version, one
 * file journal/<id> each, are still read and removed.
 * Durability, journal_sync_ms == 0: fdatasync(data file), append,
 * fdatasync(log). journal_sync_ms > 0 (group commit, jnsync.c): the same
 * without the syncs; the syncer's next syncfs() covers them. Done lines
 * are never synced: a record a crash brings back after its upload
 * finished is recognised at replay (the share holds exactly its size and
 * mtime) and dropped.
 * Threads: any; callers serialise records of one file with f->up_lock.
 * No v->lock is held during the I/O (jn_file takes it briefly to snapshot).
 *
 * Format (text, one "key value" per line; strings hex-encoded so any path
 * byte is safe): "azsharefs-journal 1", id, size, base_remote, base_etag,
 * base_size, base_mtime (sec nsec), has_owner, mode (octal), uid, gid,
 * mtime (sec nsec), path; for an attributes-only record (a deferred
 * setattr, no data) also "attrs <mask>"; then "end". Incomplete records are
 * rejected; records without "attrs" are data records.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "filecache.h"
#include "journal.h"

#define JN_MAGIC "azsharefs-journal 1"
#define JN_MAX 16384

static void hex_encode(const char *in, char *out, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	if (!*in && len > 1) {
		out[o++] = '-';
	}
	for (; *in && o + 2 < len; in++) {
		out[o++] = digits[(unsigned char)*in >> 4];
		out[o++] = digits[(unsigned char)*in & 15];
	}
	out[o] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int hex_decode(const char *in, char *out, size_t len)
{
	size_t o = 0;

	if (strcmp(in, "-") == 0) {
		out[0] = '\0';
		return 0;
	}
	while (in[0] && in[1]) {
		int hi = hexval(in[0]), lo = hexval(in[1]);

		if (hi < 0 || lo < 0 || o + 1 >= len)
			return -EINVAL;
		out[o++] = (char)(hi * 16 + lo);
		in += 2;
	}
	if (*in || o == 0)
		return -EINVAL;
	out[o] = '\0';
	return 0;
}

int jn_format(const struct jn_rec *r, char *buf, size_t len)
{
	char path[2 * sizeof(r->path) + 2], etag[2 * AZ_ETAG_MAX + 2];
	char attrs[32] = "";
	int n;

	hex_encode(r->path, path, sizeof(path));
	hex_encode(r->base.etag, etag, sizeof(etag));
	if (r->attrs)
		snprintf(attrs, sizeof(attrs), "attrs %u\n", r->attrs);
	n = snprintf(buf, len,
		     JN_MAGIC "\nid %llu\nsize %llu\nbase_remote %d\nbase_etag %s\n"
			      "base_size %llu\nbase_mtime %lld %ld\nhas_owner %d\nmode %o\n"
			      "uid %lu\ngid %lu\nmtime %lld %ld\npath %s\n%send\n",
		     (unsigned long long)r->id, (unsigned long long)r->size, r->base.remote, etag,
		     (unsigned long long)r->base.size, (long long)r->base.mtime.tv_sec,
		     (long)r->base.mtime.tv_nsec, r->has_owner, (unsigned)r->mode,
		     (unsigned long)r->uid, (unsigned long)r->gid, (long long)r->mtime.tv_sec,
		     (long)r->mtime.tv_nsec, path, attrs);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}

/* Integer keys: index = bit number in the "seen" mask of jn_parse. */
static const char *const num_keys[] = {"id",	    "size", "base_remote", "base_size",
				       "has_owner", "mode", "uid",	   "gid"};

static void set_num(struct jn_rec *r, int idx, unsigned long long a)
{
	switch (idx) {
	case 0:
		r->id = a;
		break;
	case 1:
		r->size = a;
		break;
	case 2:
		r->base.remote = a != 0;
		break;
	case 3:
		r->base.size = a;
		break;
	case 4:
		r->has_owner = a != 0;
		break;
	case 5:
		r->mode = (mode_t)a;
		break;
	case 6:
		r->uid = (uid_t)a;
		break;
	default:
		r->gid = (gid_t)a;
		break;
	}
}

static int parse_time(const char *val, struct timespec *ts)
{
	long long s = 0;
	long ns = 0;

	if (sscanf(val, "%lld %ld", &s, &ns) != 2 || ns < 0 || ns >= 1000000000L)
		return -1;
	ts->tv_sec = (time_t)s;
	ts->tv_nsec = ns;
	return 0;
}

/* Applies one "key value" line; returns the bit of the key, or -1. */
static int parse_line(const char *key, const char *val, struct jn_rec *r)
{
	unsigned long long a;
	char *end;
	int i;

	for (i = 0; i < (int)(sizeof(num_keys) / sizeof(num_keys[0])); i++) {
		if (strcmp(key, num_keys[i]) != 0)
			continue;
		errno = 0;
		a = strtoull(val, &end, i == 5 ? 8 : 10);
		if (*end || end == val || errno)
			return -1;
		set_num(r, i, a);
		return 1 << i;
	}
	if (strcmp(key, "base_mtime") == 0)
		return parse_time(val, &r->base.mtime) ? -1 : 1 << 8;
	if (strcmp(key, "mtime") == 0)
		return parse_time(val, &r->mtime) ? -1 : 1 << 9;
	if (strcmp(key, "base_etag") == 0)
		return hex_decode(val, r->base.etag, sizeof(r->base.etag)) ? -1 : 1 << 10;
	if (strcmp(key, "path") == 0)
		return hex_decode(val, r->path, sizeof(r->path)) ? -1 : 1 << 11;
	if (strcmp(key, "attrs") == 0) { /* optional: attributes-only record */
		errno = 0;
		a = strtoull(val, &end, 10);
		if (*end || end == val || errno || a == 0 || a > 0xffff)
			return -1;
		r->attrs = (unsigned)a;
		return 1 << 12;
	}
	return -1;
}

int jn_parse(const char *text, size_t len, struct jn_rec *r)
{
	char buf[JN_MAX], *line, *save = NULL;
	int seen = 0, ended = 0, first = 1;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	memset(r, 0, sizeof(*r));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp;
		int bit;

		if (first) {
			if (strcmp(line, JN_MAGIC) != 0)
				return -EINVAL;
			first = 0;
			continue;
		}
		if (strcmp(line, "end") == 0) {
			ended = 1;
			break;
		}
		sp = strchr(line, ' ');
		if (!sp)
			return -EINVAL;
		*sp = '\0';
		bit = parse_line(line, sp + 1, r);
		if (bit < 0)
			return -EINVAL;
		seen |= bit;
	}
	return ended && (seen & 0xfff) == 0xfff ? 0 : -EINVAL;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int write_tmp(const char *tmp, const char *text, size_t len)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), rc;

	if (fd < 0)
		return -errno;
	rc = mc_write_all(fd, text, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* A record as its own file journal/<id> (the format before the log, still
 * read at mount; written only without a log, by tests making such files). */
static int write_own_file(struct vfs *v, const struct jn_rec *r, const char *text, size_t len)
{
	static unsigned long seq;
	char tmp[4200], dst[4200];
	int rc;

	snprintf(tmp, sizeof(tmp), "%s/%llu.tmp.%lu", v->jn_dir, (unsigned long long)r->id,
		 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	snprintf(dst, sizeof(dst), "%s/%llu", v->jn_dir, (unsigned long long)r->id);
	rc = write_tmp(tmp, text, len);
	if (rc == 0 && rename(tmp, dst) < 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir(v->jn_dir);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int jn_write(struct vfs *v, const struct jn_rec *r, int data_fd)
{
	char text[JN_MAX];
	int len, rc = 0, sync = !jn_async(v);

	len = jn_format(r, text, sizeof(text));
	if (len < 0)
		return len;
	if (sync && data_fd >= 0 && fdatasync(data_fd) < 0)
		rc = -errno;
	if (rc == 0 && sync && data_fd >= 0 && v->data_dir)
		rc = fsync_dir(v->data_dir); /* a new data file's name */
	if (rc == 0 && !v->jl)
		rc = write_own_file(v, r, text, (size_t)len);
	else if (rc == 0)
		rc = jl_append(v, r->id, text, (size_t)len);
	if (rc == 0 && v->jl && sync)
		rc = jl_sync(v);
	if (rc == 0 && !sync)
		jn_sync_mark(v);
	if (rc < 0)
		az_err("cannot write journal record for '%s' in '%s': %s", r->path, v->jn_dir,
		       strerror(-rc));
	return rc;
}

void jn_remove(struct vfs *v, uint64_t id)
{
	char path[4200];

	if (v->jl)
		jl_done(v, id);
	snprintf(path, sizeof(path), "%s/%llu", v->jn_dir, (unsigned long long)id);
	if (unlink(path) == 0 && !jn_async(v))
		fsync_dir(v->jn_dir); /* a record file of an older version */
}

static int read_small(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap);
	if (n < 0)
		rc = -errno;
	else if ((size_t)n == cap)
		rc = -EFBIG;
	else
		*len = (size_t)n;
	close(fd);
	return rc;
}

static int scan_one(struct vfs *v, const char *name,
		    int (*cb)(struct vfs *v, const struct jn_rec *r, void *arg), void *arg)
{
	char path[4200], *text = NULL, *end;
	struct jn_rec *r = NULL;
	size_t len = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", v->jn_dir, name);
	if (strstr(name, ".tmp.")) {
		unlink(path); /* never renamed: its close did not return */
		return 0;
	}
	strtoull(name, &end, 10);
	if (*end || end == name)
		return 0;
	text = malloc(JN_MAX);
	r = malloc(sizeof(*r));
	rc = text && r ? read_small(path, text, JN_MAX, &len) : -ENOMEM;
	if (rc == 0)
		rc = jn_parse(text, len, r);
	if (rc < 0) {
		az_err("unreadable journal record '%s' kept (%s)", path, strerror(-rc));
		rc = 0;
		goto out;
	}
	rc = cb(v, r, arg);
out:
	free(text);
	free(r);
	return rc;
}

struct live {
	uint64_t *ids;
	char **texts;
	size_t *lens, n;
};

static int is_live(const struct live *l, const char *name)
{
	char *end;
	uint64_t id = strtoull(name, &end, 10);
	size_t i;

	for (i = 0; *end == '\0' && i < l->n; i++)
		if (l->ids[i] == id)
			return 1;
	return 0;
}

/* The log's live records (a snapshot: cb may retire records meanwhile). */
static int scan_log(struct vfs *v, struct live *l,
		    int (*cb)(struct vfs *v, const struct jn_rec *r, void *arg), void *arg)
{
	struct jn_rec *r = malloc(sizeof(*r));
	int rc = r ? 0 : -ENOMEM;
	size_t i;

	for (i = 0; rc == 0 && i < l->n; i++) {
		if (jn_parse(l->texts[i], l->lens[i], r) == 0)
			rc = cb(v, r, arg);
	}
	free(r);
	return rc;
}

int jn_scan(struct vfs *v, int (*cb)(struct vfs *v, const struct jn_rec *r, void *arg), void *arg)
{
	struct live l = {0};
	DIR *d = opendir(v->jn_dir);
	struct dirent *de;
	int rc = 0;
	size_t i;

	if (!d)
		return -errno;
	if (v->jl)
		rc = jl_live(v, &l.ids, &l.texts, &l.lens, &l.n);
	for (de = readdir(d); de && rc == 0; de = readdir(d)) {
		if (de->d_name[0] == '.' || is_live(&l, de->d_name))
			continue; /* the log's record is newer */
		rc = scan_one(v, de->d_name, cb, arg);
	}
	closedir(d);
	if (rc == 0)
		rc = scan_log(v, &l, cb, arg);
	for (i = 0; i < l.n; i++)
		free(l.texts[i]);
	free(l.ids);
	free(l.texts);
	free(l.lens);
	return rc;
}

/* Journals f (caller holds f->up_lock, not v->lock): its dirty data, or with
 * attrs_only its deferred attribute change f->pend (no data). The record is
 * built from f under v->lock; sets f->journaled. 0 if there is nothing to
 * journal. */
static int journal_file(struct vfs *v, struct mc_file *f, int attrs_only)
{
	struct jn_rec *r = malloc(sizeof(*r));
	uint64_t gen;
	int rc = 0, skip;

	if (!r)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	pthread_mutex_lock(&v->lock);
	if (attrs_only)
		skip = f->orphan || !f->node || mc_file_dirty(f) || !f->pend.mask;
	else
		skip = f->orphan || !f->node || !mc_file_dirty(f) || !f->whole;
	if (skip) {
		pthread_mutex_unlock(&v->lock);
		goto out;
	}
	r->id = f->id;
	snprintf(r->path, sizeof(r->path), "%s", f->node->path);
	r->size = f->lst.size;
	r->base = f->base;
	r->has_owner = attrs_only ? 1 : f->lst.has_owner;
	r->mode = f->lst.mode;
	r->uid = f->lst.uid;
	r->gid = f->lst.gid;
	r->mtime = f->lst.mtime;
	r->attrs = attrs_only ? f->pend.mask : 0;
	gen = f->gen;
	pthread_mutex_unlock(&v->lock);
	rc = jn_write(v, r, attrs_only ? -1 : f->fd);
	if (rc == 0) {
		pthread_mutex_lock(&v->lock);
		f->journaled = 1;
		f->jn_gen = gen;
		pthread_mutex_unlock(&v->lock);
	}
out:
	free(r);
	return rc;
}

int jn_file(struct vfs *v, struct mc_file *f)
{
	return journal_file(v, f, 0);
}

int jn_attrs(struct vfs *v, struct mc_file *f)
{
	return journal_file(v, f, 1);
}
