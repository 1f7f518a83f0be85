/* writeback.h: the write-back queue and its upload workers (writeback.c). */
#ifndef AZSF_CACHE_WRITEBACK_H
#define AZSF_CACHE_WRITEBACK_H

#include <stdint.h>

#include "vfs_int.h"

/* Starts max(1, upload_threads) workers. */
int wbc_start(struct vfs *v);
/* Stops and joins the workers (queued files stay queued and journaled). */
void wbc_stop(struct vfs *v);
/* v->lock held: queue f for an upload at time due (mc_now() units; keeps an earlier due
 * time if already queued). Takes a reference. */
void wbc_enqueue(struct vfs *v, struct mc_file *f, int64_t due);
/* v->lock held: take f off the queue (drops the queue's reference). */
void wbc_dequeue(struct vfs *v, struct mc_file *f);
/* Back-off for a failed background upload, in ms. */
long wbc_backoff_ms(const struct vfs *v, int retries);
/* Microseconds a write-back close (or mkdir) waits before its upload may
 * start: half the delay, so a small file is on the share within the delay
 * (the contract) and one created and removed within half of it never is. */
int64_t wbc_hold_us(const struct vfs *v);

#endif
