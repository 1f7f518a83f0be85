/* jnlog.c: the journal's log, cache_dir/journal/log.
 *
 * Records (journal.c's text format, "azsharefs-journal 1" ... "end") are
 * appended to one file per cache dir instead of one file each: a close
 * costs one write(), not a new inode, a rename and later an unlink (on
 * ext4 those were most of a write-back untar's time). A record for an id
 * already in the log supersedes it; "azsharefs-done <id>" retires it (its
 * upload finished, or it is void). The log is read back at mount
 * (jl_open): live records are kept in memory (id -> text) and written to a
 * fresh log (temp file, fsync, rename), which drops the dead ones. While
 * mounted the log is truncated when nothing in it is live any more, and
 * rewritten from the live records when it grows past JL_COMPACT bytes and
 * more than half of it is dead.
 * A torn record (a record without "end", a killed write or a power cut) is
 * skipped; the records around it still count.
 * Durability is the caller's (journal.c): data fdatasync'ed before the
 * record is appended, and jl_sync() (fdatasync of the log) after it when
 * journal_sync is 0; else the syncer's syncfs covers both.
 *
 * Threads: any; v->jl->lock serialises appends and the table (innermost;
 * never held across anything but the log's own I/O).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "journal.h"

#define JL_MAGIC "azsharefs-journal 1\n"
#define JL_DONE "azsharefs-done "
#define JL_COMPACT (16 << 20) /* bytes: rewrite from the live records beyond */
#define JL_READ_MAX (256u << 20)

struct jl_ent {
	uint64_t id;
	char *text;
	size_t len;
	struct jl_ent *next;
};

struct jl {
	pthread_mutex_t lock;
	int fd;
	off_t size;
	struct jl_ent **b; /* hash buckets by id */
	size_t nb, n;
	off_t live; /* bytes of the live records */
	char path[4200], tmp[4200];
};

/* ---- the live table (jl->lock held) ---- */

static struct jl_ent **slot(struct jl *jl, uint64_t id)
{
	struct jl_ent **pp = &jl->b[(id * 0x9E3779B97F4A7C15ull >> 20) & (jl->nb - 1)];

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

static int grow(struct jl *jl)
{
	size_t nb = jl->nb ? jl->nb * 2 : 256, i;
	struct jl_ent **old = jl->b, *e, *next;
	size_t onb = jl->nb;

	jl->b = calloc(nb, sizeof(*jl->b));
	if (!jl->b) {
		jl->b = old;
		return -ENOMEM;
	}
	jl->nb = nb;
	for (i = 0; i < onb; i++) {
		for (e = old[i]; e; e = next) {
			next = e->next;
			e->next = NULL;
			*slot(jl, e->id) = e;
		}
	}
	free(old);
	return 0;
}

static int put(struct jl *jl, uint64_t id, const char *text, size_t len)
{
	struct jl_ent **pp, *e;
	char *copy = malloc(len);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	if (jl->n >= jl->nb && grow(jl) < 0 && !jl->nb) {
		free(copy);
		return -ENOMEM;
	}
	pp = slot(jl, id);
	if (*pp) {
		jl->live += (off_t)len - (off_t)(*pp)->len;
		free((*pp)->text);
		(*pp)->text = copy;
		(*pp)->len = len;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		free(copy);
		return -ENOMEM;
	}
	e->id = id;
	e->text = copy;
	e->len = len;
	*pp = e;
	jl->n++;
	jl->live += (off_t)len;
	return 0;
}

/* 1 if id was live. */
static int del(struct jl *jl, uint64_t id)
{
	struct jl_ent **pp = jl->nb ? slot(jl, id) : NULL, *e;

	if (!pp || !*pp)
		return 0;
	e = *pp;
	*pp = e->next;
	jl->live -= (off_t)e->len;
	free(e->text);
	free(e);
	jl->n--;
	return 1;
}

/* ---- file I/O ---- */

/* jl->lock held: writes the live records to a fresh log and switches to it. */
static int rewrite(struct jl *jl)
{
	int fd = open(jl->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), rc = 0;
	off_t size = 0;
	size_t i;

	if (fd < 0)
		return -errno;
	for (i = 0; i < jl->nb && rc == 0; i++) {
		for (struct jl_ent *e = jl->b[i]; e && rc == 0; e = e->next) {
			rc = mc_write_all(fd, e->text, e->len);
			size += (off_t)e->len;
		}
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc == 0 && rename(jl->tmp, jl->path) < 0)
		rc = -errno;
	close(fd);
	if (rc < 0) {
		unlink(jl->tmp);
		return rc;
	}
	fd = open(jl->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (jl->fd >= 0)
		close(jl->fd);
	jl->fd = fd;
	jl->size = size;
	return 0;
}

/* ---- reading a log ---- */

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

/* One item at or after p: a record (into the table) or a done line (its
 * record retired); anything else (a torn record, junk) is skipped. Items
 * are found by their prefix, not by line starts, so one glued to a torn
 * write still counts (records hex-encode every string, so the prefix
 * cannot occur inside one). Returns where to look next, or end. */
static const char *read_item(struct jl *jl, const char *p, const char *end)
{
	static const char pre[] = "azsharefs-";
	size_t ml = strlen(JL_MAGIC), dl = strlen(JL_DONE);
	const char *m = memmem(p, (size_t)(end - p), pre, sizeof(pre) - 1), *stop, *next;
	struct jn_rec *r;

	if (!m)
		return end;
	if ((size_t)(end - m) > dl && memcmp(m, JL_DONE, dl) == 0) {
		del(jl, strtoull(m + dl, NULL, 10));
		return line_end(m, end);
	}
	if ((size_t)(end - m) < ml || memcmp(m, JL_MAGIC, ml) != 0)
		return m + sizeof(pre) - 1;
	stop = memmem(m + ml, (size_t)(end - m - ml), "\nend\n", 5);
	next = memmem(m + ml, (size_t)(end - m - ml), pre, sizeof(pre) - 1);
	if (!stop)
		return next ? next : end; /* torn, at the tail or before the next item */
	if (next && next < stop)
		return next; /* torn: the next item starts before this one ended */
	stop += 5;
	r = malloc(sizeof(*r));
	if (r && jn_parse(m, (size_t)(stop - m), r) == 0)
		put(jl, r->id, m, (size_t)(stop - m));
	else
		az_warn("journal log '%s': an unreadable record skipped", jl->path);
	free(r);
	return stop;
}

static int read_log(struct jl *jl)
{
	int fd = open(jl->path, O_RDONLY | O_CLOEXEC), rc = 0;
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	const char *p;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &sb) < 0)
		rc = -errno;
	else if ((uint64_t)sb.st_size > JL_READ_MAX)
		rc = -EFBIG;
	if (rc == 0)
		buf = malloc((size_t)sb.st_size + 1);
	if (rc == 0 && !buf)
		rc = -ENOMEM;
	while (rc == 0 && got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	for (p = buf; rc == 0 && p && p < buf + got;)
		p = read_item(jl, p, buf + got);
	free(buf);
	return rc;
}

/* ---- interface ---- */

int jl_open(struct vfs *v)
{
	struct jl *jl = calloc(1, sizeof(*jl));
	int rc;

	if (!jl)
		return -ENOMEM;
	pthread_mutex_init(&jl->lock, NULL);
	jl->fd = -1;
	snprintf(jl->path, sizeof(jl->path), "%s/log", v->jn_dir);
	snprintf(jl->tmp, sizeof(jl->tmp), "%s/log.tmp", v->jn_dir);
	v->jl = jl;
	rc = grow(jl);
	if (rc == 0)
		rc = read_log(jl);
	if (rc == 0)
		rc = rewrite(jl);
	if (rc < 0)
		az_err("cannot open the journal log '%s': %s", jl->path, strerror(-rc));
	return rc;
}

int jl_append(struct vfs *v, uint64_t id, const char *text, size_t len)
{
	struct jl *jl = v->jl;
	int rc;

	pthread_mutex_lock(&jl->lock);
	rc = put(jl, id, text, len);
	if (rc == 0)
		rc = mc_write_all(jl->fd, text, len);
	if (rc == 0)
		jl->size += (off_t)len;
	/* mostly dead records: rewrite (at least twice the live bytes, so
	 * many live records do not make every append rewrite them) */
	if (rc == 0 && jl->size > JL_COMPACT && jl->size > 2 * jl->live)
		rewrite(jl); /* best effort: the old log stays valid */
	pthread_mutex_unlock(&jl->lock);
	return rc;
}

int jl_sync(struct vfs *v)
{
	return fdatasync(v->jl->fd) < 0 ? -errno : 0;
}

void jl_done(struct vfs *v, uint64_t id)
{
	struct jl *jl = v->jl;
	char line[64];
	int n = snprintf(line, sizeof(line), JL_DONE "%llu\n", (unsigned long long)id);

	pthread_mutex_lock(&jl->lock);
	if (del(jl, id) && jl->n > 0) {
		if (mc_write_all(jl->fd, line, (size_t)n) == 0)
			jl->size += n;
	} else if (jl->n == 0 && jl->size > 0 && ftruncate(jl->fd, 0) == 0) {
		jl->size = 0; /* nothing live: start over (O_APPEND writes at the new end) */
	}
	pthread_mutex_unlock(&jl->lock);
}

int jl_live(struct vfs *v, uint64_t **ids, char ***texts, size_t **lens, size_t *n)
{
	struct jl *jl = v->jl;
	size_t i, k = 0;
	int rc = 0;

	pthread_mutex_lock(&jl->lock);
	*ids = calloc(jl->n + 1, sizeof(**ids));
	*texts = calloc(jl->n + 1, sizeof(**texts));
	*lens = calloc(jl->n + 1, sizeof(**lens));
	if (!*ids || !*texts || !*lens)
		rc = -ENOMEM;
	for (i = 0; rc == 0 && i < jl->nb; i++) {
		for (struct jl_ent *e = jl->b[i]; e && rc == 0; e = e->next) {
			(*texts)[k] = malloc(e->len);
			if (!(*texts)[k]) {
				rc = -ENOMEM;
				break;
			}
			memcpy((*texts)[k], e->text, e->len);
			(*lens)[k] = e->len;
			(*ids)[k++] = e->id;
		}
	}
	*n = k;
	pthread_mutex_unlock(&jl->lock);
	return rc;
}

uint64_t jl_max_id(struct vfs *v)
{
	struct jl *jl = v->jl;
	uint64_t max = 0;
	size_t i;

	if (!jl)
		return 0;
	pthread_mutex_lock(&jl->lock);
	for (i = 0; i < jl->nb; i++)
		for (struct jl_ent *e = jl->b[i]; e; e = e->next)
			max = e->id > max ? e->id : max;
	pthread_mutex_unlock(&jl->lock);
	return max;
}

void jl_close(struct vfs *v)
{
	struct jl *jl = v->jl;
	size_t i;

	if (!jl)
		return;
	if (jl->fd >= 0) {
		fdatasync(jl->fd);
		close(jl->fd);
	}
	for (i = 0; i < jl->nb; i++)
		while (jl->b[i])
			del(jl, jl->b[i]->id);
	free(jl->b);
	pthread_mutex_destroy(&jl->lock);
	free(jl);
	v->jl = NULL;
}
