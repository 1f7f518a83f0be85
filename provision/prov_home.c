/* prov_home.c: the per-user directory on the share, the home link, ssh keys.
 *
 * Owns no state. Single-threaded. Runs as root inside directories the user
 * owns, so every step below $HOME works relative to directory descriptors
 * opened with O_NOFOLLOW: a user who swaps notebooks/ or .ssh/ for a
 * symlink gets an error, never a root-owned write elsewhere. Nothing that
 * already exists is replaced: a link is only created where nothing is, keys
 * are only appended, a directory is only created if absent.
 */
#include "prov_home.h"
#include "prov_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int notebooks_path(const char *mnt, const char *name, char *out, size_t outlen)
{
	char dir[PROV_PATH_MAX];
	int rc = prov_path_join(dir, sizeof(dir), mnt, "notebooks");

	if (!rc && name)
		rc = prov_path_join(out, outlen, dir, name);
	else if (!rc)
		rc = prov_path_join(out, outlen, mnt, "notebooks");
	return rc;
}

/* lstat that waits out a cached "absent" (the mount may remember for a
 * couple of seconds that a name did not exist, while another node has just
 * created it and mkdir said EEXIST). */
static int lstat_fresh(const char *path, struct stat *st)
{
	int tries;

	for (tries = 0; tries < 50; tries++) {
		if (lstat(path, st) == 0)
			return 0;
		if (errno != ENOENT)
			return -1;
		usleep(100000);
	}
	return -1;
}

/* mkdir that waits out a parent cached as absent (ENOENT although another
 * node, or our own mkdir -p a moment ago, made it). */
static int mkdir_fresh(const char *path, mode_t mode)
{
	int tries;

	for (tries = 0; tries < 50; tries++) {
		if (mkdir(path, mode) == 0)
			return 0;
		if (errno != ENOENT)
			return -1;
		usleep(100000);
	}
	return -1;
}

int prov_home_notebooks(const char *mnt, const struct prov_user *u, int *changed, char *err,
			size_t errlen)
{
	char parent[PROV_PATH_MAX];
	char path[PROV_PATH_MAX];
	struct stat st;
	int rc;

	*changed = 0;
	rc = notebooks_path(mnt, NULL, parent, sizeof(parent));
	if (!rc)
		rc = notebooks_path(mnt, u->name, path, sizeof(path));
	if (!rc)
		rc = prov_mkdir_p(parent, 0755, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot create '%s': %s", parent, strerror(-rc));
		return rc;
	}
	if (mkdir_fresh(path, 0700) == 0) {
		if (chown(path, (uid_t)u->uid, (gid_t)u->gid) < 0 || chmod(path, 0700) < 0) {
			rc = -errno;
			snprintf(err, errlen, "cannot give '%s' to uid %lu: %s", path, u->uid,
				 strerror(errno));
			return rc;
		}
		*changed = 1;
		return 0;
	}
	if (errno != EEXIST || lstat_fresh(path, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "'%s' exists and is not a directory", path);
		return -ENOTDIR;
	}
	if (st.st_uid != (uid_t)u->uid) {
		snprintf(err, errlen,
			 "'%s' exists and belongs to uid %u, not to '%s' (uid %lu); "
			 "chown it or move it away",
			 path, (unsigned)st.st_uid, u->name, u->uid);
		return -EEXIST;
	}
	return 0;
}

/* Opens dir/name as a directory without following a symlink, creating it
 * (owned by the user) when absent. */
static int open_subdir(int dirfd, const char *name, mode_t mode, const struct prov_user *u,
		       const char *shown, char *err, size_t errlen)
{
	int fd;

	if (mkdirat(dirfd, name, mode) == 0) {
		if (fchownat(dirfd, name, (uid_t)u->uid, (gid_t)u->gid, AT_SYMLINK_NOFOLLOW) < 0) {
			snprintf(err, errlen, "cannot chown '%s': %s", shown, strerror(errno));
			return -errno;
		}
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create '%s': %s", shown, strerror(errno));
		return -errno;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "'%s' exists and is not a directory%s", shown,
			 (e == ELOOP || e == ENOTDIR) ? "" : " we can open");
		return -e;
	}
	return fd;
}

static int open_home(const char *home, char *err, size_t errlen)
{
	int fd = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		snprintf(err, errlen, "home '%s' is not a directory: %s", home, strerror(errno));
	return fd < 0 ? -errno : fd;
}

static int link_at(int nfd, const char *link, const char *target, const struct prov_user *u,
		   int *changed, char *err, size_t errlen)
{
	char have[PROV_PATH_MAX];
	ssize_t n;

	n = readlinkat(nfd, "remote", have, sizeof(have) - 1);
	if (n >= 0) {
		have[n] = '\0';
		if (strcmp(have, target) == 0)
			return 0;
		snprintf(err, errlen,
			 "'%s' already points to '%s', not '%s'; remove it to let "
			 "azsharefs-provision create it",
			 link, have, target);
		return -EEXIST;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "'%s' exists and is not a symlink; move it away", link);
		return -EEXIST;
	}
	if (symlinkat(target, nfd, "remote") < 0 ||
	    fchownat(nfd, "remote", (uid_t)u->uid, (gid_t)u->gid, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, errlen, "cannot create link '%s': %s", link, strerror(errno));
		return -errno;
	}
	*changed = 1;
	return 0;
}

int prov_home_link(const char *home, const char *target, const struct prov_user *u, int *changed,
		   char *err, size_t errlen)
{
	char shown[PROV_PATH_MAX];
	char link[PROV_PATH_MAX];
	int hfd = -1;
	int nfd = -1;
	int rc;

	*changed = 0;
	rc = prov_path_join(shown, sizeof(shown), home, "notebooks");
	if (!rc)
		rc = prov_path_join(link, sizeof(link), shown, "remote");
	if (rc) {
		snprintf(err, errlen, "home path '%s' too long", home);
		goto out;
	}
	hfd = open_home(home, err, errlen);
	if (hfd < 0) {
		rc = hfd;
		goto out;
	}
	nfd = open_subdir(hfd, "notebooks", 0755, u, shown, err, errlen);
	if (nfd < 0) {
		rc = nfd;
		goto out;
	}
	rc = link_at(nfd, link, target, u, changed, err, errlen);
out:
	if (nfd >= 0)
		close(nfd);
	if (hfd >= 0)
		close(hfd);
	return rc;
}

/* 1 when text holds line as a whole line. */
static int has_line(const char *text, const char *line)
{
	size_t len = strlen(line);
	const char *p = text;

	for (;;) {
		p = strstr(p, line);
		if (!p)
			return 0;
		if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
			return 1;
		p += len;
	}
}

static int read_at(int dfd, const char *name, struct prov_buf *out)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	rc = prov_read_fd(fd, out, SIZE_MAX);
	close(fd);
	return rc;
}

static int write_at(int dfd, const char *name, const struct prov_buf *text,
		    const struct prov_user *u)
{
	static const char tmp[] = ".authorized_keys.azsf-tmp";
	int fd;
	int rc;

	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = prov_write_all(fd, text->data, text->len);
	if (!rc && (fchown(fd, (uid_t)u->uid, (gid_t)u->gid) < 0 || fsync(fd) < 0))
		rc = -errno;
	close(fd);
	if (!rc && renameat(dfd, tmp, dfd, name) < 0)
		rc = -errno;
	if (rc)
		unlinkat(dfd, tmp, 0);
	return rc;
}

static int add_keys(int sfd, const char *shown, const struct prov_user *u, int *added, char *err,
		    size_t errlen)
{
	struct prov_buf text;
	size_t before;
	size_t k;
	int rc;

	prov_buf_init(&text);
	rc = read_at(sfd, "authorized_keys", &text);
	if (rc && rc != -ENOENT) {
		snprintf(err, errlen, "cannot read '%s': %s", shown, strerror(-rc));
		goto out;
	}
	rc = prov_buf_add(&text, "");
	before = text.len;
	for (k = 0; !rc && k < u->nkeys; k++) {
		if (has_line(text.data, u->keys[k]))
			continue;
		if (text.len && text.data[text.len - 1] != '\n')
			rc = prov_buf_add(&text, "\n");
		if (!rc)
			rc = prov_buf_addf(&text, "%s\n", u->keys[k]);
		(*added)++;
	}
	if (!rc && text.len != before)
		rc = write_at(sfd, "authorized_keys", &text, u);
	if (rc)
		snprintf(err, errlen, "cannot write '%s': %s", shown, strerror(-rc));
out:
	prov_buf_release(&text);
	return rc;
}

int prov_home_ssh_keys(const char *home, const struct prov_user *u, int *added, char *err,
		       size_t errlen)
{
	char shown[PROV_PATH_MAX];
	char file[PROV_PATH_MAX];
	int hfd = -1;
	int sfd = -1;
	int rc = 0;

	*added = 0;
	if (u->nkeys == 0)
		return 0;
	if (prov_path_join(shown, sizeof(shown), home, ".ssh") ||
	    prov_path_join(file, sizeof(file), shown, "authorized_keys")) {
		snprintf(err, errlen, "home path '%s' too long", home);
		return -ENAMETOOLONG;
	}
	hfd = open_home(home, err, errlen);
	if (hfd < 0)
		return hfd;
	sfd = open_subdir(hfd, ".ssh", 0700, u, shown, err, errlen);
	if (sfd < 0) {
		rc = sfd;
		goto out;
	}
	rc = add_keys(sfd, file, u, added, err, errlen);
out:
	if (sfd >= 0)
		close(sfd);
	close(hfd);
	return rc;
}

static int purge_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

int prov_home_purge(const char *mnt, const char *name, int *removed, char *err, size_t errlen)
{
	char path[PROV_PATH_MAX];
	struct stat st;

	*removed = 0;
	if (notebooks_path(mnt, name, path, sizeof(path))) {
		snprintf(err, errlen, "path too long");
		return -ENAMETOOLONG;
	}
	if (lstat(path, &st) < 0 && errno == ENOENT)
		return 0;
	if (nftw(path, purge_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		snprintf(err, errlen, "cannot delete '%s': %s", path, strerror(errno));
		return -errno;
	}
	*removed = 1;
	return 0;
}
