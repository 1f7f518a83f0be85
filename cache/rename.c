/* rename.c: vfs_rename.
 *
 * Cases:
 * - A file that exists only locally (created here, not uploaded yet) is
 *   renamed locally: its node moves, its pending upload now targets the new
 *   name (journal record rewritten) and is based on whatever the target was
 *   (the target's remote version, or none), so a later upload replaces it
 *   atomically through backend->upload, with the conflict check. Any local
 *   copy of the replaced target is detached (orphaned).
 * - A file on the share: pending changes are uploaded first (to the old
 *   name, with the conflict check), then backend->rename (atomic, replacing
 *   unless VFS_RENAME_NOREPLACE); the local copy follows the new name. Its
 *   ETag after a rename is not known, so an unopened clean copy is dropped
 *   (the next open downloads instead of revalidating: same cost) and an open
 *   one keeps size + mtime as its base version.
 * - A directory: v->ns_lock is taken exclusive (no upload runs meanwhile),
 *   every dirty file below it is uploaded, then backend->rename, then the
 *   cached subtree is re-keyed.
 * Names differing from an existing entry only in case are refused (EEXIST).
 *
 * Threads: any FUSE thread. Lock order: ns_lock, then the up_locks of the
 * source and target files (by address), then v->lock briefly.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attrcache.h"
#include "filecache.h"
#include "fileops.h"
#include "journal.h"
#include "nodes.h"
#include "upload.h"

struct ren {
	char from[4096], to[4096];
	unsigned flags;
	int is_dir;
	struct mc_file *ff, *tf; /* referenced */
};

/* v->lock held: checks, and references to the files involved. */
static int prepare(struct vfs *v, struct ren *r)
{
	struct mc_node *fn, *tn = NULL;
	struct az_stat fst, tst;
	int rc, texists = 0;

	rc = mc_lookup(v, r->from, &fn);
	if (rc == 0)
		rc = mc_parent_dir(v, r->to, &tn);
	if (rc == 0) {
		rc = mc_lookup(v, r->to, &tn);
		texists = rc == 0;
		rc = rc == -ENOENT ? 0 : rc;
	}
	fn = rc == 0 ? mc_node_find(v, r->from) : NULL; /* lookups may relist */
	if (rc == 0 && (!fn || !mc_node_visible(fn)))
		rc = -ENOENT;
	if (rc < 0)
		return rc;
	tn = texists ? mc_node_find(v, r->to) : NULL;
	mc_node_attrs(v, fn, &fst);
	r->is_dir = fst.is_dir;
	if (tn) {
		mc_node_attrs(v, tn, &tst);
		if (r->flags & VFS_RENAME_NOREPLACE)
			return -EEXIST;
		if (fst.is_dir && !tst.is_dir)
			return -ENOTDIR;
		if (!fst.is_dir && tst.is_dir)
			return -EISDIR;
	}
	rc = mc_check_case(v, r->to, fn);
	if (rc < 0)
		return rc;
	r->ff = fn->file;
	r->tf = tn ? tn->file : NULL;
	if (r->ff)
		mc_file_ref(r->ff);
	if (r->tf)
		mc_file_ref(r->tf);
	return 0;
}

static void lock_pair(struct mc_file *a, struct mc_file *b)
{
	if (a && b && (uintptr_t)b < (uintptr_t)a) {
		struct mc_file *t = a;

		a = b;
		b = t;
	}
	if (a)
		pthread_mutex_lock(&a->up_lock);
	if (b && b != a)
		pthread_mutex_lock(&b->up_lock);
}

static void unlock_pair(struct mc_file *a, struct mc_file *b)
{
	if (a)
		pthread_mutex_unlock(&a->up_lock);
	if (b && b != a)
		pthread_mutex_unlock(&b->up_lock);
}

/* v->lock held: move f's node from -> to (the target's file detached). */
static void move_file(struct vfs *v, struct mc_file *f, const char *from, const char *to)
{
	struct mc_node *fn = mc_node_find(v, from), *tn = mc_node_find(v, to);

	if (tn && tn->file && tn->file != f)
		mc_file_detach(v, tn->file);
	if (fn && fn->file == f)
		fn->file = NULL;
	tn = mc_node_get(v, to);
	f->node = tn;
	if (tn)
		tn->file = f;
	else
		mc_file_detach(v, f);
}

/* The source exists only here: the rename stays local. */
static int rename_local(struct vfs *v, struct ren *r)
{
	struct mc_node *tn, *tp;
	char pp[4096];
	int journaled;

	pthread_mutex_lock(&v->lock);
	tn = mc_node_find(v, r->to);
	if (tn && tn->remote) {
		mc_base_from_stat(&r->ff->base, &tn->st, tn->attr_at);
	} else {
		mc_path_parent(r->to, pp, sizeof(pp));
		tp = mc_node_find(v, pp);
		memset(&r->ff->base, 0, sizeof(r->ff->base));
		r->ff->base.valid_at = tn ? tn->attr_at : 0;
		if (tp && tp->listed_at > r->ff->base.valid_at)
			r->ff->base.valid_at = tp->listed_at;
	}
	move_file(v, r->ff, r->from, r->to);
	tn = mc_node_find(v, r->from);
	if (tn && !tn->child)
		mc_node_remove(v, tn);
	journaled = r->ff->journaled;
	pthread_mutex_unlock(&v->lock);
	return journaled ? jn_file(v, r->ff) : 0;
}

/* v->lock held: after a successful backend rename of a file. */
static void renamed_file(struct vfs *v, struct ren *r)
{
	struct mc_node *fn = mc_node_find(v, r->from), *tn;
	struct az_stat st;
	int have = fn && fn->remote;

	if (have)
		st = fn->st;
	tn = mc_node_find(v, r->to);
	if (tn && tn->file && tn->file != r->ff)
		mc_file_detach(v, tn->file);
	if (r->ff && !r->ff->orphan)
		move_file(v, r->ff, r->from, r->to);
	tn = mc_node_get(v, r->to);
	if (tn && have) {
		tn->remote = 1;
		tn->st = st;
		tn->attr_at = mc_now();
	} else if (tn) {
		tn->attr_at = 0;
	}
	if (r->ff && r->ff->node) {
		r->ff->base.etag[0] = '\0'; /* unknown after a rename: size + mtime */
		if (r->ff->openers == 0 && !mc_file_dirty(r->ff) && r->ff->refs == 2)
			mc_file_drop(v, r->ff);
	}
	fn = mc_node_find(v, r->from);
	if (fn && !fn->child)
		mc_node_remove(v, fn);
	fn = mc_node_get(v, r->from);
	if (fn)
		fn->attr_at = fn->removed_at = mc_now(); /* negative, by this node */
}

static int rename_file(struct vfs *v, struct ren *r)
{
	int rc = 0, local;

	pthread_rwlock_rdlock(&v->ns_lock);
	lock_pair(r->ff, r->tf);
	pthread_mutex_lock(&v->lock);
	local = r->ff && r->ff->node && !r->ff->node->remote && !r->ff->orphan;
	pthread_mutex_unlock(&v->lock);
	if (local) {
		rc = rename_local(v, r);
		goto out;
	}
	if (r->ff)
		rc = mc_upload(v, r->ff, MC_UP_NS_HELD | MC_UP_LOCK_HELD);
	if (rc == 0)
		rc = mc_note(v, v->be.rename(v->be.ctx, r->from, r->to, 0,
					     (r->flags & VFS_RENAME_NOREPLACE) != 0));
	pthread_mutex_lock(&v->lock);
	if (rc == 0)
		renamed_file(v, r);
	else if (rc == -ENOENT || rc == -EEXIST) {
		mc_invalidate(v, r->from); /* the cache was wrong: ask again */
		mc_invalidate(v, r->to);
	}
	pthread_mutex_unlock(&v->lock);
out:
	unlock_pair(r->ff, r->tf);
	pthread_rwlock_unlock(&v->ns_lock);
	return rc;
}

/* v->lock held: dirty files (or with a deferred attribute change) at or
 * below path, referenced. */
static int collect_dirty(struct mc_node *n, struct mc_file ***vec, size_t *len, size_t *cap)
{
	struct mc_node *c;

	if (n->file && (mc_file_dirty(n->file) || n->file->pend.mask) && !n->file->orphan) {
		if (*len == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			struct mc_file **nv = realloc(*vec, nc * sizeof(**vec));

			if (!nv)
				return -ENOMEM;
			*vec = nv;
			*cap = nc;
		}
		mc_file_ref(n->file);
		(*vec)[(*len)++] = n->file;
	}
	for (c = n->child; c; c = c->next)
		if (collect_dirty(c, vec, len, cap) < 0)
			return -ENOMEM;
	return 0;
}

/* v->lock held: ETags below n are unknown after the move; unopened clean
 * copies are dropped, open ones keep size + mtime as their base. */
static void forget_versions(struct vfs *v, struct mc_node *n)
{
	struct mc_node *c, *next;
	struct mc_file *f = n->file;

	for (c = n->child; c; c = next) {
		next = c->next;
		forget_versions(v, c);
	}
	if (!f)
		return;
	f->base.etag[0] = '\0';
	if (f->openers == 0 && !mc_file_dirty(f) && f->refs == 1)
		mc_file_drop(v, f);
}

/* v->lock held: the subtree moved on the share; move it here. */
static void renamed_dir(struct vfs *v, struct ren *r)
{
	struct mc_node *fn, *tn = mc_node_find(v, r->to);

	if (tn)
		mc_node_remove(v, tn); /* the replaced (empty) directory */
	fn = mc_node_find(v, r->from);
	if (fn && mc_node_rekey(v, fn, r->to) == 0)
		forget_versions(v, fn);
	else if (fn)
		mc_node_remove(v, fn);
	fn = mc_node_get(v, r->from);
	if (fn)
		fn->attr_at = fn->removed_at = mc_now(); /* negative, by this node */
}

static int rename_dir(struct vfs *v, struct ren *r)
{
	struct mc_file **vec = NULL;
	size_t len = 0, cap = 0, i;
	struct mc_node *fn;
	int rc = 0;

	pthread_rwlock_wrlock(&v->ns_lock);
	pthread_mutex_lock(&v->lock);
	fn = mc_node_find(v, r->from);
	if (fn)
		rc = collect_dirty(fn, &vec, &len, &cap);
	pthread_mutex_unlock(&v->lock);
	for (i = 0; i < len && rc == 0; i++)
		rc = mc_upload(v, vec[i], MC_UP_NS_HELD);
	if (rc == 0)
		rc = mc_note(v, v->be.rename(v->be.ctx, r->from, r->to, 1,
					     (r->flags & VFS_RENAME_NOREPLACE) != 0));
	pthread_mutex_lock(&v->lock);
	if (rc == 0)
		renamed_dir(v, r);
	for (i = 0; i < len; i++)
		mc_file_unref(v, vec[i]);
	pthread_mutex_unlock(&v->lock);
	pthread_rwlock_unlock(&v->ns_lock);
	free(vec);
	return rc;
}

int vfs_rename(struct vfs *v, const char *from_in, const char *to_in, unsigned flags)
{
	struct ren *r = calloc(1, sizeof(*r));
	size_t fl;
	int rc;

	if (!r)
		return -ENOMEM;
	rc = mc_path_norm(from_in, r->from, sizeof(r->from));
	if (rc == 0)
		rc = mc_path_norm(to_in, r->to, sizeof(r->to));
	fl = strlen(r->from);
	if (rc == 0 && (!r->from[0] || !r->to[0]))
		rc = -EBUSY;
	if (rc == 0 && strncmp(r->to, r->from, fl) == 0 && r->to[fl] == '/')
		rc = -EINVAL; /* into itself */
	r->flags = flags;
	pthread_mutex_lock(&v->lock);
	if (rc == 0)
		rc = prepare(v, r);
	pthread_mutex_unlock(&v->lock);
	if (rc == 0 && strcmp(r->from, r->to) == 0)
		goto out;
	if (rc == 0)
		rc = r->is_dir ? rename_dir(v, r) : rename_file(v, r);
out:
	pthread_mutex_lock(&v->lock);
	if (r->ff)
		mc_file_unref(v, r->ff);
	if (r->tf)
		mc_file_unref(v, r->tf);
	pthread_mutex_unlock(&v->lock);
	free(r);
	return rc;
}
