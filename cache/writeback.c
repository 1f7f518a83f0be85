/* writeback.c: the write-back queue and its upload workers.
 *
 * Owns v->q_head (a list of files waiting for an upload, each with a due
 * time) and the worker threads (max(1, upload_threads)). In write-back mode
 * a close journals the file and queues it with due = now + half the
 * delay (wbc_hold_us), so the upload ends within the delay; in both
 * modes a failed upload is queued again with back-off, so accepted data
 * keeps trying to reach the share.
 *
 * Threads: FUSE threads enqueue and dequeue; workers sleep on v->wb_cond
 * until the earliest due time, take that file off the queue (keeping the
 * queue's reference as their own) and upload it with mc_upload(), outside
 * v->lock. Several workers upload different files in parallel; one file is
 * never uploaded twice at once (f->up_lock in upload.c).
 * Invariants (v->lock): f->queued iff f is on the list, and then the list
 * holds one reference; the list is sorted by due_at (q_head first); an
 * orphaned file is never queued. Idle workers wait for the head's due
 * time, so an enqueue wakes them only when it becomes the new head.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "azsharefs/log.h"
#include "filecache.h"
#include "upload.h"
#include "writeback.h"

static void q_unlink(struct vfs *v, struct mc_file *f)
{
	if (f->q_prev)
		f->q_prev->q_next = f->q_next;
	else
		v->q_head = f->q_next;
	if (f->q_next)
		f->q_next->q_prev = f->q_prev;
	else
		v->q_tail = f->q_prev;
	f->q_prev = f->q_next = NULL;
	f->queued = 0;
}

/* Inserts f by due_at, searching from the tail: closes queue in due order,
 * so this is O(1) for them. */
static void q_insert(struct vfs *v, struct mc_file *f)
{
	struct mc_file *after = v->q_tail;

	while (after && after->due_at > f->due_at)
		after = after->q_prev;
	f->q_prev = after;
	f->q_next = after ? after->q_next : v->q_head;
	if (f->q_next)
		f->q_next->q_prev = f;
	else
		v->q_tail = f;
	if (after)
		after->q_next = f;
	else
		v->q_head = f;
	f->queued = 1;
}

void wbc_enqueue(struct vfs *v, struct mc_file *f, int64_t due)
{
	if (f->orphan)
		return;
	if (f->queued) {
		if (due >= f->due_at)
			return;
		q_unlink(v, f); /* keeps the queue's reference */
	} else {
		mc_file_ref(f);
	}
	f->due_at = due;
	q_insert(v, f);
	/* only a new earliest entry changes what the idle workers wait for */
	if (v->q_head == f)
		pthread_cond_broadcast(&v->wb_cond);
}

void wbc_dequeue(struct vfs *v, struct mc_file *f)
{
	if (!f->queued)
		return;
	q_unlink(v, f);
	mc_file_unref(v, f);
}

int64_t wbc_hold_us(const struct vfs *v)
{
	return MC_US(v->o.writeback_delay_ms) / 2;
}

long wbc_backoff_ms(const struct vfs *v, int retries)
{
	long base = v->o.writeback_delay_ms > 200 ? v->o.writeback_delay_ms : 200;
	long ms = base;

	while (retries-- > 0 && ms < 30000)
		ms *= 2;
	return ms < 30000 ? ms : 30000;
}

/* v->lock held: the queued file due first, or NULL. */
static struct mc_file *q_earliest(struct vfs *v)
{
	return v->q_head;
}

static void wait_until(struct vfs *v, int64_t due)
{
	struct timespec ts;

	mc_deadline(&ts, due - mc_now());
	pthread_cond_timedwait(&v->wb_cond, &v->lock, &ts);
}

/* v->lock held on entry and exit; runs one upload of f (queue ref owned). */
static void run_one(struct vfs *v, struct mc_file *f)
{
	int rc;

	v->wb_busy++;
	pthread_mutex_unlock(&v->lock);
	rc = mc_upload(v, f, 0);
	pthread_mutex_lock(&v->lock);
	v->wb_busy--;
	if (rc < 0 && (mc_file_dirty(f) || f->pend.mask) && !f->orphan && f->node) {
		if (f->retries++ == 0)
			az_warn("upload of '%s' failed: %s; kept in the journal, retrying",
				f->node->path, strerror(-rc));
		wbc_enqueue(v, f, mc_now() + MC_US(wbc_backoff_ms(v, f->retries)));
	} else if (rc == 0) {
		f->retries = 0;
	}
	mc_file_unref(v, f);
	pthread_cond_broadcast(&v->wb_idle);
}

static void *worker(void *arg)
{
	struct vfs *v = arg;
	struct mc_file *f;

	pthread_mutex_lock(&v->lock);
	while (!v->wb_stop) {
		f = q_earliest(v);
		if (!f) {
			pthread_cond_wait(&v->wb_cond, &v->lock);
			continue;
		}
		if (f->due_at > mc_now()) {
			wait_until(v, f->due_at);
			continue;
		}
		q_unlink(v, f); /* the queue's reference is now ours */
		run_one(v, f);
	}
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

int wbc_start(struct vfs *v)
{
	int n = v->o.upload_threads > 0 ? v->o.upload_threads : 1, i, rc;

	v->workers = calloc((size_t)n, sizeof(*v->workers));
	if (!v->workers)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		rc = pthread_create(&v->workers[i], NULL, worker, v);
		if (rc != 0) {
			az_err("cannot start upload worker: %s", strerror(rc));
			break;
		}
		v->nworkers++;
	}
	return v->nworkers > 0 ? 0 : -EAGAIN;
}

void wbc_stop(struct vfs *v)
{
	int i;

	pthread_mutex_lock(&v->lock);
	v->wb_stop = 1;
	pthread_cond_broadcast(&v->wb_cond);
	pthread_mutex_unlock(&v->lock);
	for (i = 0; i < v->nworkers; i++)
		pthread_join(v->workers[i], NULL);
	free(v->workers);
	v->workers = NULL;
	v->nworkers = 0;
}
