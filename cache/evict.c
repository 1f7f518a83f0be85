/* evict.c: accounting of local data and LRU eviction of clean copies.
 *
 * Owns v->data_bytes and the LRU list (v->lru_head oldest .. v->lru_tail).
 * Threads: any, with v->lock held. Invariants: a file is on the LRU iff it
 * is attached to a node, whole, clean (gen == clean_gen), not orphaned and
 * not open; dirty data is never on the list, so eviction can never drop it.
 * Eviction also requires refs == 1 (only the node references the file), so
 * no handle, worker or download can be using the data file it closes.
 * cache_max_bytes caps all local data; dirty data above the cap is allowed
 * (it cannot be dropped) and only makes eviction take every clean copy.
 */
#include "evict.h"
#include "filecache.h"

static int lru_eligible(const struct mc_file *f)
{
	return f->node && !f->orphan && f->whole && !f->stale && !mc_file_dirty(f) &&
	       f->openers == 0 && !f->pend.mask;
}

void mc_lru_remove(struct vfs *v, struct mc_file *f)
{
	if (!f->in_lru)
		return;
	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		v->lru_head = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		v->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
	f->in_lru = 0;
}

void mc_lru_update(struct vfs *v, struct mc_file *f)
{
	mc_lru_remove(v, f);
	if (!lru_eligible(f))
		return;
	f->lru_prev = v->lru_tail;
	f->lru_next = NULL;
	if (v->lru_tail)
		v->lru_tail->lru_next = f;
	else
		v->lru_head = f;
	v->lru_tail = f;
	f->in_lru = 1;
}

void mc_acct_set(struct vfs *v, struct mc_file *f, uint64_t bytes)
{
	v->data_bytes -= f->acct;
	f->acct = bytes;
	v->data_bytes += bytes;
}

/* Evicts one file; 0 if it could not (in use). */
static int evict_one(struct vfs *v, struct mc_file *f)
{
	if (!lru_eligible(f)) {
		mc_lru_remove(v, f);
		return 0;
	}
	if (f->refs != 1)
		return 0; /* briefly in use: stays on the list */
	mc_lru_remove(v, f);
	mc_file_drop(v, f);
	return 1;
}

void mc_evict(struct vfs *v, uint64_t need)
{
	uint64_t cap = v->o.cache_max_bytes;
	struct mc_file *f = v->lru_head, *next;

	for (; f; f = next) {
		if (v->data_bytes + need <= cap)
			break;
		next = f->lru_next;
		evict_one(v, f);
	}
}

int mc_evict_all(struct vfs *v)
{
	struct mc_file *f = v->lru_head, *next;
	int n = 0;

	for (; f; f = next) {
		next = f->lru_next;
		n += evict_one(v, f);
	}
	return n;
}
