/* fuse_req.c: which kernel request is this FUSE thread serving?
 *
 * The high-level libfuse API does not say, but one case needs it: with
 * hard_remove off, libfuse hides an open file by calling our rename(path,
 * ".fuse_hidden...") both when the file is unlinked and, first thing, when
 * another file is renamed over it. The first must delete the file on the
 * share; the second must not (the rename that follows replaces it with
 * one atomic Rename File). So the session reads the kernel's requests
 * through fuse_session_custom_io(): read(2) as usual, and a note of the
 * request header (and a rename's new name) in a thread-local variable.
 * libfuse reads a request and processes it on the same thread (all its
 * loops do); the note is only trusted when its pid/uid/gid match
 * fuse_get_context(), and a hide during an unknown request is refused
 * (EBUSY: nothing is lost). If the hook cannot be installed, the mount
 * runs with hard_remove (libfuse hides nothing; fstat of an unlinked
 * open file fails with ESTALE).
 * Threads: every FUSE worker; the note is per thread, nothing is shared.
 */
#include "fuse_int.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "azsharefs/log.h"

#define REQ_NAME_MAX 1024 /* the kernel's FUSE_NAME_MAX */

struct req_note {
	int valid;
	uint32_t opcode, uid, gid, pid;
	char newname[REQ_NAME_MAX + 1]; /* RENAME/RENAME2: the new name */
};

static __thread struct req_note note;

/* "a\0b\0" after a fixed part of fixed bytes: b, if it fits. */
static void note_newname(const char *body, size_t len, size_t fixed)
{
	const char *old, *nn, *end = body + len;
	size_t n;

	note.newname[0] = '\0';
	if (len <= fixed)
		return;
	old = body + fixed;
	nn = memchr(old, '\0', (size_t)(end - old));
	if (!nn || ++nn >= end)
		return;
	n = strnlen(nn, (size_t)(end - nn));
	if (n == (size_t)(end - nn) || n > REQ_NAME_MAX)
		return;
	memcpy(note.newname, nn, n + 1);
}

static void note_request(const void *buf, ssize_t n)
{
	struct fuse_in_header h;
	const char *body = (const char *)buf + sizeof(h);
	size_t blen;

	note.valid = 0;
	if (n < (ssize_t)sizeof(h))
		return;
	memcpy(&h, buf, sizeof(h));
	if (h.len > (uint32_t)n)
		return;
	blen = h.len - sizeof(h);
	note.opcode = h.opcode;
	note.uid = h.uid;
	note.gid = h.gid;
	note.pid = h.pid;
	if (h.opcode == FUSE_RENAME)
		note_newname(body, blen, sizeof(struct fuse_rename_in));
	else if (h.opcode == FUSE_RENAME2)
		note_newname(body, blen, sizeof(struct fuse_rename2_in));
	note.valid = 1;
}

static ssize_t req_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);
	int err = errno;

	(void)userdata;
	if (n > 0)
		note_request(buf, n);
	else
		note.valid = 0;
	errno = err; /* libfuse looks at errno after a failed read */
	return n;
}

static ssize_t req_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	return writev(fd, iov, count);
}

int fo_req_install(struct fuse *f)
{
	static const struct fuse_custom_io io = {.read = req_read, .writev = req_writev};
	struct fuse_session *se = fuse_get_session(f);
	int rc = fuse_session_custom_io(se, &io, fuse_session_fd(se));

	if (rc)
		az_warn("cannot watch FUSE requests (%s): a rename over an open file "
			"becomes a delete and a rename",
			strerror(-rc));
	return rc;
}

/* The note, if it is about the request fuse_get_context() describes. */
static const struct req_note *current(void)
{
	struct fuse_context *c = fuse_get_context();

	if (!note.valid || !c || c->pid != (pid_t)note.pid || c->uid != note.uid ||
	    c->gid != note.gid)
		return NULL;
	return &note;
}

enum fo_hide fo_req_hide_kind(const char *hidden_name)
{
	const struct req_note *r = current();

	if (!r)
		return FO_HIDE_UNKNOWN;
	if (r->opcode == FUSE_UNLINK)
		return FO_HIDE_UNLINK;
	if (r->opcode != FUSE_RENAME && r->opcode != FUSE_RENAME2)
		return FO_HIDE_USER;
	/* libfuse hides the rename's target under a name of its own; a
	 * rename the caller asked for has the hidden-looking name as its
	 * new name */
	return strcmp(r->newname, hidden_name) == 0 ? FO_HIDE_USER : FO_HIDE_REPLACE;
}
