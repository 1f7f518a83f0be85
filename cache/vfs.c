/* vfs.c: the cache's lifecycle (vfs_init, vfs_sync_all, vfs_free) and the
 * small helpers every module shares.
 *
 * vfs_init creates cache_dir (0700) with data/ and journal/, takes an
 * exclusive flock on cache_dir/lock (-EBUSY, logged, if another mount holds
 * it), starts the upload workers and replays the journal (replay.c) before
 * returning, so data a killed daemon accepted reaches the share before the
 * mount serves anything. vfs_free uploads what it can, stops the workers,
 * journals any dirty data not yet journaled, and keeps journaled data on
 * disk for the next mount. Clean copies do not outlive the mount (the next
 * vfs_init removes unreferenced data files).
 *
 * Threads: vfs_init/vfs_free run alone; vfs_sync_all from any thread.
 * mc_note tracks whether the share is reachable (v->offline, v->lock) and
 * logs each change once.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "filecache.h"
#include "journal.h"
#include "nodes.h"
#include "pendir.h"
#include "replay.h"
#include "upload.h"
#include "writeback.h"

void vfs_opts_defaults(struct vfs_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->writeback_delay_ms = 0;
	o->attr_timeout_ms = 2000;
	o->dir_timeout_ms = 2000;
	o->cache_max_bytes = 10ull << 30;
	o->file_max_bytes = 16ull << 20;
	o->upload_threads = 16;
	o->conflict_slack_ms = 1000;
	o->offline_writes = 0;
	o->default_uid = 0;
	o->default_gid = 0;
	o->default_file_mode = 0644;
	o->default_dir_mode = 0755;
	o->neg_timeout_ms = MC_NEG_DEFAULT_MS;
	o->journal_sync_ms = 100;
}

int64_t mc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + 1; /* never 0 */
}

int mc_fresh(int64_t at, long timeout_ms)
{
	return at != 0 && mc_now() - at < MC_US(timeout_ms);
}

void mc_realtime(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

int mc_is_net_err(int rc)
{
	switch (-rc) {
	case EIO:
	case ETIMEDOUT:
	case EAGAIN:
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case ENETUNREACH:
	case ENETDOWN:
	case ENOTCONN:
	case EPIPE:
		return 1;
	default:
		return 0;
	}
}

int mc_note_locked(struct vfs *v, int rc)
{
	if (mc_is_net_err(rc)) {
		if (!v->offline)
			az_err("share unreachable (%s): serving cached files without revalidation; "
			       "%s",
			       strerror(-rc),
			       v->o.writeback_delay_ms > 0 && v->o.offline_writes
				   ? "writes are queued in the journal"
				   : "writes fail until it is back");
		v->offline = 1;
		v->offline_at = mc_now();
	} else if (v->offline) {
		v->offline = 0;
		az_info("share reachable again");
	}
	return rc;
}

int mc_offline_recent(const struct vfs *v)
{
	return v->offline && mc_fresh(v->offline_at, MC_OFFLINE_PROBE_MS);
}

int mc_note(struct vfs *v, int rc)
{
	pthread_mutex_lock(&v->lock);
	mc_note_locked(v, rc);
	pthread_mutex_unlock(&v->lock);
	return rc;
}

void mc_fill_owner(const struct vfs *v, struct az_stat *st)
{
	mode_t type = st->mode & S_IFMT;

	if (st->has_owner)
		return;
	if (!type)
		type = st->is_dir ? S_IFDIR : S_IFREG;
	st->uid = v->o.default_uid;
	st->gid = v->o.default_gid;
	st->mode =
	    type | ((type == S_IFDIR ? v->o.default_dir_mode : v->o.default_file_mode) & 07777);
}

static int mkdir_p(const char *dir)
{
	char buf[4096];
	size_t i, n = strlen(dir);

	if (n + 1 > sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = dir[i];
	}
	return 0;
}

static int make_dirs(struct vfs *v)
{
	size_t n = strlen(v->cache_dir) + 16;
	int rc;

	v->data_dir = malloc(n);
	v->jn_dir = malloc(n);
	if (!v->data_dir || !v->jn_dir)
		return -ENOMEM;
	snprintf(v->data_dir, n, "%s/data", v->cache_dir);
	snprintf(v->jn_dir, n, "%s/journal", v->cache_dir);
	rc = mkdir_p(v->cache_dir);
	if (rc == 0 && chmod(v->cache_dir, 0700) < 0)
		rc = -errno;
	if (rc == 0)
		rc = mkdir_p(v->data_dir);
	if (rc == 0)
		rc = mkdir_p(v->jn_dir);
	if (rc < 0)
		az_err("cannot create cache dir '%s': %s", v->cache_dir, strerror(-rc));
	return rc;
}

static int take_lock(struct vfs *v)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/lock", v->cache_dir);
	v->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (v->lock_fd < 0) {
		int rc = -errno;

		az_err("cannot open '%s': %s", path, strerror(-rc));
		return rc;
	}
	if (flock(v->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int rc = errno == EWOULDBLOCK ? -EBUSY : -errno;

		az_err("cache dir '%s' is in use by another mount (lock '%s' held)", v->cache_dir,
		       path);
		return rc;
	}
	return 0;
}

static void set_host(struct vfs *v)
{
	size_t i;

	if (gethostname(v->host, sizeof(v->host) - 1) < 0 || !v->host[0])
		snprintf(v->host, sizeof(v->host), "localhost");
	v->host[sizeof(v->host) - 1] = '\0';
	for (i = 0; v->host[i]; i++) {
		char c = v->host[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			v->host[i] = '_';
	}
}

static int init_sync(struct vfs *v)
{
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->list_cond, NULL);
	pthread_cond_init(&v->wb_idle, NULL);
	pthread_rwlock_init(&v->ns_lock, NULL);
	mc_cond_init_mono(&v->wb_cond);
	jn_sync_init(v);
	return 0;
}

static int backend_ok(const struct vfs_backend *be)
{
	return be && be->stat && be->list && be->read && be->download && be->upload &&
	       be->write_range && be->mkdir && be->unlink && be->rmdir && be->rename &&
	       be->setattr && be->symlink && be->readlink && be->statfs;
}

static int init_opts(struct vfs *v, const struct vfs_opts *opts)
{
	v->o = *opts;
	v->cache_dir = strdup(opts->cache_dir);
	if (!v->cache_dir)
		return -ENOMEM;
	v->o.cache_dir = v->cache_dir;
	if (v->o.upload_threads < 1)
		v->o.upload_threads = 1;
	if (v->o.writeback_delay_ms < 0)
		v->o.writeback_delay_ms = 0;
	return 0;
}

static void teardown(struct vfs *v);

int vfs_init(struct vfs **out, const struct vfs_opts *opts, const struct vfs_backend *be)
{
	struct vfs *v;
	int rc;

	*out = NULL;
	if (!opts || !opts->cache_dir || !opts->cache_dir[0] || !backend_ok(be)) {
		az_err("cache: cache_dir and a complete backend are required");
		return -EINVAL;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->lock_fd = -1;
	v->be = *be;
	v->real = *be;
	init_sync(v);
	set_host(v);
	rc = init_opts(v, opts);
	if (rc == 0)
		rc = make_dirs(v);
	if (rc == 0)
		rc = take_lock(v);
	if (rc == 0)
		rc = jl_open(v);
	if (rc == 0)
		rc = jn_sync_start(v);
	if (rc == 0)
		rc = pd_start(v);
	if (rc == 0)
		rc = mc_nodes_init(v);
	if (rc == 0) {
		v->root->remote = 1;
		v->root->st.is_dir = 1;
		v->next_id = mc_replay_max_id(v) + 1;
		if (jl_max_id(v) >= v->next_id)
			v->next_id = jl_max_id(v) + 1;
		rc = wbc_start(v);
	}
	if (rc == 0)
		rc = mc_replay(v);
	if (rc < 0) {
		teardown(v);
		return rc;
	}
	*out = v;
	return 0;
}

/* Dirty (or with a deferred attribute change), attached files (referenced);
 * only those without a journal record if unjournaled. v->lock held. */
static int collect_dirty(struct vfs *v, int unjournaled, struct mc_file ***out, size_t *nout)
{
	struct mc_file **vec = NULL;
	size_t n = 0, cap = 0, i;
	struct mc_node *nd;

	for (i = 0; v->buckets && i < v->nbuckets; i++) {
		for (nd = v->buckets[i]; nd; nd = nd->hnext) {
			struct mc_file *f = nd->file;

			if (!f || (!mc_file_dirty(f) && !f->pend.mask) || f->orphan ||
			    (unjournaled && f->journaled))
				continue;
			if (n == cap) {
				struct mc_file **nv =
				    realloc(vec, (cap ? cap * 2 : 16) * sizeof(*nv));

				if (!nv)
					break;
				vec = nv;
				cap = cap ? cap * 2 : 16;
			}
			mc_file_ref(f);
			vec[n++] = f;
		}
	}
	*out = vec;
	*nout = n;
	return 0;
}

static void unref_all(struct vfs *v, struct mc_file **vec, size_t n)
{
	size_t i;

	pthread_mutex_lock(&v->lock);
	for (i = 0; i < n; i++)
		mc_file_unref(v, vec[i]);
	pthread_mutex_unlock(&v->lock);
	free(vec);
}

int vfs_sync_all(struct vfs *v)
{
	struct mc_file **vec;
	size_t n, i;
	int rc, first = 0;

	first = pd_flush_all(v); /* empty new directories too */
	pthread_mutex_lock(&v->lock);
	collect_dirty(v, 0, &vec, &n);
	pthread_mutex_unlock(&v->lock);
	for (i = 0; i < n; i++) {
		rc = mc_upload(v, vec[i], 0);
		if (rc < 0) {
			if (!first)
				first = rc;
			pthread_mutex_lock(&vec[i]->up_lock);
			mc_upload_failed(v, vec[i], rc);
			pthread_mutex_unlock(&vec[i]->up_lock);
		}
	}
	unref_all(v, vec, n);
	jn_sync_now(v); /* records of failed uploads, deferred attributes */
	return first;
}

/* Journals dirty data that has no record yet (files still open at exit). */
static void journal_rest(struct vfs *v)
{
	struct mc_file **vec;
	size_t n, i;

	pthread_mutex_lock(&v->lock);
	collect_dirty(v, 1, &vec, &n);
	pthread_mutex_unlock(&v->lock);
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&vec[i]->up_lock);
		jn_file(v, vec[i]);
		pthread_mutex_unlock(&vec[i]->up_lock);
	}
	unref_all(v, vec, n);
}

static void teardown(struct vfs *v)
{
	if (v->workers)
		wbc_stop(v);
	if (v->buckets)
		journal_rest(v);
	pd_stop(v);
	jn_sync_stop(v);
	jl_close(v);
	pthread_mutex_lock(&v->lock);
	while (v->q_head)
		wbc_dequeue(v, v->q_head);
	mc_nodes_free(v);
	pthread_mutex_unlock(&v->lock);
	if (v->lock_fd >= 0)
		close(v->lock_fd);
	pthread_mutex_destroy(&v->lock);
	pthread_cond_destroy(&v->list_cond);
	pthread_cond_destroy(&v->wb_cond);
	pthread_cond_destroy(&v->wb_idle);
	pthread_rwlock_destroy(&v->ns_lock);
	pthread_mutex_destroy(&v->jn_lock);
	pthread_cond_destroy(&v->jn_cond);
	free(v->cache_dir);
	free(v->data_dir);
	free(v->jn_dir);
	free(v);
}

void vfs_free(struct vfs *v)
{
	if (!v)
		return;
	vfs_sync_all(v);
	teardown(v);
}

void mc_deadline(struct timespec *ts, int64_t us)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	if (us < 0)
		us = 0;
	ts->tv_sec += us / 1000000;
	ts->tv_nsec += (us % 1000000) * 1000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

void mc_cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
}

int mc_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}
