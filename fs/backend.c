/* backend.c: the cache's view of the share, over the REST client.
 *
 * Implements struct vfs_backend (include/azsharefs/cache.h). Threads: any
 * cache thread (FUSE workers, write-back uploaders) may call any op at once;
 * the client and perm map are thread-safe. b->lock guards only the statfs
 * cache. A large upload runs its own short-lived Put Range threads, joined
 * before the op returns.
 * Invariants:
 * - Every entry handed to the cache has its POSIX view filled (perm.c):
 *   has_owner/uid/gid/mode from the permission key, or has_owner 0.
 * - Nothing partial is ever visible under a real name: files over 4 MiB are
 *   written under ".azsf~<random>" in the same directory and renamed over
 *   the target (replace-if-exists); the temp is deleted on failure.
 * - Every create/upload carries the permission key of (uid, gid, mode) and
 *   x-ms-file-last-write-time = want->mtime when given (docs/DESIGN.md).
 * - Requests are the cost that counts: no HEAD merely to fill a reply that
 *   lacks the size. Set File Properties takes the size from the resize or
 *   from the caller (VFS_KNOWN_SIZE, trusted only when the reply's
 *   last-write time matches the caller's), a large upload's result is the
 *   rename's reply, a range write updates the attributes the caller gave.
 * Pure helpers (symlink format, temp names) are in backend_fmt.c.
 */
#include "backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "azsharefs/client.h"
#include "azsharefs/log.h"
#include "perm.h"

struct azb {
	struct az_client *c;  /* read-only */
	struct perm_map *pm;  /* read-only */
	struct azb_opts opts; /* read-only */
	pthread_mutex_t lock;
	int statfs_valid;	   /* lock */
	struct timespec statfs_at; /* lock */
	uint64_t statfs_total;	   /* lock */
	uint64_t statfs_used;	   /* lock */
	int quota_valid;	   /* lock */
	struct timespec quota_at;  /* lock */
	uint64_t quota_gib;	   /* lock */
};

int azb_init(struct azb **out, struct az_client *c, struct perm_map *pm,
	     const struct azb_opts *opts)
{
	struct azb *b = calloc(1, sizeof(*b));

	*out = NULL;
	if (!b)
		return -ENOMEM;
	b->c = c;
	b->pm = pm;
	b->opts = *opts;
	if (b->opts.put_threads <= 0)
		b->opts.put_threads = 4;
	if (b->opts.statfs_ttl_ms <= 0)
		b->opts.statfs_ttl_ms = 5000;
	if (b->opts.quota_ttl_ms <= 0)
		b->opts.quota_ttl_ms = 300000;
	b->quota_valid = b->opts.quota_known;
	b->quota_gib = b->opts.quota_gib;
	clock_gettime(CLOCK_MONOTONIC, &b->quota_at);
	pthread_mutex_init(&b->lock, NULL);
	*out = b;
	return 0;
}

void azb_free(struct azb *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* ---- small helpers ---- */

static int is_temp_name(const char *name)
{
	return strncmp(name, AZB_TEMP_PREFIX, strlen(AZB_TEMP_PREFIX)) == 0;
}

/* Sets the POSIX view of st from what we just wrote. */
static void set_owner(struct az_stat *st, uid_t uid, gid_t gid, mode_t mode)
{
	st->has_owner = 1;
	st->uid = uid;
	st->gid = gid;
	st->mode = mode;
}

/* Equal as the share stores times (100 ns ticks). */
static int same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec / 100 == b->tv_nsec / 100;
}

/* The owner sent with one create/set: a permission key the map knows, or
 * the SDDL inline (x-ms-file-permission) when it knows none yet, whose key
 * the reply then teaches it: a new owner costs no Create Permission. */
struct smb_perm {
	char key[AZ_PERMKEY_MAX];
	char sddl[PERM_SDDL_MAX];
	uid_t uid;
	gid_t gid;
	mode_t mode; /* with type bits */
};

/* The permission and times to send for want. type is the S_IFMT to record
 * when want->mode carries none. want must carry mode/uid/gid (the callers
 * merge first). */
static int smb_for(struct azb *b, const struct vfs_want *want, mode_t type, struct az_smb *smb,
		   struct smb_perm *sp)
{
	int rc;

	memset(smb, 0, sizeof(*smb));
	sp->uid = want->uid;
	sp->gid = want->gid;
	sp->mode = want->mode;
	if ((sp->mode & S_IFMT) == 0)
		sp->mode |= type;
	sp->sddl[0] = '\0';
	rc = perm_key_lookup(b->pm, sp->uid, sp->gid, sp->mode, sp->key);
	if (rc == 0) {
		smb->perm_key = sp->key;
	} else {
		rc = perm_sddl_format(sp->uid, sp->gid, sp->mode, sp->sddl, sizeof(sp->sddl));
		if (rc)
			return rc;
		smb->perm_sddl = sp->sddl;
	}
	if (want->mask & VFS_SET_MTIME) {
		smb->set_mtime = 1;
		smb->mtime = want->mtime;
	}
	return 0;
}

/* After a create/set that carried sp: the POSIX view of st, and the key
 * the reply gave an inline SDDL, remembered for the next time. */
static void owner_sent(struct azb *b, const struct smb_perm *sp, struct az_stat *st)
{
	if (sp->sddl[0] && st->perm_key[0])
		perm_learn(b->pm, st->perm_key, sp->uid, sp->gid, sp->mode);
	set_owner(st, sp->uid, sp->gid, sp->mode);
}

/* HEAD of a file, then of a directory. */
static int head_any(struct azb *b, const char *path, struct az_stat *st)
{
	int rc;

	if (*path == '\0')
		return az_dir_get_props(b->c, "", st);
	rc = az_file_get_props(b->c, path, st);
	if (rc == -ENOENT)
		rc = az_dir_get_props(b->c, path, st);
	return rc;
}

/* Completes a want that lacks some of mode/uid/gid from the entry's
 * current owner (or the mount defaults for foreign entries). */
static int merge_owner(struct azb *b, const char *path, int is_dir, struct vfs_want *w)
{
	const unsigned all = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID;
	struct az_stat cur;
	int rc;

	if ((w->mask & all) == all)
		return 0;
	az_debug("backend: owner of '%s' incomplete (mask 0x%x), asking the share", path, w->mask);
	memset(&cur, 0, sizeof(cur));
	rc = is_dir ? az_dir_get_props(b->c, path, &cur) : az_file_get_props(b->c, path, &cur);
	if (rc == -ENOENT && !is_dir) {
		cur.has_owner = 0;
		cur.is_dir = 0;
	} else if (rc) {
		return rc;
	} else {
		rc = perm_fill_stat(b->pm, &cur);
		if (rc)
			return rc;
		if (!cur.is_dir && !(w->mask & (VFS_SET_SIZE | VFS_KNOWN_SIZE))) {
			/* what the change's reply will lack, known now */
			w->mask |= VFS_KNOWN_SIZE;
			w->size = cur.size;
			if (!(w->mask & VFS_SET_MTIME))
				w->mtime = cur.mtime;
		}
	}
	if (!cur.has_owner) {
		cur.uid = b->opts.default_uid;
		cur.gid = b->opts.default_gid;
		cur.mode = is_dir ? (S_IFDIR | b->opts.default_dir_mode)
				  : (S_IFREG | b->opts.default_file_mode);
	}
	if (!(w->mask & VFS_SET_UID))
		w->uid = cur.uid;
	if (!(w->mask & VFS_SET_GID))
		w->gid = cur.gid;
	if (!(w->mask & VFS_SET_MODE))
		w->mode = cur.mode;
	else if ((w->mode & S_IFMT) == 0)
		w->mode |= cur.mode & S_IFMT;
	w->mask |= all;
	return 0;
}

/* ---- read side ---- */

static int be_stat(void *ctx, const char *path, struct az_stat *st)
{
	struct azb *b = ctx;
	int rc;

	az_debug("backend stat '%s'", path);
	rc = head_any(b, path, st);

	return rc ? rc : perm_fill_stat(b->pm, st);
}

struct list_ctx {
	struct azb *b;
	vfs_list_cb cb;
	void *arg;
};

static int list_one(void *arg, const char *name, const struct az_stat *st)
{
	struct list_ctx *lc = arg;
	struct az_stat copy = *st;
	int rc;

	if (is_temp_name(name))
		return 0;
	rc = perm_fill_stat(lc->b->pm, &copy);
	if (rc)
		return rc;
	return lc->cb(lc->arg, name, &copy);
}

static int be_list(void *ctx, const char *dir, vfs_list_cb cb, void *arg)
{
	struct list_ctx lc = {ctx, cb, arg};

	az_debug("backend list '%s'", dir);
	return az_dir_list(((struct azb *)ctx)->c, dir, NULL, 0, list_one, &lc);
}

static ssize_t be_read(void *ctx, const char *path, uint64_t off, size_t len, void *buf)
{
	struct azb *b = ctx;
	size_t got = 0;
	int rc = az_file_read(b->c, path, off, len, buf, &got, NULL);

	return rc ? rc : (ssize_t)got;
}

static int be_download(void *ctx, const char *path, int fd, struct az_stat *st)
{
	struct azb *b = ctx;
	int rc;

	az_debug("backend download '%s'", path);
	rc = az_file_download(b->c, path, fd, st);
	return rc ? rc : perm_fill_stat(b->pm, st);
}

/* ---- upload ---- */

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the local copy is shorter than promised */
		done += (size_t)n;
	}
	return 0;
}

/* One request: Create File with the whole body. */
static int upload_small(struct azb *b, const char *path, int fd, uint64_t size,
			const struct az_smb *smb, struct az_stat *st)
{
	void *buf = NULL;
	int rc;

	if (size > 0) {
		buf = malloc((size_t)size);
		if (!buf)
			return -ENOMEM;
		rc = pread_full(fd, buf, (size_t)size, 0);
		if (rc)
			goto out;
	}
	rc = az_file_create(b->c, path, size, buf, (size_t)size, smb, NULL, st);
out:
	free(buf);
	return rc;
}

struct put_job {
	struct azb *b;
	const char *tmp;
	int fd;
	uint64_t size;
	pthread_mutex_t lock;
	uint64_t next; /* lock: next offset to hand out */
	int rc;	       /* lock: first failure */
};

static void *put_worker(void *arg)
{
	struct put_job *j = arg;
	char *buf = malloc(AZ_MAX_RANGE);
	int rc = buf ? 0 : -ENOMEM;

	for (;;) {
		uint64_t off;
		size_t len;

		pthread_mutex_lock(&j->lock);
		if (rc && !j->rc)
			j->rc = rc;
		off = j->next;
		if (j->rc || off >= j->size) {
			pthread_mutex_unlock(&j->lock);
			break;
		}
		len = j->size - off < AZ_MAX_RANGE ? (size_t)(j->size - off) : AZ_MAX_RANGE;
		j->next = off + len;
		pthread_mutex_unlock(&j->lock);
		rc = pread_full(j->fd, buf, len, off);
		if (rc == 0 && !azb_all_zero(buf, len))
			rc = az_file_put_range_ex(j->b->c, j->tmp, off, buf, len, NULL,
						  AZ_PUT_KEEP_MTIME, NULL);
	}
	free(buf);
	return NULL;
}

/* Put Range of every non-zero 4 MiB piece of fd into tmp, in parallel. */
static int put_ranges(struct azb *b, const char *tmp, int fd, uint64_t size)
{
	struct put_job j = {.b = b, .tmp = tmp, .fd = fd, .size = size};
	uint64_t pieces = (size + AZ_MAX_RANGE - 1) / AZ_MAX_RANGE;
	int n = b->opts.put_threads < (int)pieces ? b->opts.put_threads : (int)pieces;
	pthread_t th[64];
	int started = 0, i;

	if (n > 64)
		n = 64;
	pthread_mutex_init(&j.lock, NULL);
	for (i = 1; i < n; i++) {
		if (pthread_create(&th[started], NULL, put_worker, &j) != 0)
			break;
		started++;
	}
	put_worker(&j); /* this thread works too */
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&j.lock);
	return j.rc;
}

/* Temp file + parallel ranges + replacing rename; st = the rename's reply
 * (it describes the result; the size is ours), so no HEAD follows. */
static int upload_large(struct azb *b, const char *path, int fd, uint64_t size,
			const struct az_smb *smb, const struct vfs_want *want, struct az_stat *st)
{
	char tmp[4096];
	int rc = azb_temp_name(path, tmp, sizeof(tmp));
	int created = 0;

	if (rc)
		return rc;
	rc = az_file_create(b->c, tmp, size, NULL, 0, smb, NULL, NULL);
	if (rc)
		goto out;
	created = 1;
	rc = put_ranges(b, tmp, fd, size);
	if (rc)
		goto out;
	memset(st, 0, sizeof(*st));
	st->size = size;
	rc = az_rename_ex(b->c, tmp, path, 0, 1, NULL, NULL, st);
	if (rc)
		goto out;
	created = 0;
	/* Ranges keep the create's last-write time; should the share have moved
	 * it anyway, put it back (one more request, never in the common case). */
	if ((want->mask & VFS_SET_MTIME) && !same_time(&st->mtime, &want->mtime)) {
		struct az_smb fix = {.set_mtime = 1, .mtime = want->mtime};

		az_debug("upload '%s': last-write time moved, setting it again", path);
		rc = az_file_set_props(b->c, path, -1, &fix, NULL, st);
	}
out:
	if (created && az_file_delete(b->c, tmp, NULL) != 0)
		az_warn("cannot remove temporary upload '%s'", tmp);
	if (rc)
		az_err("upload of '%s' (%llu bytes) failed: %s", path, (unsigned long long)size,
		       strerror(-rc));
	return rc;
}

static int be_upload(void *ctx, const char *path, int fd, uint64_t size,
		     const struct vfs_want *want, struct az_stat *st)
{
	struct azb *b = ctx;
	struct vfs_want w = *want;
	struct smb_perm sp;
	struct az_smb smb;
	int rc = merge_owner(b, path, 0, &w);

	if (rc == 0)
		rc = smb_for(b, &w, S_IFREG, &smb, &sp);
	if (rc)
		return rc;
	az_debug("upload '%s': %llu bytes, uid %u gid %u mode %o, mtime %s%lld.%09ld", path,
		 (unsigned long long)size, (unsigned)w.uid, (unsigned)w.gid, (unsigned)sp.mode,
		 (w.mask & VFS_SET_MTIME) ? "" : "(not set) ", (long long)w.mtime.tv_sec,
		 w.mtime.tv_nsec);
	if (size <= AZ_MAX_RANGE)
		rc = upload_small(b, path, fd, size, &smb, st);
	else
		rc = upload_large(b, path, fd, size, &smb, &w, st);
	if (rc)
		return rc;
	st->size = size;
	owner_sent(b, &sp, st);
	return 0;
}

/* Put Range fails past EOF: grow the file once, then write. out (may be
 * NULL) is updated from the last reply (ETag, last-write time). */
static int put_growing(struct azb *b, const char *path, uint64_t off, const void *buf, size_t len,
		       struct az_stat *out)
{
	struct az_stat cur;
	int rc = az_file_put_range(b->c, path, off, buf, len, NULL, out);

	if (rc != -EINVAL)
		return rc;
	rc = az_file_get_props(b->c, path, &cur);
	if (rc)
		return rc;
	if (cur.size >= off + len)
		return -EINVAL;
	rc = az_file_set_props(b->c, path, (int64_t)(off + len), NULL, NULL, NULL);
	return rc ? rc : az_file_put_range(b->c, path, off, buf, len, NULL, out);
}

/* st in/out (include/azsharefs/cache.h): with the caller's attributes on
 * entry (etag set) the replies update them; else one HEAD at the end. */
static int be_write_range(void *ctx, const char *path, uint64_t off, const void *buf, size_t len,
			  struct az_stat *st)
{
	struct azb *b = ctx;
	int known = st->etag[0] != '\0' && !st->is_dir;
	size_t done = 0;
	int rc = 0;

	while (rc == 0 && done < len) {
		size_t n = len - done < AZ_MAX_RANGE ? len - done : AZ_MAX_RANGE;

		rc = put_growing(b, path, off + done, (const char *)buf + done, n,
				 known ? st : NULL);
		done += n;
	}
	if (rc == 0 && known && st->size < off + len)
		st->size = off + len;
	else if (rc == 0 && !known)
		rc = az_file_get_props(b->c, path, st);
	return rc ? rc : perm_fill_stat(b->pm, st);
}

/* ---- namespace ---- */

static int be_create(void *ctx, const char *path, const struct vfs_want *want, struct az_stat *st)
{
	struct azb *b = ctx;
	struct vfs_want w = *want;
	struct smb_perm sp;
	struct az_smb smb;
	int rc = merge_owner(b, path, 0, &w);

	if (rc == 0)
		rc = smb_for(b, &w, S_IFREG, &smb, &sp);
	if (rc == 0)
		rc = az_file_create(b->c, path, 0, NULL, 0, &smb, NULL, st);
	if (rc == 0)
		owner_sent(b, &sp, st);
	return rc;
}

/* O_EXCL across nodes: the empty file (permission key, times) is made under
 * a hidden temp name beside path, then renamed onto path without replace:
 * the service refuses atomically when the name is taken (-EEXIST), by any
 * case. The temp is deleted on failure. st = the rename's reply. */
static int be_create_excl(void *ctx, const char *path, const struct vfs_want *want,
			  struct az_stat *st)
{
	struct azb *b = ctx;
	struct vfs_want w = *want;
	struct smb_perm sp;
	struct az_smb smb;
	char tmp[4096];
	int rc = azb_temp_name(path, tmp, sizeof(tmp));

	if (rc == 0)
		rc = merge_owner(b, path, 0, &w);
	if (rc == 0)
		rc = smb_for(b, &w, S_IFREG, &smb, &sp);
	if (rc == 0)
		rc = az_file_create(b->c, tmp, 0, NULL, 0, &smb, NULL, NULL);
	if (rc)
		return rc;
	memset(st, 0, sizeof(*st));
	rc = az_rename_ex(b->c, tmp, path, 0, 0, NULL, NULL, st);
	if (rc) {
		if (az_file_delete(b->c, tmp, NULL) != 0)
			az_warn("cannot remove temporary file '%s'", tmp);
		return rc;
	}
	st->size = 0;
	owner_sent(b, &sp, st);
	return 0;
}

static int be_mkdir(void *ctx, const char *path, const struct vfs_want *want, struct az_stat *st)
{
	struct azb *b = ctx;
	struct vfs_want w = *want;
	struct smb_perm sp;
	struct az_smb smb;
	int rc;

	w.mode = (w.mode & ~(mode_t)S_IFMT) | S_IFDIR;
	w.mask |= VFS_SET_MODE;
	if ((w.mask & (VFS_SET_UID | VFS_SET_GID)) != (VFS_SET_UID | VFS_SET_GID)) {
		if (!(w.mask & VFS_SET_UID))
			w.uid = b->opts.default_uid;
		if (!(w.mask & VFS_SET_GID))
			w.gid = b->opts.default_gid;
	}
	rc = smb_for(b, &w, S_IFDIR, &smb, &sp);
	if (rc == 0)
		rc = az_dir_create(b->c, path, &smb, st);
	if (rc == 0) {
		st->is_dir = 1;
		owner_sent(b, &sp, st);
	}
	return rc;
}

static int be_unlink(void *ctx, const char *path)
{
	az_debug("backend unlink '%s'", path);
	return az_file_delete(((struct azb *)ctx)->c, path, NULL);
}

static int be_rmdir(void *ctx, const char *path)
{
	return az_dir_delete(((struct azb *)ctx)->c, path);
}

static int be_rename(void *ctx, const char *src, const char *dst, int is_dir, int noreplace)
{
	struct azb *b = ctx;
	int rc;

	az_debug("backend rename '%s' -> '%s'%s", src, dst, noreplace ? " (noreplace)" : "");
	rc = az_rename(b->c, src, dst, is_dir, !noreplace, NULL, NULL);

	/* The service replaces files only; POSIX lets a directory replace an
	 * empty directory. Delete Directory itself tells what dst is: done
	 * (empty directory), DirectoryNotEmpty, or not found as a directory
	 * (a file: it stays, and the rename fails as before). */
	if (rc == -EEXIST && is_dir && !noreplace) {
		rc = az_dir_delete(b->c, dst);
		if (rc == 0)
			rc = az_rename(b->c, src, dst, 1, 0, NULL, NULL);
		else if (rc != -ENOTEMPTY)
			rc = -EEXIST;
	}
	return rc;
}

/* Set File Properties. The reply has no size: it is the resize value, or
 * the one the caller knows (VFS_KNOWN_SIZE) when the reply's last-write
 * time shows nobody wrote meanwhile; else a HEAD after the change tells
 * (and a version that moved under us is reported unknown: etag ""). */
static int file_set_props(struct azb *b, const char *path, int64_t size, const struct az_smb *smb,
			  const struct vfs_want *w, struct az_stat *st)
{
	int known = (w->mask & VFS_KNOWN_SIZE) != 0;
	int moved = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	st->size = known ? w->size : 0;
	rc = az_file_set_props(b->c, path, size, smb, NULL, st);
	if (rc || size >= 0)
		return rc;
	if (known && ((w->mask & VFS_SET_MTIME) || same_time(&st->mtime, &w->mtime)))
		return 0;
	if (known) {
		az_debug("setattr '%s': written elsewhere meanwhile, asking the share", path);
		moved = 1;
	}
	rc = az_file_get_props(b->c, path, st);
	if (rc == 0 && moved)
		st->etag[0] = '\0';
	return rc;
}

static int be_setattr(void *ctx, const char *path, int is_dir, const struct vfs_want *want,
		      struct az_stat *st)
{
	struct azb *b = ctx;
	const unsigned owner = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID;
	struct vfs_want w = *want;
	struct az_smb smb;
	struct smb_perm sp;
	int64_t size = -1;
	int rc = 0;

	memset(&smb, 0, sizeof(smb));
	az_debug("setattr '%s': mask 0x%x mode %o uid %u gid %u size %llu mtime %lld.%09ld", path,
		 w.mask, (unsigned)w.mode, (unsigned)w.uid, (unsigned)w.gid,
		 (unsigned long long)w.size, (long long)w.mtime.tv_sec, w.mtime.tv_nsec);
	if (w.mask & owner) {
		rc = merge_owner(b, path, is_dir, &w);
		if (rc == 0)
			rc = smb_for(b, &w, is_dir ? S_IFDIR : S_IFREG, &smb, &sp);
		if (rc)
			return rc;
	}
	if (w.mask & VFS_SET_MTIME) {
		smb.set_mtime = 1;
		smb.mtime = w.mtime;
	}
	if (w.mask & VFS_SET_SIZE) {
		if (is_dir)
			return -EISDIR;
		size = (int64_t)w.size;
	}
	if (is_dir)
		rc = az_dir_set_props(b->c, path, &smb, st);
	else
		rc = file_set_props(b, path, size, &smb, &w, st);
	if (rc)
		return rc;
	if (is_dir)
		st->is_dir = 1;
	if (w.mask & owner) {
		owner_sent(b, &sp, st);
		return 0;
	}
	return perm_fill_stat(b->pm, st);
}

/* ---- symlinks (Minshall+French, as cifs mfsymlinks) ---- */

static int be_symlink(void *ctx, const char *path, const char *target, const struct vfs_want *want,
		      struct az_stat *st)
{
	struct azb *b = ctx;
	struct vfs_want w = *want;
	char body[AZB_SYMLINK_SIZE];
	struct smb_perm sp;
	struct az_smb smb;
	int rc = azb_symlink_format(target, body);

	if (rc)
		return rc;
	w.mode = S_IFLNK | 0777;
	w.mask |= VFS_SET_MODE;
	if (!(w.mask & VFS_SET_UID))
		w.uid = b->opts.default_uid;
	if (!(w.mask & VFS_SET_GID))
		w.gid = b->opts.default_gid;
	rc = smb_for(b, &w, S_IFLNK, &smb, &sp);
	if (rc == 0)
		rc = az_file_create(b->c, path, AZB_SYMLINK_SIZE, body, AZB_SYMLINK_SIZE, &smb,
				    NULL, st);
	if (rc == 0)
		owner_sent(b, &sp, st);
	return rc;
}

static int be_readlink(void *ctx, const char *path, char *buf, size_t size)
{
	struct azb *b = ctx;
	char body[AZB_SYMLINK_SIZE + 1];
	size_t got = 0;
	int rc = az_file_read(b->c, path, 0, sizeof(body), body, &got, NULL);

	if (rc)
		return rc;
	rc = azb_symlink_parse(body, got, buf, size);
	if (rc)
		az_warn("'%s' is marked as a symlink but does not hold one", path);
	return rc;
}

/* ---- statfs ---- */

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)((now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000);
}

/* The quota changes rarely (an admin's resize): re-read every quota_ttl,
 * so a statfs normally costs one Get Share Stats per statfs_ttl. */
static int quota_get(struct azb *b, uint64_t *quota_gib)
{
	struct az_share_props props;
	int rc;

	pthread_mutex_lock(&b->lock);
	if (b->quota_valid && ms_since(&b->quota_at) < b->opts.quota_ttl_ms) {
		*quota_gib = b->quota_gib;
		pthread_mutex_unlock(&b->lock);
		return 0;
	}
	pthread_mutex_unlock(&b->lock);
	rc = az_share_get_props(b->c, &props);
	if (rc)
		return rc;
	*quota_gib = props.quota_gib;
	pthread_mutex_lock(&b->lock);
	b->quota_valid = 1;
	b->quota_gib = props.quota_gib;
	clock_gettime(CLOCK_MONOTONIC, &b->quota_at);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static int be_statfs(void *ctx, uint64_t *total, uint64_t *used)
{
	struct azb *b = ctx;
	uint64_t usage = 0, quota = 0;
	int rc = 0;

	pthread_mutex_lock(&b->lock);
	if (b->statfs_valid && ms_since(&b->statfs_at) < b->opts.statfs_ttl_ms) {
		*total = b->statfs_total;
		*used = b->statfs_used;
		pthread_mutex_unlock(&b->lock);
		return 0;
	}
	pthread_mutex_unlock(&b->lock);
	rc = quota_get(b, &quota);
	if (rc == 0)
		rc = az_share_get_usage(b->c, &usage);
	if (rc)
		return rc;
	/* no quota reported: the service's largest share, 100 TiB */
	*total = quota ? quota << 30 : 100ull << 40;
	if (*total < usage)
		*total = usage;
	*used = usage;
	pthread_mutex_lock(&b->lock);
	b->statfs_valid = 1;
	b->statfs_total = *total;
	b->statfs_used = usage;
	clock_gettime(CLOCK_MONOTONIC, &b->statfs_at);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

void azb_ops(struct azb *b, struct vfs_backend *be)
{
	memset(be, 0, sizeof(*be));
	be->ctx = b;
	be->stat = be_stat;
	be->list = be_list;
	be->read = be_read;
	be->download = be_download;
	be->upload = be_upload;
	be->write_range = be_write_range;
	be->create = be_create;
	be->create_excl = be_create_excl;
	be->mkdir = be_mkdir;
	be->unlink = be_unlink;
	be->rmdir = be_rmdir;
	be->rename = be_rename;
	be->setattr = be_setattr;
	be->symlink = be_symlink;
	be->readlink = be_readlink;
	be->statfs = be_statfs;
}
