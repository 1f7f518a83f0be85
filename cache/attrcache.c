/* attrcache.c: attribute lookups and vfs_getattr.
 *
 * Order of answers for a path: (1) local content with changes the share
 * lacks, or open for writing: the local view; (2) cached attributes
 * confirmed within attr_timeout_ms: no request; (3) a fresh cached listing
 * of the parent (dir_timeout_ms) that has the name; (4) "no such entry":
 * a name this node removed itself (unlink, rename away, rmdir) within
 * attr_timeout_ms is trusted like this node's own attributes (a lock file
 * or a save's temporary copy probed again); any other "no" (a negative
 * entry, a fresh listing without the name) only within neg_timeout_ms; an
 * older one is asked again, by one listing of the parent when it lists in
 * one page (it re-confirms every other name there too, so a burst of
 * misses in one directory costs one request per window), else by a HEAD of
 * the name; (5) one listing of the parent (all pages; every entry cached).
 * Why (4): a name another node created (and closed) must not stay hidden
 * for dir_timeout (close-to-open for new files); the remaining window is
 * neg_timeout_ms (attr_timeout_ms for a name this node removed itself).
 * Listings answer their siblings' lookups as well, so `ls -l` costs the
 * listing pages only. While the share is unreachable, stale attributes
 * (and stale negative answers) are served (logged once by mc_note).
 *
 * Threads: any. v->lock held by callers of mc_lookup/mc_node_attrs; it is
 * dropped only inside mc_dir_list. mc_revalidate takes it itself.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "attrcache.h"
#include "attrdefer.h"
#include "dircache.h"
#include "filecache.h"
#include "nodes.h"

int mc_node_local(const struct mc_node *n)
{
	const struct mc_file *f = n->file;

	return f && !f->orphan && (!n->remote || mc_file_dirty(f) || (f->writers > 0 && f->whole));
}

void mc_node_attrs(const struct vfs *v, const struct mc_node *n, struct az_stat *st)
{
	if (mc_node_local(n)) {
		*st = n->file->lst;
		st->is_dir = 0;
	} else {
		*st = n->st;
		mc_attrs_overlay(n->file, st); /* a deferred change shows at once */
	}
	if (n == v->root) {
		st->is_dir = 1;
		if (!st->has_owner)
			st->mode = S_IFDIR | (v->o.default_dir_mode & 07777);
	}
	mc_fill_owner(v, st);
}

/* How long "no such name" is trusted. Close-to-open: neg_timeout_ms (a
 * file another node closed must be found by the next open). Write-back
 * mode sees other nodes' changes up to attr_timeout late anyway (trusted
 * attributes, docs/DESIGN.md), so a listing's "no" counts for dir_timeout
 * there, like its "yes": a burst of creates in a directory that is on the
 * share (tar, git) asks once per dir_timeout, not once per neg_timeout. */
static long neg_ms(const struct vfs *v)
{
	long neg = v->o.writeback_delay_ms > 0 ? v->o.dir_timeout_ms : v->o.neg_timeout_ms;
	long ms = neg < v->o.dir_timeout_ms ? neg : v->o.dir_timeout_ms;

	return ms > 0 ? ms : 0;
}

/* v->lock held: the cached answer for path: 0 / -ENOENT, 1 if none is
 * fresh, 2 if only a "no such name" older than neg_timeout_ms. */
static int cached_answer(struct vfs *v, const char *path, struct mc_node **out)
{
	struct mc_node *n = mc_node_find(v, path), *p;
	int64_t neg_at = 0;
	char pp[4096];

	*out = n;
	if (n && mc_node_local(n))
		return 0;
	if (n && !mc_node_visible(n) && mc_fresh(n->removed_at, v->o.attr_timeout_ms))
		return -ENOENT; /* this node removed it: trusted like its own attributes */
	if (n && mc_fresh(n->attr_at, v->o.attr_timeout_ms)) {
		if (n->remote)
			return 0;
		neg_at = n->attr_at;
	}
	if (mc_path_parent(path, pp, sizeof(pp)) < 0)
		return -ENAMETOOLONG;
	p = mc_node_find(v, pp);
	if (p && mc_fresh(p->listed_at, v->o.dir_timeout_ms)) {
		if (!neg_at && n && mc_node_visible(n))
			return 0;
		/* a listing's "no" counts from its answer: listing 10,000
		 * entries takes longer than neg_timeout, and from its request
		 * every create in a big directory would list it again */
		if (mc_listing_done(p) > neg_at)
			neg_at = mc_listing_done(p);
	}
	if (!neg_at)
		return 1;
	return mc_fresh(neg_at, neg_ms(v)) ? -ENOENT : 2;
}

/* v->lock held (dropped while asking): "no such name" is too old to
 * trust; ask the share again. A parent that lists in at most two pages is
 * listed (no more requests than the HEADs, two for a missing name: file,
 * then directory; and it answers every other name there); else a HEAD. */
static int recheck_miss(struct vfs *v, const char *path, const char *pp)
{
	struct mc_node *p = mc_node_find(v, pp), *n;
	struct az_stat st;
	int64_t t0;
	int rc;

	if (p && p->listed_at && p->nentries < MC_LIST_CHEAP) {
		rc = mc_dir_list(v, pp);
		if (rc != -EAGAIN)
			return rc;
	}
	pthread_mutex_unlock(&v->lock);
	memset(&st, 0, sizeof(st));
	t0 = mc_now();
	rc = mc_note(v, v->be.stat(v->be.ctx, path, &st));
	pthread_mutex_lock(&v->lock);
	n = mc_node_find(v, path);
	if ((rc != 0 && rc != -ENOENT) || (n && n->attr_at > t0))
		return rc == -ENOENT ? 0 : rc; /* failed, or learnt newer meanwhile */
	n = mc_node_get(v, path);
	if (!n)
		return -ENOMEM;
	if (rc == 0) {
		mc_dir_apply(v, n, &st, t0);
	} else {
		n->remote = 0;
		n->attr_at = t0;
	}
	return 0;
}

/* v->lock held: is the parent of path known not to be a directory? */
static int parent_not_dir(struct vfs *v, const char *path)
{
	struct mc_node *p;
	char pp[4096];

	if (mc_path_parent(path, pp, sizeof(pp)) < 0)
		return -ENAMETOOLONG;
	p = mc_node_find(v, pp);
	if (p && p != v->root && mc_node_visible(p)) {
		struct az_stat st;

		mc_node_attrs(v, p, &st);
		if (!st.is_dir)
			return -ENOTDIR;
	}
	return 0;
}

int mc_lookup(struct vfs *v, const char *path, struct mc_node **out)
{
	struct mc_node *n;
	char pp[4096];
	int rc, attempt, miss;

	*out = NULL;
	if (!path[0]) {
		*out = v->root;
		return 0;
	}
	rc = cached_answer(v, path, out);
	if (rc <= 0)
		return rc;
	if (rc == 2 && mc_offline_recent(v))
		return -ENOENT; /* the share is down: the stale answer, no waiting */
	miss = rc == 2;
	rc = parent_not_dir(v, path);
	if (rc < 0)
		return rc;
	if (*out && mc_node_visible(*out) && mc_offline_recent(v))
		return 0; /* the share is down: stale attributes, no waiting */
	mc_path_parent(path, pp, sizeof(pp));
	rc = miss ? recheck_miss(v, path, pp) : -EAGAIN;
	if (miss && rc < 0 && mc_is_net_err(rc))
		return -ENOENT; /* offline: the stale answer */
	for (attempt = 0; attempt < 3 && rc == -EAGAIN; attempt++)
		rc = mc_dir_list(v, pp);
	n = mc_node_find(v, path);
	*out = n;
	if (rc < 0) {
		if (mc_is_net_err(rc) && n && mc_node_visible(n))
			return 0; /* offline: stale attributes */
		return rc == -ENOTDIR ? -ENOTDIR : rc;
	}
	return n && mc_node_visible(n) ? 0 : -ENOENT;
}

int vfs_getattr(struct vfs *v, const char *path_in, struct az_stat *st)
{
	struct mc_node *n;
	char path[4096];
	int rc;

	rc = mc_path_norm(path_in, path, sizeof(path));
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&v->lock);
	rc = mc_lookup(v, path, &n);
	if (rc == 0)
		mc_node_attrs(v, n, st);
	pthread_mutex_unlock(&v->lock);
	return rc;
}

int mc_revalidate(struct vfs *v, const char *path, struct az_stat *st)
{
	struct mc_node *n;
	int64_t t0;
	int rc;

	memset(st, 0, sizeof(*st));
	t0 = mc_now();
	rc = mc_note(v, v->be.stat(v->be.ctx, path, st));
	pthread_mutex_lock(&v->lock);
	n = mc_node_find(v, path);
	if (n && n->attr_at > t0)
		n = NULL; /* this node learnt something newer meanwhile (its own upload) */
	if (rc == 0 && n)
		mc_dir_apply(v, n, st, mc_now());
	else if (rc == -ENOENT && n) {
		if (n->file && !mc_file_dirty(n->file))
			mc_file_detach(v, n->file); /* gone: handles keep the copy */
		n->remote = 0;
		n->attr_at = mc_now();
	}
	pthread_mutex_unlock(&v->lock);
	return rc;
}

void mc_invalidate(struct vfs *v, const char *path)
{
	struct mc_node *n = mc_node_find(v, path);
	char pp[4096];

	if (n)
		n->attr_at = 0;
	if (mc_path_parent(path, pp, sizeof(pp)) == 0) {
		n = mc_node_find(v, pp);
		if (n)
			n->listed_at = 0;
	}
}
