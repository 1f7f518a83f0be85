/* jnsync.c: group commit of the journal (journal_sync_ms > 0).
 *
 * With journal_sync_ms > 0 a write-back close writes its data file and
 * journal record without waiting for the disk (jn_write) and marks the
 * journal dirty here; one syncer thread then calls syncfs() on the cache
 * directory's filesystem at most journal_sync_ms after the first unsynced
 * write, which makes every record and data file written meanwhile durable
 * with one flush instead of four fsyncs per close.
 * Why this keeps the contract (docs/DESIGN.md): a killed daemon loses
 * nothing (written pages belong to the kernel, and the next mount replays
 * the records it finds), a clean reboot flushes the page cache, and
 * fsync() uploads regardless; only a power cut or a kernel crash within
 * the window can lose write-back closes, as on a local filesystem.
 * jn_sync_now() waits for a sync that covers everything written so far
 * (unmount). jn_sync_stop() syncs a last time.
 *
 * Threads: one syncer; any thread marks or waits. Lock: v->jn_lock only
 * (never held across syncfs; taken with no other cache lock held, or
 * innermost).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "journal.h"

void jn_sync_init(struct vfs *v)
{
	pthread_mutex_init(&v->jn_lock, NULL);
	mc_cond_init_mono(&v->jn_cond);
	v->jn_fd = -1;
}

int jn_async(const struct vfs *v)
{
	return v->jn_running;
}

/* Flushes the cache's filesystem; logs a failure once per streak. */
static void do_sync(struct vfs *v)
{
	static int failing;

	if (syncfs(v->jn_fd) == 0) {
		if (failing)
			az_info("journal sync of '%s' works again", v->cache_dir);
		failing = 0;
		return;
	}
	if (!failing)
		az_err("journal sync of '%s' failed: %s; write-back data accepted since may not "
		       "survive a power loss",
		       v->cache_dir, strerror(errno));
	failing = 1;
}

/* jn_lock held: waits up to ms for a stop or an urgent request. */
static void wait_window(struct vfs *v, long ms)
{
	struct timespec ts;

	mc_deadline(&ts, MC_US(ms));
	while (!v->jn_stop && v->jn_dirty == 1) {
		if (pthread_cond_timedwait(&v->jn_cond, &v->jn_lock, &ts) == ETIMEDOUT)
			break;
	}
}

static void *syncer(void *arg)
{
	struct vfs *v = arg;
	uint64_t gen;

	pthread_mutex_lock(&v->jn_lock);
	while (!v->jn_stop) {
		if (!v->jn_dirty) {
			pthread_cond_wait(&v->jn_cond, &v->jn_lock);
			continue;
		}
		wait_window(v, v->o.journal_sync_ms); /* jn_dirty 2 = someone waits */
		gen = v->jn_gen;
		v->jn_dirty = 0;
		pthread_mutex_unlock(&v->jn_lock);
		do_sync(v);
		pthread_mutex_lock(&v->jn_lock);
		v->jn_synced = gen;
		pthread_cond_broadcast(&v->jn_cond);
	}
	pthread_mutex_unlock(&v->jn_lock);
	return NULL;
}

int jn_sync_start(struct vfs *v)
{
	int rc;

	if (v->o.journal_sync_ms <= 0)
		return 0;
	v->jn_fd = open(v->cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v->jn_fd < 0) {
		rc = -errno;
		az_err("cannot open cache dir '%s': %s", v->cache_dir, strerror(-rc));
		return rc;
	}
	rc = pthread_create(&v->jn_thread, NULL, syncer, v);
	if (rc != 0) {
		az_err("cannot start the journal syncer: %s", strerror(rc));
		close(v->jn_fd);
		v->jn_fd = -1;
		return -rc;
	}
	v->jn_running = 1;
	return 0;
}

void jn_sync_mark(struct vfs *v)
{
	pthread_mutex_lock(&v->jn_lock);
	v->jn_gen++;
	if (!v->jn_dirty) {
		v->jn_dirty = 1;
		pthread_cond_broadcast(&v->jn_cond);
	}
	pthread_mutex_unlock(&v->jn_lock);
}

void jn_sync_now(struct vfs *v)
{
	uint64_t want;

	if (!v->jn_running)
		return;
	pthread_mutex_lock(&v->jn_lock);
	want = v->jn_gen;
	while (v->jn_synced < want && !v->jn_stop) {
		v->jn_dirty = 2; /* skip the window */
		pthread_cond_broadcast(&v->jn_cond);
		pthread_cond_wait(&v->jn_cond, &v->jn_lock);
	}
	pthread_mutex_unlock(&v->jn_lock);
}

void jn_sync_stop(struct vfs *v)
{
	if (v->jn_running) {
		pthread_mutex_lock(&v->jn_lock);
		v->jn_stop = 1;
		pthread_cond_broadcast(&v->jn_cond);
		pthread_mutex_unlock(&v->jn_lock);
		pthread_join(v->jn_thread, NULL);
		v->jn_running = 0;
		do_sync(v); /* what was written after the thread's last pass */
	}
	if (v->jn_fd >= 0)
		close(v->jn_fd);
	v->jn_fd = -1;
}
