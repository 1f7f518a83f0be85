/* pendir.c: in write-back mode, a new directory reaches the share later.
 *
 * In write-back mode (writeback_delay_ms > 0) the cache reaches the share
 * through this layer: v->be wraps the real backend (v->real). mkdir returns
 * at once: the directory is recorded here and in the journal (a "dir"
 * record) and created on the share, with one Create Directory carrying its
 * mode, owner and mtime, when the first of these comes: half its delay has
 * passed (wbc_hold_us, as for files; this module's thread), an operation
 * needs it on the share (one on anything below it, a rename of it or of an
 * ancestor), or vfs_sync_all. Answered here with no request: a HEAD of it
 * (its attributes), a listing of it (its pending subdirectories: nothing
 * else can be below it on the share), chmod/chown/utimens of it (folded
 * into the create: tar's three calls per directory cost nothing) and rmdir
 * of it (forgotten, never sent). Listings of its parent get it added, so
 * the cache keeps it. Why this keeps the contracts: other nodes see a
 * write-back node's changes after the delay anyway, the files inside are
 * uploaded after it (each upload first creates the pending directories
 * above it), and a crash replays the dir records before the file records
 * (replay.c). While the share is known down, mkdir goes to the share (and
 * fails) unless offline_writes is set, as a write-back close does. If the
 * name was taken on the share meanwhile: by a directory, ours merges into
 * it (its attributes stand; logged); by a file, the create fails with
 * ENOTDIR (logged) and the uploads below stay journaled and retry.
 *
 * Threads: any caller; one thread for due entries. Lock: pd->lock only
 * (innermost, never held across a request); an entry being created is busy
 * and others wait on pd->cond. No v->lock is held by callers of the
 * backend, so journal writes here are fine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "azsharefs/log.h"
#include "journal.h"
#include "nodes.h"
#include "pendir.h"
#include "writeback.h"

struct pd_ent {
	char *path;
	struct vfs_want want; /* mode (with S_IFDIR), uid, gid, mtime: complete */
	uint64_t id;	      /* journal/<id> */
	int64_t due;
	int busy; /* being created */
	struct pd_ent *next;
};

struct pd {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* an entry stopped being busy; the list changed; stop */
	struct pd_ent *head;
	int stop, running;
	pthread_t thread;
};

/* ---- the table (pd->lock held) ---- */

static struct pd_ent *find(struct pd *pd, const char *path)
{
	struct pd_ent *e;

	for (e = pd->head; e; e = e->next)
		if (strcmp(e->path, path) == 0)
			return e;
	return NULL;
}

/* Is a (a path) at or below dir? */
static int at_or_below(const char *a, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(a, dir, n) == 0 && (a[n] == '\0' || a[n] == '/' || n == 0);
}

/* Is dir a strict ancestor of path? */
static int above(const char *dir, const char *path)
{
	return strcmp(dir, path) != 0 && at_or_below(path, dir);
}

static void drop(struct pd *pd, struct pd_ent *e)
{
	struct pd_ent **pp;

	for (pp = &pd->head; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	free(e->path);
	free(e);
	pthread_cond_broadcast(&pd->cond);
}

static void synth(const struct pd_ent *e, struct az_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->is_dir = 1;
	st->has_owner = 1;
	st->mode = e->want.mode;
	st->uid = e->want.uid;
	st->gid = e->want.gid;
	st->mtime = e->want.mtime;
	st->ctime = e->want.mtime;
	st->atime = e->want.mtime;
}

static int journal(struct vfs *v, const char *path, const struct vfs_want *w, uint64_t id)
{
	struct jn_rec *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->id = id;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->has_owner = 1;
	r->mode = w->mode;
	r->uid = w->uid;
	r->gid = w->gid;
	r->mtime = w->mtime;
	r->attrs = JN_DIR;
	rc = jn_write(v, r, -1);
	free(r);
	return rc;
}

/* ---- creating on the share ---- */

/* The real Create Directory of e's copy; a name taken meanwhile by a
 * directory counts as done. */
static int create_one(struct vfs *v, const char *path, const struct vfs_want *w)
{
	struct az_stat st;
	int rc;

	memset(&st, 0, sizeof(st));
	rc = v->real.mkdir(v->real.ctx, path, w, &st);
	if (rc != -EEXIST)
		return rc;
	rc = v->real.stat(v->real.ctx, path, &st);
	if (rc == 0 && st.is_dir) {
		az_info("directory '%s' was made on the share meanwhile too; this node's "
			"entries go into it and its attributes stand",
			path);
		return 0;
	}
	if (rc == 0) {
		az_err("cannot create directory '%s': a file of that name was made on the "
		       "share meanwhile; what this node wrote below it stays in the journal",
		       path);
		return -ENOTDIR;
	}
	return rc;
}

/* pd->lock held on entry and exit: creates e (it is not busy). */
static int create_locked(struct vfs *v, struct pd_ent *e)
{
	struct pd *pd = v->pd;
	struct vfs_want w = e->want;
	char *path = strdup(e->path);
	uint64_t id = e->id;
	int rc;

	if (!path)
		return -ENOMEM;
	e->busy = 1;
	pthread_mutex_unlock(&pd->lock);
	rc = create_one(v, path, &w);
	if (rc == 0)
		jn_remove(v, id);
	pthread_mutex_lock(&pd->lock);
	e = find(pd, path);
	if (e && rc == 0)
		drop(pd, e);
	else if (e)
		e->busy = 0;
	pthread_cond_broadcast(&pd->cond);
	free(path);
	return rc;
}

/* Creates every pending directory that match() selects for path, parents
 * first. */
static int flush_matching(struct vfs *v, const char *path,
			  int (*match)(const char *e, const char *p))
{
	struct pd *pd = v->pd;
	struct pd_ent *e, *pick;
	int rc = 0;

	pthread_mutex_lock(&pd->lock);
	while (rc == 0) {
		pick = NULL;
		for (e = pd->head; e; e = e->next) /* the shallowest selected one */
			if (match(e->path, path) && (!pick || strlen(e->path) < strlen(pick->path)))
				pick = e;
		if (!pick)
			break;
		if (pick->busy)
			pthread_cond_wait(&pd->cond, &pd->lock);
		else
			rc = create_locked(v, pick);
	}
	pthread_mutex_unlock(&pd->lock);
	return rc;
}

static int m_above(const char *e, const char *p)
{
	return above(e, p);
}

static int m_above_or_self(const char *e, const char *p)
{
	return at_or_below(p, e);
}

static int m_related(const char *e, const char *p)
{
	return at_or_below(p, e) || at_or_below(e, p);
}

static int m_all(const char *e, const char *p)
{
	(void)e;
	(void)p;
	return 1;
}

/* The pending directories above path exist on the share afterwards. */
static int need_parents(struct vfs *v, const char *path)
{
	return flush_matching(v, path, m_above);
}

int pd_flush_all(struct vfs *v)
{
	return v->pd ? flush_matching(v, "", m_all) : 0;
}

int vfs_fsyncdir(struct vfs *v, const char *path_in)
{
	char path[4096];
	int rc = mc_path_norm(path_in ? path_in : "", path, sizeof(path));

	if (rc == 0 && v->pd)
		rc = flush_matching(v, path, m_above_or_self);
	jn_sync_now(v);
	return rc;
}

/* ---- the wrapped backend ---- */

static int w_stat(void *ctx, const char *path, struct az_stat *st)
{
	struct vfs *v = ctx;
	struct pd *pd = v->pd;
	struct pd_ent *e;
	int below = 0;

	pthread_mutex_lock(&pd->lock);
	e = find(pd, path);
	if (e)
		synth(e, st);
	for (struct pd_ent *a = pd->head; a && !e && !below; a = a->next)
		below = above(a->path, path);
	pthread_mutex_unlock(&pd->lock);
	if (e)
		return 0;
	if (below)
		return -ENOENT; /* nothing but pending dirs can be below one */
	return v->real.stat(v->real.ctx, path, st);
}

struct inject {
	vfs_list_cb cb;
	void *arg;
	char **names; /* pending children of the listed dir; NULL once seen */
	struct az_stat *sts;
	size_t n;
};

static int inject_cb(void *arg, const char *name, const struct az_stat *st)
{
	struct inject *in = arg;
	size_t i;

	for (i = 0; i < in->n; i++) {
		if (in->names[i] && strcmp(in->names[i], name) == 0) {
			free(in->names[i]); /* the share has the name: it decides */
			in->names[i] = NULL;
		}
	}
	return in->cb(in->arg, name, st);
}

/* pd->lock held: the pending children of dir, into in. */
static int collect_children(struct pd *pd, const char *dir, struct inject *in)
{
	struct pd_ent *e;
	size_t cap = 0;

	for (e = pd->head; e; e = e->next) {
		const char *slash = strrchr(e->path, '/');
		size_t plen = slash ? (size_t)(slash - e->path) : 0;

		if (plen != strlen(dir) || strncmp(e->path, dir, plen) != 0)
			continue;
		if (in->n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			char **nn = realloc(in->names, nc * sizeof(*nn));
			struct az_stat *ns = nn ? realloc(in->sts, nc * sizeof(*ns)) : NULL;

			if (nn)
				in->names = nn;
			if (!ns)
				return -ENOMEM;
			in->sts = ns;
			cap = nc;
		}
		in->names[in->n] = strdup(slash ? slash + 1 : e->path);
		if (!in->names[in->n])
			return -ENOMEM;
		synth(e, &in->sts[in->n++]);
	}
	return 0;
}

static int w_list(void *ctx, const char *dir, vfs_list_cb cb, void *arg)
{
	struct vfs *v = ctx;
	struct pd *pd = v->pd;
	struct inject in = {cb, arg, NULL, NULL, 0};
	int rc, self;
	size_t i;

	pthread_mutex_lock(&pd->lock);
	self = find(pd, dir) != NULL;
	rc = collect_children(pd, dir, &in);
	pthread_mutex_unlock(&pd->lock);
	if (rc == 0 && !self)
		rc = v->real.list(v->real.ctx, dir, inject_cb, &in);
	for (i = 0; i < in.n; i++) {
		if (rc == 0 && in.names[i])
			rc = cb(arg, in.names[i], &in.sts[i]);
		free(in.names[i]);
	}
	free(in.names);
	free(in.sts);
	return rc;
}

static int w_mkdir(void *ctx, const char *path, const struct vfs_want *want, struct az_stat *st)
{
	struct vfs *v = ctx;
	struct pd *pd = v->pd;
	struct pd_ent *e;
	int rc, offline;

	pthread_mutex_lock(&v->lock);
	offline = mc_offline_recent(v) && !v->o.offline_writes;
	pthread_mutex_unlock(&v->lock);
	if (offline) { /* like a write-back close: refused unless offline_writes */
		rc = need_parents(v, path);
		return rc < 0 ? rc : v->real.mkdir(v->real.ctx, path, want, st);
	}
	e = calloc(1, sizeof(*e));
	if (e)
		e->path = strdup(path);
	if (!e || !e->path) {
		free(e);
		return -ENOMEM;
	}
	e->want.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID | VFS_SET_MTIME;
	e->want.mode = S_IFDIR | ((want->mask & VFS_SET_MODE) ? want->mode & 07777
							      : v->o.default_dir_mode & 07777);
	e->want.uid = (want->mask & VFS_SET_UID) ? want->uid : v->o.default_uid;
	e->want.gid = (want->mask & VFS_SET_GID) ? want->gid : v->o.default_gid;
	if (want->mask & VFS_SET_MTIME)
		e->want.mtime = want->mtime;
	else
		mc_realtime(&e->want.mtime);
	pthread_mutex_lock(&v->lock);
	e->id = v->next_id++;
	pthread_mutex_unlock(&v->lock);
	rc = journal(v, path, &e->want, e->id);
	if (rc < 0) { /* not durable here: create it now instead */
		free(e->path);
		free(e);
		rc = need_parents(v, path);
		return rc < 0 ? rc : v->real.mkdir(v->real.ctx, path, want, st);
	}
	e->due = mc_now() + wbc_hold_us(v);
	pthread_mutex_lock(&pd->lock);
	e->next = pd->head;
	pd->head = e;
	synth(e, st);
	pthread_cond_broadcast(&pd->cond);
	pthread_mutex_unlock(&pd->lock);
	return 0;
}

static int w_rmdir(void *ctx, const char *path)
{
	struct vfs *v = ctx;
	struct pd *pd = v->pd;
	struct pd_ent *e;
	uint64_t id = 0;
	int rc;

	pthread_mutex_lock(&pd->lock);
	e = find(pd, path);
	while (e && e->busy) {
		pthread_cond_wait(&pd->cond, &pd->lock);
		e = find(pd, path);
	}
	if (e) {
		id = e->id;
		drop(pd, e);
	}
	pthread_mutex_unlock(&pd->lock);
	if (id) {
		jn_remove(v, id);
		return 0; /* never reached the share */
	}
	rc = need_parents(v, path);
	return rc < 0 ? rc : v->real.rmdir(v->real.ctx, path);
}

/* pd->lock held: folds w's mode/owner/mtime into e. */
static void fold(struct pd_ent *e, const struct vfs_want *w)
{
	if (w->mask & VFS_SET_MODE)
		e->want.mode = S_IFDIR | (w->mode & 07777);
	if (w->mask & VFS_SET_UID)
		e->want.uid = w->uid;
	if (w->mask & VFS_SET_GID)
		e->want.gid = w->gid;
	if ((w->mask & VFS_SET_MTIME) && w->mtime.tv_nsec != UTIME_OMIT) {
		if (w->mtime.tv_nsec == UTIME_NOW)
			mc_realtime(&e->want.mtime);
		else
			e->want.mtime = w->mtime;
	}
}

static int w_setattr(void *ctx, const char *path, int is_dir, const struct vfs_want *want,
		     struct az_stat *st)
{
	struct vfs *v = ctx;
	struct pd *pd = v->pd;
	struct pd_ent *e;
	struct vfs_want w;
	uint64_t id = 0;
	int rc;

	pthread_mutex_lock(&pd->lock);
	e = is_dir && !(want->mask & VFS_SET_SIZE) ? find(pd, path) : NULL;
	while (e && e->busy) {
		pthread_cond_wait(&pd->cond, &pd->lock);
		e = find(pd, path);
	}
	if (e) {
		fold(e, want);
		synth(e, st);
		w = e->want;
		id = e->id;
	}
	pthread_mutex_unlock(&pd->lock);
	if (id) {
		journal(v, path, &w, id); /* a failure is logged; the create carries it anyway */
		return 0;
	}
	rc = need_parents(v, path);
	return rc < 0 ? rc : v->real.setattr(v->real.ctx, path, is_dir, want, st);
}

static int w_rename(void *ctx, const char *src, const char *dst, int is_dir, int noreplace)
{
	struct vfs *v = ctx;
	int rc = flush_matching(v, src, m_related);

	if (rc == 0)
		rc = flush_matching(v, dst, m_related);
	return rc < 0 ? rc : v->real.rename(v->real.ctx, src, dst, is_dir, noreplace);
}

/* ---- the rest: pending parents first, or straight through ---- */

static int w_upload(void *ctx, const char *path, int fd, uint64_t size, const struct vfs_want *want,
		    struct az_stat *st)
{
	struct vfs *v = ctx;
	int rc = need_parents(v, path);

	return rc < 0 ? rc : v->real.upload(v->real.ctx, path, fd, size, want, st);
}

static int w_write_range(void *ctx, const char *path, uint64_t off, const void *buf, size_t len,
			 struct az_stat *st)
{
	struct vfs *v = ctx;
	int rc = need_parents(v, path);

	return rc < 0 ? rc : v->real.write_range(v->real.ctx, path, off, buf, len, st);
}

static int w_create(void *ctx, const char *path, const struct vfs_want *want, struct az_stat *st)
{
	struct vfs *v = ctx;
	int rc = need_parents(v, path);

	return rc < 0 ? rc : v->real.create(v->real.ctx, path, want, st);
}

static int w_create_excl(void *ctx, const char *path, const struct vfs_want *want,
			 struct az_stat *st)
{
	struct vfs *v = ctx;
	int rc = need_parents(v, path);

	return rc < 0 ? rc : v->real.create_excl(v->real.ctx, path, want, st);
}

static int w_unlink(void *ctx, const char *path)
{
	struct vfs *v = ctx;
	int rc = need_parents(v, path);

	return rc < 0 ? rc : v->real.unlink(v->real.ctx, path);
}

static int w_symlink(void *ctx, const char *path, const char *target, const struct vfs_want *want,
		     struct az_stat *st)
{
	struct vfs *v = ctx;
	int rc = need_parents(v, path);

	return rc < 0 ? rc : v->real.symlink(v->real.ctx, path, target, want, st);
}

static ssize_t w_read(void *ctx, const char *path, uint64_t off, size_t len, void *buf)
{
	struct vfs *v = ctx;

	return v->real.read(v->real.ctx, path, off, len, buf);
}

static int w_download(void *ctx, const char *path, int fd, struct az_stat *st)
{
	struct vfs *v = ctx;

	return v->real.download(v->real.ctx, path, fd, st);
}

static int w_readlink(void *ctx, const char *path, char *buf, size_t size)
{
	struct vfs *v = ctx;

	return v->real.readlink(v->real.ctx, path, buf, size);
}

static int w_statfs(void *ctx, uint64_t *total, uint64_t *used)
{
	struct vfs *v = ctx;

	return v->real.statfs(v->real.ctx, total, used);
}

/* ---- due entries ---- */

/* pd->lock held: the entry due first that is not busy, or NULL. */
static struct pd_ent *earliest(struct pd *pd)
{
	struct pd_ent *e, *best = NULL;

	for (e = pd->head; e; e = e->next)
		if (!e->busy && (!best || e->due < best->due))
			best = e;
	return best;
}

/* pd->lock held (released meanwhile): creates e and what is above it;
 * on failure e waits for a retry. */
static void retry_due(struct vfs *v, struct pd_ent *e)
{
	struct pd *pd = v->pd;
	char *path = strdup(e->path);
	int rc;

	pthread_mutex_unlock(&pd->lock);
	rc = path ? flush_matching(v, path, m_above_or_self) : -ENOMEM;
	pthread_mutex_lock(&pd->lock);
	e = rc < 0 && path ? find(pd, path) : NULL;
	if (e) {
		az_warn("cannot create directory '%s' on the share yet: %s; retrying", path,
			strerror(-rc));
		e->due = mc_now() + MC_US(wbc_backoff_ms(v, 1));
	}
	free(path);
}

static void *pd_thread(void *arg)
{
	struct vfs *v = arg;
	struct pd *pd = v->pd;
	struct pd_ent *e;
	struct timespec ts;
	int64_t us;

	pthread_mutex_lock(&pd->lock);
	while (!pd->stop) {
		e = earliest(pd);
		if (!e) {
			pthread_cond_wait(&pd->cond, &pd->lock);
			continue;
		}
		us = e->due - mc_now();
		if (us > 0) {
			mc_deadline(&ts, us);
			pthread_cond_timedwait(&pd->cond, &pd->lock, &ts);
			continue;
		}
		retry_due(v, e);
	}
	pthread_mutex_unlock(&pd->lock);
	return NULL;
}

/* ---- lifecycle ---- */

int pd_start(struct vfs *v)
{
	struct pd *pd;
	struct vfs_backend *b = &v->be;
	int rc;

	v->real = v->be;
	if (v->o.writeback_delay_ms <= 0)
		return 0;
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	pthread_mutex_init(&pd->lock, NULL);
	mc_cond_init_mono(&pd->cond);
	v->pd = pd;
	rc = pthread_create(&pd->thread, NULL, pd_thread, v);
	if (rc != 0) {
		az_err("cannot start the directory thread: %s", strerror(rc));
		pd_stop(v);
		return -rc;
	}
	pd->running = 1;
	b->ctx = v;
	b->stat = w_stat;
	b->list = w_list;
	b->read = w_read;
	b->download = w_download;
	b->upload = w_upload;
	b->write_range = w_write_range;
	b->create = v->real.create ? w_create : NULL;
	b->mkdir = w_mkdir;
	b->unlink = w_unlink;
	b->rmdir = w_rmdir;
	b->rename = w_rename;
	b->setattr = w_setattr;
	b->symlink = w_symlink;
	b->readlink = w_readlink;
	b->statfs = w_statfs;
	b->create_excl = v->real.create_excl ? w_create_excl : NULL;
	return 0;
}

void pd_stop(struct vfs *v)
{
	struct pd *pd = v->pd;

	if (!pd)
		return;
	if (pd->running) {
		pthread_mutex_lock(&pd->lock);
		pd->stop = 1;
		pthread_cond_broadcast(&pd->cond);
		pthread_mutex_unlock(&pd->lock);
		pthread_join(pd->thread, NULL);
	}
	while (pd->head) /* journaled: the next mount creates them */
		drop(pd, pd->head);
	pthread_mutex_destroy(&pd->lock);
	pthread_cond_destroy(&pd->cond);
	free(pd);
	v->pd = NULL;
	v->be = v->real;
}
