/* prov_share.c: the roster on the share and the lock around its writers.
 *
 * Why this is safe across nodes. Writers run
 *   lock -> read -> change -> write temp -> rename over the roster -> unlock,
 * one at a time; readers (sync-users on every node) need no lock because
 * rename() is atomic on the share, also over an existing file: they see the
 * old roster or the new one, never a mix, and a crash mid-write leaves only
 * a stray temp file.
 *
 * The lock is a file, MOUNT/.azsharefs/roster.lock, holding its owner's
 * token. It is created with O_CREAT|O_EXCL, but under a unique name, and
 * then published with renameat2(RENAME_NOREPLACE). The detour matters: the
 * mount checks O_EXCL only against its own node's cache and publishes a new
 * file with Create File, which replaces, so two nodes could both "create"
 * the lock. A no-replace rename of an uploaded file (fsync uploads it) is
 * one Rename File with replace-if-exists=false, decided by the service:
 * of two nodes publishing at once exactly one succeeds, the other gets
 * EEXIST. On a local filesystem without RENAME_NOREPLACE, link() gives the
 * same all-or-nothing answer.
 *
 * A holder that dies leaves its lock behind. After stale_secs (lock_timeout
 * in the config, far longer than the few requests a holder needs) the lock
 * is broken by renaming it to a unique name, so of two breakers only one
 * wins. The breaker then compares the token it moved with the one it judged
 * stale; if a new holder slipped in meanwhile, it moves that lock back.
 * Finally every holder re-reads its own token just before its rename and
 * aborts if the lock is no longer its own.
 *
 * Single-threaded. Nothing here is secret.
 */
#include "prov_share.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int share_dir(const char *mnt, char *out, size_t outlen)
{
	return prov_path_join(out, outlen, mnt, PROV_SHARE_DIR);
}

static int roster_path(const char *mnt, char *out, size_t outlen)
{
	char dir[PROV_PATH_MAX];
	int rc = share_dir(mnt, dir, sizeof(dir));

	return rc ? rc : prov_path_join(out, outlen, dir, "roster");
}

static void make_token(char *out, size_t outlen)
{
	char host[128] = "unknown";
	unsigned seed;

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16) ^ (unsigned)clock();
	srand(seed);
	snprintf(out, outlen, "%s %ld %ld %08x", host, (long)getpid(), (long)time(NULL),
		 (unsigned)rand());
}

/* out = base + tag + token, spaces made underscores: a name no other
 * node or process uses. */
static void token_name(char *out, size_t outlen, const char *base, const char *tag,
		       const char *token)
{
	size_t start = strlen(base);

	snprintf(out, outlen, "%s%s%s", base, tag, token);
	for (char *p = out + (start < outlen ? start : 0); *p; p++) {
		if (*p == ' ')
			*p = '_';
	}
}

/* Reads a small file into out (NUL-terminated, trailing newline dropped). */
static int read_small(const char *path, char *out, size_t outlen)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, out, outlen - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
	return 0;
}

static int write_new(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd;
	int rc;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	rc = prov_write_all(fd, data, len);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (rc)
		unlink(path);
	return rc;
}

/* Publishes tmp as path only if path does not exist: -EEXIST otherwise. */
static int publish_noreplace(const char *tmp, const char *path)
{
	int e;

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	e = errno;
	if (e != EINVAL && e != ENOSYS && e != ENOTSUP)
		return -e;
	/* No RENAME_NOREPLACE here: link() is just as atomic. */
	if (link(tmp, path) < 0)
		return -errno;
	unlink(tmp);
	return 0;
}

static int try_create(struct prov_lock *lk)
{
	char tmp[PROV_PATH_MAX + 300];
	char line[300];
	int rc;
	int n;

	n = snprintf(line, sizeof(line), "%s\n", lk->token);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -ENAMETOOLONG;
	token_name(tmp, sizeof(tmp), lk->path, ".new-", lk->token);
	rc = write_new(tmp, line, (size_t)n, 0644);
	if (rc)
		return rc;
	rc = publish_noreplace(tmp, lk->path);
	if (rc)
		unlink(tmp);
	return rc;
}

/* Breaks the stale lock whose content was seen as `seen`. */
static void break_stale(struct prov_lock *lk, const char *seen, long age)
{
	char moved[PROV_PATH_MAX + 300];
	char now_in[300];

	token_name(moved, sizeof(moved), lk->path, ".stale-", lk->token);
	if (rename(lk->path, moved) < 0)
		return; /* someone else broke or released it first */
	if (read_small(moved, now_in, sizeof(now_in)) == 0 && strcmp(now_in, seen) != 0) {
		/* A new holder took the lock between our look and our rename. */
		rename(moved, lk->path);
		return;
	}
	unlink(moved);
	prov_say("roster lock: broke a stale lock (%lds old, held by '%s')", age, seen);
}

int prov_share_lock(const char *mnt, unsigned long stale_secs, unsigned long wait_secs,
		    struct prov_lock *lk, char *err, size_t errlen)
{
	char dir[PROV_PATH_MAX];
	char holder[300] = "";
	struct stat st;
	time_t deadline = time(NULL) + (time_t)wait_secs;
	long age = 0;
	int rc;

	memset(lk, 0, sizeof(*lk));
	make_token(lk->token, sizeof(lk->token));
	rc = share_dir(mnt, dir, sizeof(dir));
	if (!rc)
		rc = prov_mkdir_p(dir, 0755, NULL);
	if (!rc)
		rc = prov_path_join(lk->path, sizeof(lk->path), dir, "roster.lock");
	if (rc) {
		snprintf(err, errlen, "cannot create '%s': %s", dir, strerror(-rc));
		return rc;
	}
	for (;;) {
		rc = try_create(lk);
		if (rc == 0) {
			lk->held = 1;
			return 0;
		}
		if (rc != -EEXIST) {
			snprintf(err, errlen, "cannot create lock '%s': %s", lk->path,
				 strerror(-rc));
			return rc;
		}
		if (read_small(lk->path, holder, sizeof(holder)) == 0 && stat(lk->path, &st) == 0) {
			age = (long)(time(NULL) - st.st_mtime);
			if (age > (long)stale_secs) {
				break_stale(lk, holder, age);
				continue;
			}
		} else if (errno == ENOENT) {
			continue; /* released meanwhile: try again at once */
		}
		if (time(NULL) >= deadline)
			break;
		usleep(100000 + (useconds_t)(rand() % 200000));
	}
	snprintf(err, errlen,
		 "roster lock '%s' is held by '%s' (for %lds); try again, or "
		 "remove it if that node is gone",
		 lk->path, holder, age);
	return -ETIMEDOUT;
}

int prov_share_lock_check(const struct prov_lock *lk)
{
	char now_in[300];

	if (!lk->held)
		return -ESTALE;
	if (read_small(lk->path, now_in, sizeof(now_in)) < 0)
		return -ESTALE;
	return strcmp(now_in, lk->token) == 0 ? 0 : -ESTALE;
}

void prov_share_unlock(struct prov_lock *lk)
{
	if (lk->held && prov_share_lock_check(lk) == 0)
		unlink(lk->path);
	lk->held = 0;
}

int prov_share_roster_load(const char *mnt, struct prov_roster *r, char *err, size_t errlen)
{
	char path[PROV_PATH_MAX];
	struct prov_buf text;
	int tries;
	int rc;

	prov_buf_init(&text);
	rc = roster_path(mnt, path, sizeof(path));
	if (rc) {
		snprintf(err, errlen, "roster path too long");
		goto out;
	}
	/* A read racing another node's rename can come back short (the
	 * mount may still size the file as the old roster): the end marker
	 * tells, and a second read a moment later is whole. */
	for (tries = 0; tries < 25; tries++) {
		prov_buf_reset(&text);
		rc = prov_read_file(path, &text, 16 << 20);
		if (rc || prov_roster_complete(prov_buf_str(&text)))
			break;
		usleep(200000);
	}
	if (rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc) {
		snprintf(err, errlen, "cannot read roster '%s': %s", path, strerror(-rc));
		goto out;
	}
	if (!prov_roster_complete(prov_buf_str(&text))) {
		snprintf(err, errlen,
			 "roster '%s' has no end line '%.15s'; it is cut short or "
			 "damaged, not using it",
			 path, PROV_ROSTER_END);
		rc = -EIO;
		goto out;
	}
	rc = prov_roster_parse(r, prov_buf_str(&text), err, errlen);
out:
	prov_buf_release(&text);
	return rc;
}

int prov_share_roster_save(const char *mnt, const struct prov_roster *r, const struct prov_lock *lk,
			   char *err, size_t errlen)
{
	char path[PROV_PATH_MAX];
	char tmp[PROV_PATH_MAX + 300];
	struct prov_buf text;
	int rc;

	prov_buf_init(&text);
	rc = roster_path(mnt, path, sizeof(path));
	if (!rc)
		rc = prov_roster_format(r, &text);
	if (rc) {
		snprintf(err, errlen, "cannot format the roster: %s", strerror(-rc));
		goto out;
	}
	token_name(tmp, sizeof(tmp), path, ".tmp-", lk->token);
	rc = write_new(tmp, text.data, text.len, 0644);
	if (rc) {
		snprintf(err, errlen, "cannot write '%s': %s", tmp, strerror(-rc));
		goto out;
	}
	rc = prov_share_lock_check(lk);
	if (rc) {
		snprintf(err, errlen,
			 "lost the roster lock '%s' (broken as stale); nothing "
			 "written, try again",
			 lk->path);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		unlink(tmp);
	}
out:
	prov_buf_release(&text);
	return rc;
}

int prov_share_roster_init(const char *mnt, unsigned long stale_secs, int *created, char *err,
			   size_t errlen)
{
	char path[PROV_PATH_MAX];
	struct prov_roster r;
	struct prov_lock lk;
	struct stat st;
	int rc;

	*created = 0;
	rc = roster_path(mnt, path, sizeof(path));
	if (rc) {
		snprintf(err, errlen, "roster path too long");
		return rc;
	}
	if (stat(path, &st) == 0)
		return 0;
	rc = prov_share_lock(mnt, stale_secs, stale_secs + 15, &lk, err, errlen);
	if (rc)
		return rc;
	prov_roster_init(&r);
	if (stat(path, &st) < 0 && errno == ENOENT) {
		rc = prov_share_roster_save(mnt, &r, &lk, err, errlen);
		*created = rc == 0;
	}
	prov_share_unlock(&lk);
	return rc;
}
