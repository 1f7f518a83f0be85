/* fuse_ops.c: FUSE high-level operations -> the cache (vfs_*).
 *
 * A thin translation; the cache owns all file state. Threads: any FUSE
 * worker thread; the shared data is struct fo_ctx, read-only but for its
 * table of open files (ofiles.c, own lock), which names open files libfuse
 * hid after an unlink or a rename over them (fuse_hidden.c).
 * Paths arrive as "/a/b" and go to the cache as "a/b"; st_ino is a hash
 * of the path (fo_path_ino), with use_ino so the kernel shows it.
 * Permissions are the kernel's (default_permissions is always on); chmod
 * and chown are checked here again with the same rules (perm.c) so a
 * request that somehow bypasses the kernel cannot change ownership.
 * What the share cannot hold fails clearly: hard links and device nodes,
 * FIFOs and sockets -> EPERM (as vfat and cifs without unix extensions),
 * RENAME_EXCHANGE -> EINVAL, forbidden names -> EINVAL/ENAMETOOLONG.
 */
#include "fuse_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "names.h"
#include "perm.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define FO_BLKSIZE 131072

/* st_ino is a hash of the share path, not the share's FileId: a save
 * (Create File replaces the file) gets a new FileId, and a file not
 * uploaded yet has none, so FileId-based numbers changed under cp -a, tar
 * and git. A path hash is stable for as long as the name is, on every
 * node of the pool and across remounts (git's index stays valid when its
 * user lands on another node). A rename gives the file the new name's
 * number (as seen through open descriptors too), and a file unlinked
 * while open takes the number of its hidden name (fuse_hidden.c), so it
 * never shares one with a new file of its old name. 64-bit FNV-1a:
 * collisions are not a practical concern. */
unsigned long long fo_path_ino(const char *path)
{
	unsigned long long h = 14695981039346656037ull;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h | 1ull; /* never 0 */
}

void fo_fill_stat(const struct fo_ctx *x, const char *rel, const struct az_stat *a, struct stat *st)
{
	mode_t mode;

	memset(st, 0, sizeof(*st));
	if (a->has_owner) {
		mode = a->mode;
		st->st_uid = a->uid;
		st->st_gid = a->gid;
	} else {
		mode = a->is_dir ? x->dir_mode : x->file_mode;
		st->st_uid = x->default_uid;
		st->st_gid = x->default_gid;
	}
	if (a->is_dir)
		mode = (mode & 07777) | S_IFDIR;
	else if ((mode & S_IFMT) != S_IFLNK)
		mode = (mode & 07777) | S_IFREG;
	st->st_mode = mode;
	st->st_nlink = a->is_dir ? 2 : 1;
	st->st_size = a->is_dir ? 4096 : (off_t)a->size;
	st->st_blksize = FO_BLKSIZE;
	st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
	st->st_ino = (ino_t)fo_path_ino(rel ? rel : "");
	st->st_mtim = a->mtime.tv_sec ? a->mtime : x->mount_time;
	st->st_ctim = a->ctime.tv_sec ? a->ctime : st->st_mtim;
	st->st_atim = a->atime.tv_sec ? a->atime : st->st_mtim;
}

/* The name st_ino is derived from. */
static const char *ino_name(const struct fo_target *t)
{
	return t->name ? t->name : t->rel ? t->rel : "";
}

static int fo_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct fo_target t;
	struct az_stat a;
	int rc = fo_target_get(&t, path, fi);

	if (rc == 0 && t.rel)
		rc = nm_check_lookup(t.rel);
	if (rc == 0)
		rc = fo_target_attrs(&t, &a);
	if (rc == 0)
		fo_fill_stat(fo_ctx(), ino_name(&t), &a, st);
	fo_target_put(&t);
	return rc;
}

static int fo_access(const char *path, int mask)
{
	struct fo_target t;
	struct az_stat a;
	int rc = fo_target_get(&t, path, NULL);

	(void)mask; /* the kernel checks the bits (default_permissions) */
	if (rc == 0)
		rc = fo_target_attrs(&t, &a);
	fo_target_put(&t);
	return rc;
}

/* ---- directories ---- */

struct fill_arg {
	const struct fo_ctx *x;
	const char *dir;
	void *buf;
	fuse_fill_dir_t filler;
	enum fuse_fill_dir_flags flags;
};

static int fill_one(void *arg, const char *name, const struct az_stat *a)
{
	struct fill_arg *fa = arg;
	char path[4096];
	struct stat st;

	if (of_is_hidden_name(name))
		return 0; /* never ours (ours never reach the share) */
	if (*fa->dir)
		snprintf(path, sizeof(path), "%s/%s", fa->dir, name);
	else
		snprintf(path, sizeof(path), "%s", name);
	fo_fill_stat(fa->x, path, a, &st);
	/* offset 0: libfuse keeps the whole listing; a full buffer is ENOMEM */
	return fa->filler(fa->buf, name, &st, 0, fa->flags) ? -ENOMEM : 0;
}

static int fo_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct fo_ctx *x = fo_ctx();
	struct fill_arg fa = {x, fo_rel(path), buf, filler, 0};

	(void)off;
	(void)fi;
	if (flags & FUSE_READDIR_PLUS)
		fa.flags = FUSE_FILL_DIR_PLUS;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	return vfs_readdir(x->v, fa.dir, fill_one, &fa);
}

/* ---- ownership of new entries ---- */

int fo_new_owner(const char *rel, mode_t type, mode_t mode, struct vfs_want *w)
{
	struct fuse_context *c = fuse_get_context();
	const char *slash = strrchr(rel, '/');
	char parent[4096];
	struct az_stat pa;
	struct stat pst;

	memset(w, 0, sizeof(*w));
	w->mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID;
	w->uid = c->uid;
	w->gid = c->gid;
	w->mode = type | (mode & 07777 & ~c->umask);
	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - rel) : 0, rel);
	if (vfs_getattr(fo_ctx()->v, parent, &pa) == 0) {
		fo_fill_stat(fo_ctx(), parent, &pa, &pst);
		if (pst.st_mode & S_ISGID) {
			w->gid = pst.st_gid;
			if (type == S_IFDIR)
				w->mode |= S_ISGID;
		}
	}
	return 0;
}

static int fo_mkdir(const char *path, mode_t mode)
{
	const char *rel = fo_rel(path);
	struct vfs_want w;
	struct az_stat a;
	int rc = fo_check_new_name(rel);

	if (rc)
		return rc;
	fo_new_owner(rel, S_IFDIR, mode, &w);
	return vfs_mkdir(fo_ctx()->v, rel, &w, &a);
}

static int fo_unlink(const char *path)
{
	struct fo_ctx *x = fo_ctx();
	const char *rel = fo_rel(path);
	int rc;

	if (of_is_hidden_name(rel))
		return 0; /* libfuse dropping a hidden name: it never reached the share */
	rc = vfs_unlink(x->v, rel);
	if (rc == 0)
		of_unlinked(&x->files, rel);
	return rc;
}

static int fo_rmdir(const char *path)
{
	return vfs_rmdir(fo_ctx()->v, fo_rel(path));
}

static int fo_rename(const char *from, const char *to, unsigned int flags)
{
	struct fo_ctx *x = fo_ctx();
	const char *src = fo_rel(from), *dst = fo_rel(to);
	int rc;

	if (flags & RENAME_EXCHANGE)
		return -EINVAL; /* the share cannot swap two names atomically */
	if (flags & ~(unsigned)RENAME_NOREPLACE)
		return -EINVAL;
	if (of_is_hidden_name(src))
		return -ENOENT;
	if (of_is_hidden_name(dst))
		return fo_hidden_rename(src, dst);
	rc = fo_check_new_name(dst);
	if (rc == 0)
		rc = vfs_rename(x->v, src, dst,
				(flags & RENAME_NOREPLACE) ? VFS_RENAME_NOREPLACE : 0);
	if (rc == 0)
		of_renamed(&x->files, src, dst);
	return rc;
}

static int fo_link(const char *from, const char *to)
{
	(void)from;
	az_info("hard link '%s' refused: the share has no hard links", to);
	return -EPERM;
}

static int fo_symlink(const char *target, const char *path)
{
	const char *rel = fo_rel(path);
	struct vfs_want w;
	struct az_stat a;
	int rc = fo_check_new_name(rel);

	if (rc)
		return rc;
	fo_new_owner(rel, S_IFLNK, 0777, &w);
	w.mode = S_IFLNK | 0777;
	return vfs_symlink(fo_ctx()->v, target, rel, &w, &a);
}

static int fo_readlink(const char *path, char *buf, size_t size)
{
	return vfs_readlink(fo_ctx()->v, fo_rel(path), buf, size);
}

/* ---- attributes ---- */

/* Current attributes of what t names. known (may be NULL) gets the cache's
 * view of the entry for path-based calls, else known->is_dir = -1 (nothing
 * known). */
static int current(const struct fo_target *t, struct stat *st, struct az_stat *known)
{
	struct az_stat a;
	int rc = fo_target_attrs(t, &a);

	if (known)
		known->is_dir = -1;
	if (rc == 0)
		fo_fill_stat(fo_ctx(), ino_name(t), &a, st);
	if (rc == 0 && known && !t->f)
		*known = a;
	return rc;
}

/* Tells the backend the size and last-write time the cache holds for a
 * file (VFS_KNOWN_SIZE), so a chmod/chown/utimens of a clean file is one
 * Set File Properties, not that plus a HEAD for the size the reply lacks.
 * Only for path-based calls: through an open handle a streamed file may
 * first flush buffered data that changes the size. */
static void add_known(const struct az_stat *known, struct vfs_want *w)
{
	if (known->is_dir != 0)
		return;
	w->mask |= VFS_KNOWN_SIZE;
	w->size = known->size;
	if (!(w->mask & VFS_SET_MTIME))
		w->mtime = known->mtime;
}

static int setattr(const struct fo_target *t, const struct vfs_want *w)
{
	struct az_stat a;

	return vfs_setattr(fo_ctx()->v, t->rel, t->f ? t->f->fh : NULL, w, &a);
}

static int fo_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fo_target t;
	struct vfs_want w;
	struct az_stat known;
	struct stat st;
	int rc = fo_target_get(&t, path, fi);

	if (rc == 0)
		rc = current(&t, &st, &known);
	if (rc == 0)
		rc = perm_may_chmod(fuse_get_context()->uid, st.st_uid);
	if (rc == 0) {
		memset(&w, 0, sizeof(w));
		w.mask = VFS_SET_MODE;
		w.mode = (st.st_mode & S_IFMT) | (mode & 07777);
		add_known(&known, &w);
		rc = setattr(&t, &w);
	}
	fo_target_put(&t);
	return rc;
}

static int in_group(gid_t gid)
{
	struct fuse_context *c = fuse_get_context();
	gid_t groups[256];
	int n;

	if (c->gid == gid)
		return 1;
	n = fuse_getgroups(256, groups);
	for (int i = 0; i < n && i < 256; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

static int chown_target(const struct fo_target *t, uid_t uid, gid_t gid)
{
	struct fuse_context *c = fuse_get_context();
	struct vfs_want w;
	struct az_stat known;
	struct stat st;
	int rc = current(t, &st, &known);

	if (rc)
		return rc;
	rc = perm_may_chown(c->uid, st.st_uid, st.st_gid, uid, gid,
			    gid != (gid_t)-1 && in_group(gid));
	if (rc) {
		az_debug("chown of '%s' by uid %u refused", ino_name(t), (unsigned)c->uid);
		return rc;
	}
	memset(&w, 0, sizeof(w));
	if (uid != (uid_t)-1) {
		w.mask |= VFS_SET_UID;
		w.uid = uid;
	}
	if (gid != (gid_t)-1) {
		w.mask |= VFS_SET_GID;
		w.gid = gid;
	}
	if (!w.mask)
		return 0;
	add_known(&known, &w);
	return setattr(t, &w);
}

static int fo_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	struct fo_target t;
	int rc = fo_target_get(&t, path, fi);

	if (rc == 0)
		rc = chown_target(&t, uid, gid);
	fo_target_put(&t);
	return rc;
}

static int fo_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct fo_target t;
	struct vfs_want w;
	int rc;

	if (size < 0)
		return -EINVAL;
	memset(&w, 0, sizeof(w));
	w.mask = VFS_SET_SIZE;
	w.size = (uint64_t)size;
	rc = fo_target_get(&t, path, fi);
	if (rc == 0)
		rc = setattr(&t, &w);
	fo_target_put(&t);
	return rc;
}

static int fo_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	struct fo_target t;
	struct vfs_want w;
	struct az_stat known;
	int rc;

	/* atime is not kept; only the last-write time matters */
	if (tv && tv[1].tv_nsec == UTIME_OMIT)
		return 0;
	memset(&w, 0, sizeof(w));
	w.mask = VFS_SET_MTIME;
	if (!tv || tv[1].tv_nsec == UTIME_NOW)
		clock_gettime(CLOCK_REALTIME, &w.mtime);
	else
		w.mtime = tv[1];
	rc = fo_target_get(&t, path, fi);
	/* the attributes are normally fresh (the kernel just looked the path
	 * up): free, and it spares the backend a HEAD for the size */
	if (rc == 0 && t.rel && !t.f && vfs_getattr(fo_ctx()->v, t.rel, &known) == 0)
		add_known(&known, &w);
	if (rc == 0)
		rc = setattr(&t, &w);
	fo_target_put(&t);
	return rc;
}

static int fo_statfs(const char *path, struct statvfs *sv)
{
	uint64_t total = 0, used = 0;
	int rc = vfs_statfs(fo_ctx()->v, &total, &used);

	(void)path;
	if (rc)
		return rc;
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = 4096;
	sv->f_frsize = 4096;
	sv->f_blocks = total / 4096;
	sv->f_bfree = total > used ? (total - used) / 4096 : 0;
	sv->f_bavail = sv->f_bfree;
	sv->f_files = 1ull << 32;
	sv->f_ffree = 1ull << 31;
	sv->f_favail = sv->f_ffree;
	sv->f_namemax = NM_NAME_MAX;
	return 0;
}

/* ---- lifecycle ---- */

static void *fo_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct fo_ctx *x = fo_ctx();

	cfg->use_ino = 1;
	cfg->readdir_ino = 1;
	/* The kernel keeps attributes for attr_timeout like the cache does;
	 * close-to-open is kept by fo_open, which drops the kernel's copy when
	 * the cache found the file changed. Negative entries are left to the
	 * cache (negative_timeout 0), so a file another node made shows up
	 * within dir_timeout. */
	cfg->entry_timeout = x->attr_timeout;
	cfg->attr_timeout = x->attr_timeout;
	cfg->negative_timeout = x->negative_timeout;
	/* unlinked open files: the cache keeps the data, libfuse keeps a
	 * hidden name for the node (fuse_hidden.c), so fstat() works. That
	 * needs to know which request hides a file (fuse_req.c); without,
	 * libfuse forgets the node (fstat of an unlinked file: ESTALE). */
	cfg->hard_remove = !x->req_noted;
	cfg->kernel_cache = 0; /* keep_cache is decided per open */
	cfg->auto_cache = 0;
	cfg->nullpath_ok = 0;
	/* The kernel clears setuid/setgid itself (we do not handle killpriv). */
	conn->want &= ~(unsigned)FUSE_CAP_HANDLE_KILLPRIV;
	conn->want &=
	    ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	conn->max_write = 1u << 20;
	conn->max_readahead = 1u << 20;
	conn->time_gran = 100; /* the share keeps 100 ns ticks */
	return x;
}

static void fo_destroy(void *data)
{
	struct fo_ctx *x = data;
	int rc;

	rc = vfs_sync_all(x->v);
	if (rc)
		az_err("some data could not be uploaded at unmount (%s); it stays in the journal "
		       "and is uploaded at the next mount",
		       strerror(-rc));
}

void fo_operations(struct fuse_operations *ops)
{
	memset(ops, 0, sizeof(*ops));
	ops->init = fo_init;
	ops->destroy = fo_destroy;
	ops->getattr = fo_getattr;
	ops->access = fo_access;
	ops->readdir = fo_readdir;
	ops->mkdir = fo_mkdir;
	ops->unlink = fo_unlink;
	ops->rmdir = fo_rmdir;
	ops->rename = fo_rename;
	ops->link = fo_link;
	ops->symlink = fo_symlink;
	ops->readlink = fo_readlink;
	ops->chmod = fo_chmod;
	ops->chown = fo_chown;
	ops->truncate = fo_truncate;
	ops->utimens = fo_utimens;
	ops->statfs = fo_statfs;
	ops->open = fo_open;
	ops->create = fo_create;
	ops->mknod = fo_mknod;
	ops->read = fo_read;
	ops->write = fo_write;
	ops->flush = fo_flush;
	ops->fsync = fo_fsync;
	ops->fsyncdir = fo_fsyncdir;
	ops->release = fo_release;
}
