/* fuse_hidden.c: open files that lost their name, and what a request names.
 *
 * POSIX lets a file be used through an open descriptor after unlink() or
 * after a rename() replaced it (Python's tempfile.TemporaryFile, editors,
 * atomic saves over a file someone reads). The cache keeps such data on
 * the local copy; the FUSE side must still be able to name the node:
 * libfuse's high-level API is path-based and with hard_remove it forgets
 * the node's path, so fstat() (a GETATTR without a file handle) fails with
 * ESTALE before it reaches us. So hard_remove is off: libfuse renames an
 * open file it is about to lose to ".fuse_hiddenXXXXXXXXYYYYYYYY" in the
 * same directory, asks about that name while the file stays open, and
 * unlinks it after the last release. None of that reaches the share:
 *
 * - rename(T, hidden) during an UNLINK request is the unlink: vfs_unlink(T)
 *   (the share's Delete File; the cache detaches the open copy), and the
 *   open-file table (ofiles.c) records hidden -> the handles of T.
 * - rename(T, hidden) during a RENAME request comes first when another
 *   file is renamed over an open T: nothing happens on the share, the
 *   handles are marked hidden but still live at T, and the rename that
 *   follows (F -> T) is one atomic Rename File that replaces T; the table
 *   then marks T's handles unlinked. Which request a thread serves is noted
 *   by fuse_req.c (without that note the mount keeps hard_remove and none
 *   of this happens); a rename the caller itself asked for onto such a
 *   name is refused (the prefix is reserved, EINVAL).
 * - getattr and setattr of a hidden name are answered from the handle
 *   (the cache's attributes of the detached copy: vfs_setattr with an
 *   empty mask), or from T while the data still lives there.
 * - unlink of a hidden name is a no-op: the name never existed remotely.
 * - readdir never shows hidden names, and new entries cannot take them.
 * A hidden file can no longer be opened by name (open of
 * /proc/self/fd/N of an unlinked file fails with ENOENT).
 *
 * Threads: any FUSE worker. A handle reached through a hidden name holds a
 * reference (struct of_ent.refs) so a concurrent release cannot free it.
 */
#include "fuse_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "azsharefs/log.h"
#include "names.h"

static struct fo_file *file_of_ent(struct of_ent *e)
{
	return (struct fo_file *)(void *)((char *)e - offsetof(struct fo_file, ent));
}

void fo_file_put(struct fo_file *f)
{
	struct fo_ctx *x = fo_ctx();

	if (of_put(&x->files, &f->ent) == 0) {
		vfs_release(x->v, f->fh);
		free(f);
	}
}

int fo_file_attrs(struct fo_file *f, struct az_stat *a)
{
	struct vfs_want none;

	/* for a detached copy, setattr with nothing to set changes nothing
	 * and reports the copy's attributes (size and mtime as written) */
	memset(&none, 0, sizeof(none));
	return vfs_setattr(fo_ctx()->v, NULL, f->fh, &none, a);
}

int fo_target_get(struct fo_target *t, const char *path, struct fuse_file_info *fi)
{
	struct fo_ctx *x = fo_ctx();
	struct of_ent *e;

	t->name = fo_rel(path);
	t->rel = t->name;
	t->f = fo_file_of(fi);
	t->ref = NULL;
	t->live[0] = '\0';
	if (t->name && !of_is_hidden_name(t->name))
		return 0;
	if (t->f) {
		of_live(&x->files, &t->f->ent, t->live, sizeof(t->live));
	} else if (t->name) {
		e = of_get_hidden(&x->files, t->name, t->live, sizeof(t->live));
		if (!e)
			return -ENOENT; /* no open file has that name */
		t->f = t->ref = file_of_ent(e);
	} else {
		return -ENOENT;
	}
	t->rel = t->live[0] ? t->live : NULL;
	return 0;
}

void fo_target_put(struct fo_target *t)
{
	if (t->ref)
		fo_file_put(t->ref);
	t->ref = NULL;
}

int fo_target_attrs(const struct fo_target *t, struct az_stat *a)
{
	if (t->rel)
		return vfs_getattr(fo_ctx()->v, t->rel, a);
	return fo_file_attrs(t->f, a);
}

int fo_check_new_name(const char *rel)
{
	if (of_is_hidden_name(rel)) {
		az_info("'%s' refused: names starting with \"%s\" are reserved for files "
			"unlinked while open",
			rel, OF_HIDDEN_PREFIX);
		return -EINVAL;
	}
	return nm_check_path(rel);
}

static size_t dir_len(const char *rel)
{
	const char *slash = strrchr(rel, '/');

	return slash ? (size_t)(slash - rel) : 0;
}

int fo_hidden_rename(const char *from, const char *to)
{
	struct fo_ctx *x = fo_ctx();
	size_t dl = dir_len(to);
	enum fo_hide kind = fo_req_hide_kind(to + (dl ? dl + 1 : 0));
	int rc;

	if (dl != dir_len(from) || strncmp(from, to, dl) != 0)
		kind = FO_HIDE_USER; /* libfuse hides in the same directory */
	if (kind == FO_HIDE_UNKNOWN && of_count(&x->files, from) > 0) {
		/* cannot happen with libfuse's loops; refusing loses nothing */
		az_warn("cannot tell why '%s' is being hidden as '%s': refused", from, to);
		return -EBUSY;
	}
	if (kind != FO_HIDE_UNLINK && kind != FO_HIDE_REPLACE)
		return fo_check_new_name(to); /* refused: a reserved name */
	if (kind == FO_HIDE_REPLACE) {
		of_hide(&x->files, from, to, 0);
		az_debug("'%s' is open and about to be replaced: its handles keep it as '%s'", from,
			 to);
		return 0;
	}
	rc = vfs_unlink(x->v, from);
	if (rc == 0)
		of_hide(&x->files, from, to, 1);
	return rc;
}
