/* fuse_preopen.c: an open(2) for reading costs one request, not two.
 *
 * Close-to-open makes every open revalidate with the share (vfs_open), and
 * no earlier answer may stand in for it: it could predate another node's
 * close. But with default_permissions the kernel itself asks first: once
 * the attributes expired, open(2) sends LOOKUP or GETATTR (the permission
 * check) and only then OPEN. The cache answers that GETATTR with a
 * request of its own, so a re-open of an unchanged file cost two. A longer
 * kernel entry_timeout does not help (the GETATTR replaces the LOOKUP; see
 * fo_init). What does: when the GETATTR/LOOKUP of a regular file arrives
 * while its caller is inside open(2) of that very name for reading, that
 * open has already started, so its revalidation may happen now. We call
 * vfs_open here (the one request; the attributes we then report are
 * fresh) and keep the handle for the OPEN that follows from the same
 * thread in the same system call.
 *
 * Knowing "inside open(2) of that name": the kernel names the calling
 * thread (fuse_req.c notes the request's pid); /proc/<tid>/syscall shows
 * the system call it is blocked in with its arguments (number, flags,
 * the path pointer, stack and instruction pointer), and /proc/<tid>/mem
 * the path it passed, whose last component must be this entry's name
 * (not a directory or file on the way to it). The OPEN takes the handle
 * only if the same thread is still in the identical system call (the
 * whole /proc line compares equal), for the same path, read-only, within
 * PO_TTL_MS. Only O_RDONLY without O_CREAT/O_TRUNC/O_PATH/O_DIRECTORY,
 * and only if the caller may read the file by its (fresh) mode, so the
 * kernel's own check that follows will pass: a handle that is not taken
 * (the call failed later, a signal) is released at the next pre-open or
 * take, or at unmount, and did nothing but revalidate. Anything unknown
 * (no note, /proc unreadable without ptrace rights, openat2, io_uring)
 * simply takes the usual path: two requests. Not with -s: reading the
 * caller's memory waits for its mmap lock, which a thread of the caller
 * faulting on a page of this mount may hold until another FUSE thread
 * answers it (with one thread, none would).
 *
 * Threads: any FUSE worker; po_lock guards the slots; vfs calls are made
 * outside it.
 */
#include "fuse_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "azsharefs/log.h"

#define PO_SLOTS 32
#define PO_TTL_MS 1000
#define PO_SIG_MAX 256

struct po_slot {
	pid_t pid; /* 0 = free */
	char *path;
	struct vfs_file *fh;
	int64_t at_ms;
	char sig[PO_SIG_MAX]; /* /proc/<tid>/syscall when it was opened */
};

static pthread_mutex_t po_lock = PTHREAD_MUTEX_INITIALIZER;
static struct po_slot po_slots[PO_SLOTS]; /* po_lock */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* /proc/<pid>/syscall of the caller, NUL-terminated. */
static int read_sig(pid_t pid, char *buf, size_t cap)
{
	char name[64];
	ssize_t n;
	int fd;

	snprintf(name, sizeof(name), "/proc/%d/syscall", (int)pid);
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return 0;
}

/* "nr a0 a1 a2 ..." -> an open/openat for reading: 0 and the path
 * argument's address, else -1. */
static int open_for_reading(const char *sig, unsigned long long *path_addr)
{
	unsigned long long a[6];
	const char *p = sig;
	char *end;
	long nr = strtol(p, &end, 10);
	unsigned long long flags;
	int i, pi;

	if (end == p)
		return -1; /* "running" */
	for (i = 0; i < 6; i++) {
		p = end;
		a[i] = strtoull(p, &end, 16);
		if (end == p)
			return -1;
	}
	if (nr == SYS_openat)
		pi = 1;
#ifdef SYS_open
	else if (nr == SYS_open)
		pi = 0;
#endif
	else
		return -1;
	flags = a[pi + 1];
	if ((flags & O_ACCMODE) != O_RDONLY ||
	    (flags & (O_CREAT | O_TRUNC | O_PATH | O_DIRECTORY)) != 0)
		return -1;
	*path_addr = a[pi];
	return 0;
}

/* Is the last component of the caller's path argument name? */
static int path_arg_names(pid_t pid, unsigned long long addr, const char *name)
{
	char file[64], buf[4097];
	const char *last;
	ssize_t n;
	int fd;

	snprintf(file, sizeof(file), "/proc/%d/mem", (int)pid);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* up to the end of the page first: the next one may be unmapped */
	n = pread(fd, buf, 4096 - (size_t)(addr % 4096), (off_t)addr);
	if (n > 0 && !memchr(buf, '\0', (size_t)n)) {
		ssize_t more = pread(fd, buf + n, sizeof(buf) - 1 - (size_t)n,
				     (off_t)(addr + (unsigned long long)n));

		n = more > 0 ? n + more : n;
	}
	close(fd);
	if (n <= 0 || !memchr(buf, '\0', (size_t)n))
		return 0;
	last = strrchr(buf, '/');
	last = last ? last + 1 : buf;
	return strcmp(last, name) == 0;
}

static const char *base(const char *rel)
{
	const char *slash = strrchr(rel, '/');

	return slash ? slash + 1 : rel;
}

/* The kernel's generic_permission for MAY_READ, on our attributes. */
static int may_read(const struct stat *st)
{
	struct fuse_context *c = fuse_get_context();

	if (c->uid == 0)
		return 1;
	if (c->uid == st->st_uid)
		return (st->st_mode & S_IRUSR) != 0;
	if (fo_in_group(st->st_gid))
		return (st->st_mode & S_IRGRP) != 0;
	return (st->st_mode & S_IROTH) != 0;
}

/* po_lock held: empties slot s; its handle goes to *out for release. */
static void slot_clear(struct po_slot *s, struct vfs_file **out)
{
	*out = s->fh;
	free(s->path);
	memset(s, 0, sizeof(*s));
}

static void stash(pid_t pid, const char *rel, const char *sig, struct vfs_file *fh)
{
	struct vfs_file *drop[PO_SLOTS + 1];
	struct po_slot *use = NULL;
	int64_t now = now_ms();
	int nd = 0;
	char *path = strdup(rel);

	pthread_mutex_lock(&po_lock);
	for (int i = 0; i < PO_SLOTS; i++) {
		struct po_slot *s = &po_slots[i];

		if (s->pid && (s->pid == pid || now - s->at_ms > PO_TTL_MS))
			slot_clear(s, &drop[nd++]);
	}
	for (int i = 0; i < PO_SLOTS; i++) {
		struct po_slot *s = &po_slots[i];

		if (!s->pid) {
			use = s;
			break;
		}
		if (!use || s->at_ms < use->at_ms)
			use = s; /* all taken: the oldest goes */
	}
	if (use->pid)
		slot_clear(use, &drop[nd++]);
	if (path) {
		use->pid = pid;
		use->path = path;
		use->fh = fh;
		use->at_ms = now;
		snprintf(use->sig, sizeof(use->sig), "%s", sig);
		path = NULL;
		fh = NULL;
	}
	pthread_mutex_unlock(&po_lock);
	free(path);
	if (fh)
		drop[nd++] = fh;
	for (int i = 0; i < nd; i++)
		vfs_release(fo_ctx()->v, drop[i]);
}

void fo_preopen(const char *rel)
{
	struct fo_ctx *x = fo_ctx();
	struct vfs_file *fh = NULL;
	unsigned long long addr;
	char sig[PO_SIG_MAX];
	struct az_stat a;
	struct stat st;
	uint32_t op;
	pid_t pid;

	if (x->single_thread || !*rel || fo_req_current(&op, &pid) != 0 || pid <= 0 ||
	    (op != FUSE_GETATTR && op != FUSE_LOOKUP))
		return;
	if (read_sig(pid, sig, sizeof(sig)) != 0 || open_for_reading(sig, &addr) != 0 ||
	    !path_arg_names(pid, addr, base(rel)))
		return;
	if (vfs_open(x->v, rel, O_RDONLY, &fh) != 0)
		return; /* a directory, gone, ...: getattr tells the kernel */
	if (vfs_getattr(x->v, rel, &a) == 0) {
		fo_fill_stat(x, rel, &a, &st);
		if (S_ISREG(st.st_mode) && may_read(&st)) {
			stash(pid, rel, sig, fh);
			return;
		}
	}
	vfs_release(x->v, fh);
}

struct vfs_file *fo_preopen_take(const char *rel, int flags)
{
	struct vfs_file *fh = NULL;
	struct po_slot got;
	char sig[PO_SIG_MAX];
	uint32_t op;
	pid_t pid;
	int i, ok;

	if (fo_req_current(&op, &pid) != 0 || op != FUSE_OPEN || pid <= 0)
		return NULL;
	pthread_mutex_lock(&po_lock);
	for (i = 0; i < PO_SLOTS && po_slots[i].pid != pid; i++)
		;
	if (i < PO_SLOTS) {
		got = po_slots[i];
		po_slots[i].path = NULL;
		slot_clear(&po_slots[i], &fh);
	}
	pthread_mutex_unlock(&po_lock);
	if (!fh)
		return NULL;
	ok = strcmp(got.path, rel) == 0 && (flags & (O_ACCMODE | O_TRUNC)) == O_RDONLY &&
	     now_ms() - got.at_ms <= PO_TTL_MS && read_sig(pid, sig, sizeof(sig)) == 0 &&
	     strcmp(sig, got.sig) == 0;
	free(got.path);
	if (ok)
		return fh;
	vfs_release(fo_ctx()->v, fh);
	return NULL;
}

void fo_preopen_clear(struct vfs *v)
{
	struct vfs_file *drop[PO_SLOTS];
	int nd = 0;

	pthread_mutex_lock(&po_lock);
	for (int i = 0; i < PO_SLOTS; i++)
		if (po_slots[i].pid)
			slot_clear(&po_slots[i], &drop[nd++]);
	pthread_mutex_unlock(&po_lock);
	for (int i = 0; i < nd; i++)
		vfs_release(v, drop[i]);
}
