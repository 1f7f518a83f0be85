/* passthrough.c: a plain FUSE passthrough of a local directory, the baseline
 * the benchmarks compare azsharefs with ("FUSE passthrough" in PEERS.md).
 *
 * Usage: azsf-passthrough SRCDIR MOUNTPOINT [fuse options]
 * High-level libfuse3 API, path-based, multithreaded; every call maps to the
 * matching syscall under SRCDIR; kernel caching as libfuse's passthrough
 * example sets it (kernel_cache, 1 s timeouts). No state of its own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static char pt_src[PATH_MAX];

static void pt_path(char *out, const char *path)
{
	snprintf(out, PATH_MAX, "%s%s", pt_src, path);
}

static void *pt_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->use_ino = 1;
	cfg->kernel_cache = 1;
	cfg->entry_timeout = 1;
	cfg->attr_timeout = 1;
	cfg->negative_timeout = 1;
	return NULL;
}

static int pt_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	char p[PATH_MAX];

	if (fi)
		return fstat((int)fi->fh, st) ? -errno : 0;
	pt_path(p, path);
	return lstat(p, st) ? -errno : 0;
}

static int pt_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	char p[PATH_MAX];
	DIR *d;
	struct dirent *de;

	pt_path(p, path);
	d = opendir(p);
	if (!d)
		return -errno;
	for (de = readdir(d); de; de = readdir(d)) {
		struct stat st = {.st_ino = de->d_ino, .st_mode = (mode_t)de->d_type << 12};

		if (fill(buf, de->d_name, &st, 0, 0))
			break;
	}
	closedir(d);
	return 0;
}

static int pt_open(const char *path, struct fuse_file_info *fi)
{
	char p[PATH_MAX];
	int fd;

	pt_path(p, path);
	fd = open(p, fi->flags);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int pt_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	char p[PATH_MAX];
	int fd;

	pt_path(p, path);
	fd = open(p, fi->flags, mode);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int pt_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	ssize_t n = pread((int)fi->fh, buf, size, off);

	return n < 0 ? -errno : (int)n;
}

static int pt_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	ssize_t n = pwrite((int)fi->fh, buf, size, off);

	return n < 0 ? -errno : (int)n;
}

static int pt_release(const char *path, struct fuse_file_info *fi)
{
	close((int)fi->fh);
	return 0;
}

static int pt_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	return fsync((int)fi->fh) ? -errno : 0;
}

#define PT_PATH_OP(name, call)                                                                     \
	static int name(const char *path)                                                          \
	{                                                                                          \
		char p[PATH_MAX];                                                                  \
		pt_path(p, path);                                                                  \
		return call ? -errno : 0;                                                          \
	}
PT_PATH_OP(pt_unlink, unlink(p))
PT_PATH_OP(pt_rmdir, rmdir(p))

static int pt_mkdir(const char *path, mode_t mode)
{
	char p[PATH_MAX];

	pt_path(p, path);
	return mkdir(p, mode) ? -errno : 0;
}

static int pt_rename(const char *from, const char *to, unsigned int flags)
{
	char a[PATH_MAX], b[PATH_MAX];

	if (flags)
		return -EINVAL;
	pt_path(a, from);
	pt_path(b, to);
	return rename(a, b) ? -errno : 0;
}

static int pt_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	char p[PATH_MAX];

	pt_path(p, path);
	return chmod(p, mode) ? -errno : 0;
}

static int pt_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	char p[PATH_MAX];

	pt_path(p, path);
	return lchown(p, uid, gid) ? -errno : 0;
}

static int pt_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	char p[PATH_MAX];

	if (fi)
		return ftruncate((int)fi->fh, size) ? -errno : 0;
	pt_path(p, path);
	return truncate(p, size) ? -errno : 0;
}

static int pt_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	char p[PATH_MAX];

	pt_path(p, path);
	return utimensat(AT_FDCWD, p, tv, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

static int pt_symlink(const char *target, const char *path)
{
	char p[PATH_MAX];

	pt_path(p, path);
	return symlink(target, p) ? -errno : 0;
}

static int pt_readlink(const char *path, char *buf, size_t size)
{
	char p[PATH_MAX];
	ssize_t n;

	pt_path(p, path);
	n = readlink(p, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int pt_statfs(const char *path, struct statvfs *st)
{
	char p[PATH_MAX];

	pt_path(p, path);
	return statvfs(p, st) ? -errno : 0;
}

static const struct fuse_operations pt_ops = {
    .init = pt_init,
    .getattr = pt_getattr,
    .readdir = pt_readdir,
    .open = pt_open,
    .create = pt_create,
    .read = pt_read,
    .write = pt_write,
    .release = pt_release,
    .fsync = pt_fsync,
    .unlink = pt_unlink,
    .rmdir = pt_rmdir,
    .mkdir = pt_mkdir,
    .rename = pt_rename,
    .chmod = pt_chmod,
    .chown = pt_chown,
    .truncate = pt_truncate,
    .utimens = pt_utimens,
    .symlink = pt_symlink,
    .readlink = pt_readlink,
    .statfs = pt_statfs,
};

int main(int argc, char *argv[])
{
	if (argc < 3 || !realpath(argv[1], pt_src)) {
		fprintf(stderr, "usage: azsf-passthrough SRCDIR MOUNTPOINT [fuse options]\n");
		return 1;
	}
	umask(0);
	argv[1] = argv[0];
	return fuse_main(argc - 1, argv + 1, &pt_ops, NULL);
}
