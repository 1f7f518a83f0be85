/* test_mount_backend.c: fs/backend.c over an in-memory fake of the REST
 * client. The az_* functions below replace the real client at link time
 * (this file defines every one backend.c and perm.c use, so the client's
 * objects are never pulled in), count calls per operation and keep files,
 * directories and permissions in memory. Checks the upload strategy
 * (request counts, temp name hidden and removed, zero ranges skipped), the
 * symlink format, owners on create/list/setattr, rename rules and statfs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azsharefs/client.h"
#include "azsharefs/log.h"
#include "backend.h"
#include "perm.h"

/* ---- the fake share ---- */
#define MAXE 64
struct fentry {
	char path[512];
	int is_dir;
	unsigned char *data;
	uint64_t size;
	char key[AZ_PERMKEY_MAX];
	struct timespec mtime;
	int etag;
};

enum op {
	CREATE,
	HEAD,
	READ,
	DOWNLOAD,
	PUT,
	SETPROPS,
	DELETE,
	MKDIR,
	RMDIR,
	DIRSET,
	LIST,
	RENAME,
	SHARE,
	USAGE,
	PCREATE,
	PGET,
	NOPS
};

static struct {
	struct fentry e[MAXE];
	char *sddl[32];
	int nsddl;
	int calls[NOPS];
	int fail_op; /* op index + 1 to fail once with fail_rc */
	int fail_rc;
	int fail_after; /* let this many calls of fail_op pass first */
	int etag_seq;
	int rename_touches_mtime; /* a rename sets the last-write time to now */
	int inline_sddl;	  /* requests that carried x-ms-file-permission */
} F;

static int hit(enum op o)
{
	F.calls[o]++;
	if (F.fail_op == (int)o + 1) {
		if (F.fail_after > 0) {
			F.fail_after--;
			return 0;
		}
		F.fail_op = 0;
		return F.fail_rc;
	}
	return 0;
}

static struct fentry *find(const char *path)
{
	for (int i = 0; i < MAXE; i++)
		if (F.e[i].path[0] && strcmp(F.e[i].path, path) == 0)
			return &F.e[i];
	return NULL;
}

static int parent_ok(const char *path)
{
	char dir[512];
	const char *slash = strrchr(path, '/');
	struct fentry *p;

	if (!slash)
		return 1;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	p = find(dir);
	return p && p->is_dir;
}

static struct fentry *add(const char *path, int is_dir)
{
	for (int i = 0; i < MAXE; i++) {
		if (!F.e[i].path[0]) {
			memset(&F.e[i], 0, sizeof(F.e[i]));
			snprintf(F.e[i].path, sizeof(F.e[i].path), "%s", path);
			F.e[i].is_dir = is_dir;
			F.e[i].etag = ++F.etag_seq;
			return &F.e[i];
		}
	}
	fail_msg("fake share full");
	return NULL;
}

static void drop(struct fentry *e)
{
	free(e->data);
	memset(e, 0, sizeof(*e));
}

static void fill(const struct fentry *e, struct az_stat *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	out->is_dir = e->is_dir;
	out->size = e->size;
	out->mtime = e->mtime;
	snprintf(out->etag, sizeof(out->etag), "\"0x%d\"", e->etag);
	snprintf(out->perm_key, sizeof(out->perm_key), "%s", e->key);
	out->file_id = (uint64_t)(e - F.e) + 100;
}

/* The share's permission store: one key per distinct SDDL. */
static int sddl_key(const char *sddl, char key[AZ_PERMKEY_MAX])
{
	int i;

	for (i = 0; i < F.nsddl && strcmp(F.sddl[i], sddl) != 0; i++)
		;
	if (i == F.nsddl) {
		assert_true(F.nsddl < 32);
		F.sddl[F.nsddl++] = strdup(sddl);
	}
	return snprintf(key, AZ_PERMKEY_MAX, "key%d", i) > 0 ? 0 : -EIO;
}

static void apply_smb(struct fentry *e, const struct az_smb *smb)
{
	if (!smb)
		return;
	if (smb->perm_key)
		snprintf(e->key, sizeof(e->key), "%s", smb->perm_key);
	if (smb->perm_sddl) {
		assert_null(smb->perm_key);
		F.inline_sddl++;
		sddl_key(smb->perm_sddl, e->key);
	}
	if (smb->set_mtime)
		e->mtime = smb->mtime;
}

static void reset_fake(void)
{
	for (int i = 0; i < MAXE; i++)
		if (F.e[i].path[0])
			drop(&F.e[i]);
	for (int i = 0; i < F.nsddl; i++)
		free(F.sddl[i]);
	memset(&F, 0, sizeof(F));
}

int az_file_create(struct az_client *c, const char *path, uint64_t size, const void *body,
		   size_t body_len, const struct az_smb *smb, const char *lease_id,
		   struct az_stat *out)
{
	struct fentry *e;
	int rc = hit(CREATE);

	if (rc)
		return rc;
	assert_true(body_len == 0 || (body_len == size && body_len <= AZ_MAX_RANGE));
	if (!parent_ok(path))
		return -ENOENT;
	e = find(path);
	if (e && e->is_dir)
		return -EEXIST;
	if (!e)
		e = add(path, 0);
	free(e->data);
	e->data = calloc(1, size ? size : 1);
	e->size = size;
	if (body_len)
		memcpy(e->data, body, body_len);
	clock_gettime(CLOCK_REALTIME, &e->mtime);
	e->etag = ++F.etag_seq;
	apply_smb(e, smb);
	fill(e, out);
	return 0;
}

static int head(const char *path, int is_dir, struct az_stat *out)
{
	struct fentry *e = find(path);
	int rc = hit(HEAD);

	if (rc)
		return rc;
	if (*path == '\0' && is_dir) {
		memset(out, 0, sizeof(*out));
		out->is_dir = 1;
		return 0;
	}
	if (!e || e->is_dir != is_dir)
		return -ENOENT;
	fill(e, out);
	return 0;
}

int az_file_get_props(struct az_client *c, const char *path, struct az_stat *out)
{
	return head(path, 0, out);
}

int az_dir_get_props(struct az_client *c, const char *path, struct az_stat *out)
{
	return head(path, 1, out);
}

int az_file_read(struct az_client *c, const char *path, uint64_t off, size_t len, void *buf,
		 size_t *got, struct az_stat *out)
{
	struct fentry *e = find(path);
	int rc = hit(READ);

	*got = 0;
	if (rc)
		return rc;
	if (!e || e->is_dir)
		return -ENOENT;
	if (off < e->size) {
		*got = e->size - off < len ? (size_t)(e->size - off) : len;
		memcpy(buf, e->data + off, *got);
	}
	fill(e, out);
	return 0;
}

int az_file_download(struct az_client *c, const char *path, int fd, struct az_stat *out)
{
	struct fentry *e = find(path);
	int rc = hit(DOWNLOAD);

	if (rc)
		return rc;
	if (!e || e->is_dir)
		return -ENOENT;
	assert_int_equal(pwrite(fd, e->data, e->size, 0), (ssize_t)e->size);
	assert_int_equal(ftruncate(fd, (off_t)e->size), 0);
	fill(e, out);
	return 0;
}

/* Put Range runs on several threads at once (parallel upload). */
static pthread_mutex_t put_lock = PTHREAD_MUTEX_INITIALIZER;

static int put_locked(const char *path, uint64_t off, const void *buf, size_t len, unsigned flags,
		      struct az_stat *out);

int az_file_put_range_ex(struct az_client *c, const char *path, uint64_t off, const void *buf,
			 size_t len, const char *lease_id, unsigned flags, struct az_stat *out)
{
	int rc;

	pthread_mutex_lock(&put_lock);
	rc = put_locked(path, off, buf, len, flags, out);
	pthread_mutex_unlock(&put_lock);
	return rc;
}

static int put_locked(const char *path, uint64_t off, const void *buf, size_t len, unsigned flags,
		      struct az_stat *out)
{
	struct fentry *e = find(path);
	int rc = hit(PUT);

	if (rc)
		return rc;
	assert_true(len > 0 && len <= AZ_MAX_RANGE);
	if (!e || e->is_dir)
		return -ENOENT;
	if (off + len > e->size)
		return -EINVAL; /* InvalidRange */
	memcpy(e->data + off, buf, len);
	e->etag = ++F.etag_seq;
	if (!(flags & AZ_PUT_KEEP_MTIME))
		clock_gettime(CLOCK_REALTIME, &e->mtime);
	if (out) { /* the reply: ETag and last-write time only */
		snprintf(out->etag, sizeof(out->etag), "\"0x%d\"", e->etag);
		out->mtime = e->mtime;
	}
	return 0;
}

int az_file_put_range(struct az_client *c, const char *path, uint64_t off, const void *buf,
		      size_t len, const char *lease_id, struct az_stat *out)
{
	return az_file_put_range_ex(c, path, off, buf, len, lease_id, 0, out);
}

int az_file_set_props(struct az_client *c, const char *path, int64_t size, const struct az_smb *smb,
		      const char *lease_id, struct az_stat *out)
{
	struct fentry *e = find(path);
	int rc = hit(SETPROPS);

	if (rc)
		return rc;
	if (!e || e->is_dir)
		return -ENOENT;
	if (size >= 0) {
		unsigned char *d = realloc(e->data, (size_t)size + 1);

		if ((uint64_t)size > e->size)
			memset(d + e->size, 0, (size_t)size - e->size);
		e->data = d;
		e->size = (uint64_t)size;
	}
	apply_smb(e, smb);
	e->etag = ++F.etag_seq;
	if (out) { /* the reply has no size: the caller's stays */
		uint64_t known = out->size;

		fill(e, out);
		out->size = size >= 0 ? (uint64_t)size : known;
	}
	return 0;
}

int az_file_delete(struct az_client *c, const char *path, const char *lease_id)
{
	struct fentry *e = find(path);
	int rc = hit(DELETE);

	if (rc)
		return rc;
	if (!e || e->is_dir)
		return -ENOENT;
	drop(e);
	return 0;
}

int az_dir_create(struct az_client *c, const char *path, const struct az_smb *smb,
		  struct az_stat *out)
{
	struct fentry *e;
	int rc = hit(MKDIR);

	if (rc)
		return rc;
	if (!parent_ok(path))
		return -ENOENT;
	if (find(path))
		return -EEXIST;
	e = add(path, 1);
	apply_smb(e, smb);
	fill(e, out);
	return 0;
}

static int has_children(const char *path)
{
	size_t n = strlen(path);

	for (int i = 0; i < MAXE; i++)
		if (F.e[i].path[0] && strncmp(F.e[i].path, path, n) == 0 && F.e[i].path[n] == '/')
			return 1;
	return 0;
}

int az_dir_delete(struct az_client *c, const char *path)
{
	struct fentry *e = find(path);
	int rc = hit(RMDIR);

	if (rc)
		return rc;
	if (!e || !e->is_dir)
		return -ENOENT;
	if (has_children(path))
		return -ENOTEMPTY;
	drop(e);
	return 0;
}

int az_dir_set_props(struct az_client *c, const char *path, const struct az_smb *smb,
		     struct az_stat *out)
{
	struct fentry *e = find(path);
	int rc = hit(DIRSET);

	if (rc)
		return rc;
	if (!e || !e->is_dir)
		return -ENOENT;
	apply_smb(e, smb);
	fill(e, out);
	return 0;
}

int az_dir_list(struct az_client *c, const char *path, const char *prefix, int max_per_page,
		az_list_cb cb, void *arg)
{
	size_t n = strlen(path);
	int rc = hit(LIST);

	if (rc)
		return rc;
	for (int i = 0; i < MAXE && rc == 0; i++) {
		const char *p = F.e[i].path;
		const char *name = n ? p + n + 1 : p;
		struct az_stat st;

		if (!p[0] || (n && (strncmp(p, path, n) != 0 || p[n] != '/')) || strchr(name, '/'))
			continue;
		fill(&F.e[i], &st);
		rc = cb(arg, name, &st);
	}
	return rc;
}

int az_rename_ex(struct az_client *c, const char *src, const char *dst, int is_dir, int replace,
		 const char *src_lease, const char *dst_lease, struct az_stat *out)
{
	struct fentry *s = find(src), *d = find(dst);
	int rc = hit(RENAME);

	if (rc)
		return rc;
	if (!s || s->is_dir != is_dir)
		return -ENOENT;
	if (d && (!replace || d->is_dir))
		return -EEXIST;
	if (d)
		drop(d);
	snprintf(s->path, sizeof(s->path), "%s", dst);
	s->etag = ++F.etag_seq;
	if (F.rename_touches_mtime)
		clock_gettime(CLOCK_REALTIME, &s->mtime);
	if (out) { /* the reply has no size: the caller's stays */
		uint64_t known = out->size;

		fill(s, out);
		out->size = is_dir ? 0 : known;
	}
	return 0;
}

int az_rename(struct az_client *c, const char *src, const char *dst, int is_dir, int replace,
	      const char *src_lease, const char *dst_lease)
{
	return az_rename_ex(c, src, dst, is_dir, replace, src_lease, dst_lease, NULL);
}

int az_share_get_props(struct az_client *c, struct az_share_props *out)
{
	int rc = hit(SHARE);

	memset(out, 0, sizeof(*out));
	out->quota_gib = 100;
	return rc;
}

int az_share_get_usage(struct az_client *c, uint64_t *usage_bytes)
{
	int rc = hit(USAGE);

	*usage_bytes = 5ull << 30;
	return rc;
}

int az_perm_create(struct az_client *c, const char *sddl, char key[AZ_PERMKEY_MAX])
{
	int rc = hit(PCREATE);

	return rc ? rc : sddl_key(sddl, key);
}

int az_perm_get(struct az_client *c, const char *key, char **sddl_out)
{
	int rc = hit(PGET);
	int i;

	if (rc)
		return rc;
	if (sscanf(key, "key%d", &i) != 1 || i < 0 || i >= F.nsddl)
		return -ENOENT;
	*sddl_out = strdup(F.sddl[i]);
	return 0;
}

/* ---- fixture ---- */

struct fx {
	struct perm_map *pm;
	struct azb *b;
	struct vfs_backend be;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct perm_ops ops;
	struct azb_opts o = {.put_threads = 3,
			     .statfs_ttl_ms = 60000,
			     .default_uid = 7,
			     .default_gid = 8,
			     .default_file_mode = 0640,
			     .default_dir_mode = 0750};

	reset_fake();
	perm_client_ops((struct az_client *)&F, &ops);
	assert_int_equal(perm_init(&x->pm, &ops, NULL, NULL), 0);
	assert_int_equal(azb_init(&x->b, (struct az_client *)&F, x->pm, &o), 0);
	azb_ops(x->b, &x->be);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	azb_free(x->b);
	perm_free(x->pm);
	free(x);
	reset_fake();
	return 0;
}

static int total_calls(void)
{
	int n = 0;

	for (int i = 0; i < NOPS; i++)
		n += F.calls[i];
	return n;
}

static int tmpfd_with(const void *data, size_t len)
{
	char path[] = "/tmp/azsf-be-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	if (len)
		assert_int_equal(pwrite(fd, data, len, 0), (ssize_t)len);
	return fd;
}

static struct vfs_want full_want(uid_t u, gid_t g, mode_t m)
{
	struct vfs_want w;

	memset(&w, 0, sizeof(w));
	w.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID | VFS_SET_MTIME;
	w.uid = u;
	w.gid = g;
	w.mode = m;
	w.mtime.tv_sec = 1700000000;
	w.mtime.tv_nsec = 123456700;
	return w;
}

/* ---- tests ---- */

static void test_upload_small(void **state)
{
	struct fx *x = *state;
	char data[1000];
	struct vfs_want w = full_want(1000, 1000, S_IFREG | 0644);
	struct az_stat st;
	int fd;

	memset(data, 'a', sizeof(data));
	fd = tmpfd_with(data, sizeof(data));
	/* a new owner: the SDDL rides inline, no Create Permission */
	assert_int_equal(x->be.upload(x->b, "nb.ipynb", fd, sizeof(data), &w, &st), 0);
	assert_int_equal(F.calls[PCREATE], 0);
	assert_int_equal(F.calls[CREATE], 1);
	assert_int_equal(F.inline_sddl, 1);
	assert_int_equal(total_calls(), 1);
	assert_string_equal(st.perm_key, find("nb.ipynb")->key);
	assert_int_equal(st.size, sizeof(data));
	assert_int_equal(st.has_owner, 1);
	assert_int_equal(st.uid, 1000);
	assert_int_equal(st.mode, S_IFREG | 0644);
	struct fentry *e = find("nb.ipynb");
	assert_non_null(e);
	assert_memory_equal(e->data, data, sizeof(data));
	assert_int_equal(e->mtime.tv_sec, 1700000000);
	assert_int_equal(e->mtime.tv_nsec, 123456700);

	/* the same owner again: one request, the key the reply taught */
	assert_int_equal(x->be.upload(x->b, "nb.ipynb", fd, 10, &w, &st), 0);
	assert_int_equal(total_calls(), 2);
	assert_int_equal(F.inline_sddl, 1);
	assert_int_equal(find("nb.ipynb")->size, 10);
	/* empty file: still one create */
	assert_int_equal(x->be.upload(x->b, "empty", fd, 0, &w, &st), 0);
	assert_int_equal(F.calls[CREATE], 3);
	assert_int_equal(find("empty")->size, 0);
	close(fd);
}

static void test_upload_4mib_is_one_request(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = full_want(1, 1, S_IFREG | 0600);
	struct az_stat st;
	char *data = malloc(AZ_MAX_RANGE);
	int fd;

	memset(data, 'q', AZ_MAX_RANGE);
	fd = tmpfd_with(data, AZ_MAX_RANGE);
	assert_int_equal(x->be.upload(x->b, "four", fd, AZ_MAX_RANGE, &w, &st), 0);
	assert_int_equal(F.calls[CREATE], 1);
	assert_int_equal(F.calls[PUT], 0);
	assert_int_equal(F.calls[RENAME], 0);
	close(fd);
	free(data);
}

static int count_temps(void)
{
	int n = 0;

	for (int i = 0; i < MAXE; i++)
		if (F.e[i].path[0] && strstr(F.e[i].path, AZB_TEMP_PREFIX))
			n++;
	return n;
}

static void test_upload_large(void **state)
{
	struct fx *x = *state;
	const size_t size = 2 * AZ_MAX_RANGE + AZ_MAX_RANGE + 100; /* 4 pieces */
	unsigned char *data = calloc(1, size);
	struct vfs_want w = full_want(1000, 100, S_IFREG | 0644);
	struct az_stat st;
	int fd;

	assert_int_equal(x->be.mkdir(x->b, "d", &w, &st), 0);
	for (size_t i = 0; i < size; i++)
		if (i < AZ_MAX_RANGE || i >= 2 * AZ_MAX_RANGE) /* piece 2 stays zero */
			data[i] = (unsigned char)(i * 7 + 3);
	fd = tmpfd_with(data, size);
	memset(F.calls, 0, sizeof(F.calls));
	assert_int_equal(x->be.upload(x->b, "d/big.bin", fd, size, &w, &st), 0);
	assert_int_equal(F.calls[CREATE], 1);
	assert_int_equal(F.calls[PUT], 3); /* the zero piece is skipped */
	assert_int_equal(F.calls[RENAME], 1);
	assert_int_equal(F.calls[HEAD], 0); /* the rename's reply describes the result */
	assert_int_equal(F.calls[SETPROPS], 0);
	assert_int_equal(count_temps(), 0);
	struct fentry *e = find("d/big.bin");
	assert_non_null(e);
	assert_int_equal(e->size, size);
	assert_memory_equal(e->data, data, size);
	assert_int_equal(e->mtime.tv_sec, 1700000000); /* ranges kept the create's mtime */
	assert_int_equal(st.size, size);
	assert_int_equal(st.has_owner, 1);
	assert_int_equal(st.gid, 100);
	assert_int_equal(st.mtime.tv_sec, 1700000000);
	assert_int_equal(st.mtime.tv_nsec, 123456700);
	{
		struct az_stat head_st;

		assert_int_equal(az_file_get_props(NULL, "d/big.bin", &head_st), 0);
		assert_string_equal(st.etag, head_st.etag);
		assert_true(st.file_id == head_st.file_id);
	}
	/* times compare in the share's 100 ns ticks */
	memset(F.calls, 0, sizeof(F.calls));
	w.mtime.tv_nsec = 123456799;
	assert_int_equal(x->be.upload(x->b, "d/big.bin", fd, size, &w, &st), 0);
	assert_int_equal(F.calls[HEAD] + F.calls[SETPROPS], 0);
	/* a share whose rename moves the last-write time: one Set File
	 * Properties puts it back, still no HEAD */
	F.rename_touches_mtime = 1;
	memset(F.calls, 0, sizeof(F.calls));
	assert_int_equal(x->be.upload(x->b, "d/big.bin", fd, size, &w, &st), 0);
	assert_int_equal(F.calls[SETPROPS], 1);
	assert_int_equal(F.calls[HEAD], 0);
	assert_int_equal(st.size, size);
	assert_int_equal(st.mtime.tv_sec, 1700000000);
	assert_int_equal(find("d/big.bin")->mtime.tv_sec, 1700000000);
	close(fd);
	free(data);
}

static void test_upload_large_failure_leaves_target(void **state)
{
	struct fx *x = *state;
	const size_t size = 3 * AZ_MAX_RANGE;
	unsigned char *data = malloc(size);
	struct vfs_want w = full_want(1000, 100, S_IFREG | 0644);
	struct az_stat st;
	int fd;

	memset(data, 0x5a, size);
	fd = tmpfd_with(data, size);
	assert_int_equal(x->be.upload(x->b, "keep.bin", fd, 5, &w, &st), 0);
	F.fail_op = PUT + 1;
	F.fail_rc = -EIO;
	F.fail_after = 1;
	assert_int_equal(x->be.upload(x->b, "keep.bin", fd, size, &w, &st), -EIO);
	assert_int_equal(count_temps(), 0);
	assert_int_equal(find("keep.bin")->size, 5); /* the old version is intact */
	F.fail_op = RENAME + 1;
	F.fail_rc = -EIO;
	assert_int_equal(x->be.upload(x->b, "keep.bin", fd, size, &w, &st), -EIO);
	assert_int_equal(count_temps(), 0);
	assert_int_equal(find("keep.bin")->size, 5);
	/* and a good attempt replaces it */
	assert_int_equal(x->be.upload(x->b, "keep.bin", fd, size, &w, &st), 0);
	assert_int_equal(find("keep.bin")->size, size);
	close(fd);
	free(data);
}

struct seen {
	char names[16][64];
	struct az_stat st[16];
	int n;
};

static int collect(void *arg, const char *name, const struct az_stat *st)
{
	struct seen *s = arg;

	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
	s->st[s->n++] = *st;
	return 0;
}

static int seen_index(struct seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return i;
	return -1;
}

static void test_list(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = full_want(1000, 100, S_IFREG | 0600);
	struct az_stat st;
	struct seen s = {.n = 0};
	char key[AZ_PERMKEY_MAX];

	assert_int_equal(x->be.create(x->b, "mine", &w, &st), 0);
	assert_int_equal(x->be.mkdir(x->b, "sub", &w, &st), 0);
	add(".azsf~0123456789abcdef", 0);
	/* a file written over SMB by someone else */
	assert_int_equal(az_perm_create(NULL, "O:BAG:SYD:(A;;FA;;;SY)", key), 0);
	snprintf(add("windows.txt", 0)->key, AZ_PERMKEY_MAX, "%s", key);
	/* a file another azsharefs node wrote, key unknown here */
	char sddl[256];
	perm_sddl_format(2000, 2000, S_IFREG | 0644, sddl, sizeof(sddl));
	assert_int_equal(az_perm_create(NULL, sddl, key), 0);
	snprintf(add("theirs", 0)->key, AZ_PERMKEY_MAX, "%s", key);
	memset(F.calls, 0, sizeof(F.calls));

	assert_int_equal(x->be.list(x->b, "", collect, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(seen_index(&s, ".azsf~0123456789abcdef"), -1);
	int i = seen_index(&s, "mine");
	assert_true(i >= 0);
	assert_int_equal(s.st[i].has_owner, 1);
	assert_int_equal(s.st[i].uid, 1000);
	assert_int_equal(s.st[i].mode, S_IFREG | 0600);
	i = seen_index(&s, "sub");
	assert_int_equal(s.st[i].mode, S_IFDIR | 0600);
	i = seen_index(&s, "windows.txt");
	assert_int_equal(s.st[i].has_owner, 0);
	i = seen_index(&s, "theirs");
	assert_int_equal(s.st[i].has_owner, 1);
	assert_int_equal(s.st[i].uid, 2000);
	/* one listing, one Get Permission per unknown key, none for ours */
	assert_int_equal(F.calls[LIST], 1);
	assert_int_equal(F.calls[PGET], 2);
	s.n = 0;
	assert_int_equal(x->be.list(x->b, "", collect, &s), 0);
	assert_int_equal(F.calls[PGET], 2);
	/* a failing Get Permission fails the listing (no wrong owners) */
	add("third", 0);
	perm_sddl_format(3000, 3000, S_IFREG | 0644, sddl, sizeof(sddl));
	assert_int_equal(az_perm_create(NULL, sddl, key), 0);
	snprintf(find("third")->key, AZ_PERMKEY_MAX, "%s", key);
	F.fail_op = PGET + 1;
	F.fail_rc = -EIO;
	s.n = 0;
	assert_int_equal(x->be.list(x->b, "", collect, &s), -EIO);
}

static void test_stat(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = full_want(5, 6, S_IFREG | 0644);
	struct az_stat st;

	assert_int_equal(x->be.create(x->b, "f", &w, &st), 0);
	assert_int_equal(x->be.mkdir(x->b, "d", &w, &st), 0);
	memset(F.calls, 0, sizeof(F.calls));
	assert_int_equal(x->be.stat(x->b, "f", &st), 0);
	assert_int_equal(F.calls[HEAD], 1);
	assert_int_equal(st.is_dir, 0);
	assert_int_equal(st.uid, 5);
	assert_int_equal(x->be.stat(x->b, "d", &st), 0);
	assert_int_equal(st.is_dir, 1);
	assert_int_equal(st.mode, S_IFDIR | 0644);
	assert_int_equal(x->be.stat(x->b, "", &st), 0);
	assert_int_equal(st.is_dir, 1);
	assert_int_equal(x->be.stat(x->b, "nope", &st), -ENOENT);
	F.fail_op = HEAD + 1;
	F.fail_rc = -ETIMEDOUT;
	assert_int_equal(x->be.stat(x->b, "f", &st), -ETIMEDOUT);
}

static void test_symlink_format(void **state)
{
	char body[AZB_SYMLINK_SIZE];
	char buf[2048];
	char target[1100];

	(void)state;
	assert_int_equal(azb_symlink_format("abc", body), 0);
	/* md5("abc") = 900150983cd24fb0d6963f7d28e17f72 (RFC 1321 test suite) */
	assert_memory_equal(body, "XSym\n0003\n900150983cd24fb0d6963f7d28e17f72\nabc\n", 47);
	for (int i = 47; i < AZB_SYMLINK_SIZE; i++)
		assert_int_equal(body[i], ' ');
	assert_int_equal(azb_symlink_parse(body, sizeof(body), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(azb_symlink_parse(body, sizeof(body), buf, 3), 0);
	assert_string_equal(buf, "ab"); /* truncated like readlink(2) */
	body[20] ^= 1;			/* damaged checksum */
	assert_int_equal(azb_symlink_parse(body, sizeof(body), buf, sizeof(buf)), -EINVAL);
	assert_int_equal(azb_symlink_format("abc", body), 0);
	assert_int_equal(azb_symlink_parse(body, sizeof(body) - 1, buf, sizeof(buf)), -EINVAL);
	body[7] = 'x';
	assert_int_equal(azb_symlink_parse(body, sizeof(body), buf, sizeof(buf)), -EINVAL);

	memset(target, 'p', 1024);
	target[1024] = '\0';
	assert_int_equal(azb_symlink_format(target, body), 0);
	assert_memory_equal(body + 43, target, 1024); /* fills the file, no newline */
	assert_int_equal(azb_symlink_parse(body, sizeof(body), buf, sizeof(buf)), 0);
	assert_string_equal(buf, target);
	target[1024] = 'p';
	target[1025] = '\0';
	assert_int_equal(azb_symlink_format(target, body), -ENAMETOOLONG);
	assert_int_equal(azb_symlink_format("", body), -EINVAL);
	memset(body, ' ', sizeof(body));
	assert_int_equal(azb_symlink_parse(body, sizeof(body), buf, sizeof(buf)), -EINVAL);
}

static void test_symlink_ops(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = full_want(1000, 1000, 0);
	struct az_stat st;
	struct seen s = {.n = 0};
	char buf[256];

	assert_int_equal(x->be.symlink(x->b, "link", "../some/where target", &w, &st), 0);
	assert_int_equal(st.mode, S_IFLNK | 0777);
	assert_int_equal(st.uid, 1000);
	assert_int_equal(find("link")->size, AZB_SYMLINK_SIZE);
	assert_int_equal(x->be.readlink(x->b, "link", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "../some/where target");
	assert_int_equal(x->be.list(x->b, "", collect, &s), 0);
	assert_int_equal(s.st[seen_index(&s, "link")].mode, S_IFLNK | 0777);
	/* a plain file is not a link */
	w = full_want(1, 1, S_IFREG | 0644);
	assert_int_equal(x->be.create(x->b, "plain", &w, &st), 0);
	assert_int_equal(x->be.readlink(x->b, "plain", buf, sizeof(buf)), -EINVAL);
}

static void test_setattr(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = full_want(1000, 100, S_IFREG | 0644);
	struct vfs_want c;
	struct az_stat st;

	assert_int_equal(x->be.create(x->b, "f", &w, &st), 0);
	assert_int_equal(x->be.mkdir(x->b, "d", &w, &st), 0);
	find("f")->size = 77; /* as if written */
	/* chmod alone: the owner is kept; the HEAD that learns it also gives
	 * the size the reply lacks */
	memset(&c, 0, sizeof(c));
	c.mask = VFS_SET_MODE;
	c.mode = 0600;
	memset(F.calls, 0, sizeof(F.calls));
	assert_int_equal(x->be.setattr(x->b, "f", 0, &c, &st), 0);
	assert_int_equal(F.calls[SETPROPS], 1);
	assert_int_equal(F.calls[HEAD], 1);
	assert_int_equal(st.size, 77);
	assert_string_not_equal(st.etag, "");
	assert_int_equal(st.uid, 1000);
	assert_int_equal(st.gid, 100);
	assert_int_equal(st.mode, S_IFREG | 0600);
	/* with the size and mtime the caller knows: one request */
	memset(F.calls, 0, sizeof(F.calls));
	c.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID | VFS_KNOWN_SIZE;
	c.mode = 0644;
	c.uid = 1000;
	c.gid = 100;
	c.size = 77;
	c.mtime = find("f")->mtime;
	assert_int_equal(x->be.setattr(x->b, "f", 0, &c, &st), 0);
	assert_int_equal(total_calls(), 1);
	assert_int_equal(F.calls[SETPROPS], 1);
	assert_int_equal(st.size, 77);
	assert_int_equal(st.mode, S_IFREG | 0644);
	{
		struct az_stat h;

		assert_int_equal(az_file_get_props(NULL, "f", &h), 0);
		assert_string_equal(st.etag, h.etag);
		assert_string_equal(st.perm_key, h.perm_key);
	}
	/* written elsewhere meanwhile (the reply's mtime is not the known one):
	 * the share is asked, and the version is reported unknown */
	find("f")->size = 99;
	find("f")->mtime.tv_sec += 10;
	memset(F.calls, 0, sizeof(F.calls));
	assert_int_equal(x->be.setattr(x->b, "f", 0, &c, &st), 0);
	assert_int_equal(F.calls[SETPROPS], 1);
	assert_int_equal(F.calls[HEAD], 1);
	assert_int_equal(st.size, 99);
	assert_string_equal(st.etag, "");
	assert_int_equal(st.mode, S_IFREG | 0644);
	/* utimens with a known size: one request (no mtime to compare) */
	memset(F.calls, 0, sizeof(F.calls));
	c.mask = VFS_SET_MTIME | VFS_KNOWN_SIZE;
	c.size = 99;
	c.mtime.tv_sec = 1500000000;
	assert_int_equal(x->be.setattr(x->b, "f", 0, &c, &st), 0);
	assert_int_equal(total_calls(), 1);
	assert_int_equal(st.size, 99);
	assert_int_equal(st.mtime.tv_sec, 1500000000);
	assert_int_equal(st.uid, 1000);
	/* a mode never used before: still one request, the SDDL inline */
	memset(F.calls, 0, sizeof(F.calls));
	c.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID | VFS_KNOWN_SIZE;
	c.mode = 0604;
	c.mtime = find("f")->mtime;
	assert_int_equal(x->be.setattr(x->b, "f", 0, &c, &st), 0);
	assert_int_equal(total_calls(), 1);
	assert_int_equal(st.mode, S_IFREG | 0604);
	assert_string_equal(st.perm_key, find("f")->key);
	assert_int_equal(x->be.stat(x->b, "f", &st), 0); /* the key is known now */
	assert_int_equal(F.calls[PGET], 0);
	assert_int_equal(st.mode, S_IFREG | 0604);
	c.mask = VFS_SET_MODE;
	c.mode = 0600;
	assert_int_equal(x->be.setattr(x->b, "f", 0, &c, &st), 0);
	assert_int_equal(x->be.stat(x->b, "f", &st), 0);
	assert_int_equal(st.mode, S_IFREG | 0600);
	/* chown of a directory goes through Set Directory Properties */
	c.mask = VFS_SET_UID | VFS_SET_GID;
	c.uid = 2000;
	c.gid = 200;
	assert_int_equal(x->be.setattr(x->b, "d", 1, &c, &st), 0);
	assert_int_equal(F.calls[DIRSET], 1);
	assert_int_equal(x->be.stat(x->b, "d", &st), 0);
	assert_int_equal(st.uid, 2000);
	assert_int_equal(st.mode, S_IFDIR | 0644);
	/* utimens alone: no permission work */
	int pc = F.calls[PCREATE];
	c.mask = VFS_SET_MTIME;
	c.mtime.tv_sec = 1600000000;
	c.mtime.tv_nsec = 0;
	assert_int_equal(x->be.setattr(x->b, "f", 0, &c, &st), 0);
	assert_int_equal(F.calls[PCREATE], pc);
	assert_int_equal(find("f")->mtime.tv_sec, 1600000000);
	assert_int_equal(st.uid, 1000);
	/* truncate */
	c.mask = VFS_SET_SIZE;
	c.size = 4096;
	assert_int_equal(x->be.setattr(x->b, "f", 0, &c, &st), 0);
	assert_int_equal(find("f")->size, 4096);
	assert_int_equal(x->be.setattr(x->b, "d", 1, &c, &st), -EISDIR);
	/* chmod of a foreign file: the mount defaults fill in the owner */
	add("foreign", 0);
	c.mask = VFS_SET_MODE;
	c.mode = 0444;
	assert_int_equal(x->be.setattr(x->b, "foreign", 0, &c, &st), 0);
	assert_int_equal(st.uid, 7);
	assert_int_equal(st.gid, 8);
	assert_int_equal(st.mode, S_IFREG | 0444);
}

static void test_rename(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = full_want(1, 1, S_IFREG | 0644);
	struct az_stat st;

	assert_int_equal(x->be.create(x->b, "a", &w, &st), 0);
	assert_int_equal(x->be.create(x->b, "b", &w, &st), 0);
	assert_int_equal(x->be.rename(x->b, "a", "b", 0, 1), -EEXIST);
	assert_non_null(find("a"));
	assert_int_equal(x->be.rename(x->b, "a", "b", 0, 0), 0);
	assert_null(find("a"));
	assert_non_null(find("b"));
	/* a directory over an empty directory, and not over a full one */
	assert_int_equal(x->be.mkdir(x->b, "d1", &w, &st), 0);
	assert_int_equal(x->be.mkdir(x->b, "d2", &w, &st), 0);
	memset(F.calls, 0, sizeof(F.calls));
	assert_int_equal(x->be.rename(x->b, "d1", "d2", 1, 0), 0);
	assert_int_equal(total_calls(), 3); /* refused rename, delete, rename */
	assert_int_equal(F.calls[RMDIR], 1);
	assert_null(find("d1"));
	assert_true(find("d2")->is_dir);
	assert_int_equal(x->be.mkdir(x->b, "d3", &w, &st), 0);
	assert_int_equal(x->be.create(x->b, "d2/inside", &w, &st), 0);
	assert_int_equal(x->be.rename(x->b, "d3", "d2", 1, 0), -ENOTEMPTY);
	assert_int_equal(x->be.rename(x->b, "d3", "d2", 1, 1), -EEXIST);
	assert_non_null(find("d3"));
	/* the service refusing a directory over a file: no delete is tried */
	F.fail_op = RENAME + 1;
	F.fail_rc = -EEXIST;
	memset(F.calls, 0, sizeof(F.calls));
	assert_int_equal(x->be.rename(x->b, "d3", "b", 1, 0), -EEXIST);
	assert_int_equal(F.calls[RMDIR], 1); /* Delete Directory: not a directory */
	assert_int_equal(F.calls[RENAME], 1);
	assert_non_null(find("b"));
	assert_non_null(find("d3"));
}

static void test_write_range_grows(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = full_want(1, 1, S_IFREG | 0644);
	struct az_stat st;
	int fd = tmpfd_with("0123456789", 10);

	assert_int_equal(x->be.upload(x->b, "g", fd, 10, &w, &st), 0);
	/* nothing known on entry: one HEAD after the write */
	memset(&st, 0, sizeof(st));
	memset(F.calls, 0, sizeof(F.calls));
	assert_int_equal(x->be.write_range(x->b, "g", 2, "ab", 2, &st), 0);
	assert_int_equal(F.calls[HEAD], 1);
	assert_int_equal(st.size, 10);
	assert_memory_equal(find("g")->data, "01ab456789", 10);
	/* the attributes known on entry (the last reply): the put's reply
	 * updates them, no HEAD, even when the write grows the file */
	memset(F.calls, 0, sizeof(F.calls));
	assert_int_equal(x->be.write_range(x->b, "g", 8, "XYZW", 4, &st), 0);
	assert_int_equal(F.calls[HEAD], 1); /* past EOF: the grow path checks the size */
	assert_int_equal(F.calls[PUT], 2);
	assert_int_equal(F.calls[SETPROPS], 1);
	assert_int_equal(find("g")->size, 12);
	assert_memory_equal(find("g")->data, "01ab4567XYZW", 12);
	assert_int_equal(st.size, 12);
	assert_int_equal(st.has_owner, 1);
	memset(F.calls, 0, sizeof(F.calls));
	assert_int_equal(x->be.write_range(x->b, "g", 0, "zz", 2, &st), 0);
	assert_int_equal(total_calls(), 1);
	assert_int_equal(st.size, 12);
	{
		struct az_stat h;

		assert_int_equal(az_file_get_props(NULL, "g", &h), 0);
		assert_string_equal(st.etag, h.etag);
		assert_int_equal(st.mtime.tv_nsec, h.mtime.tv_nsec);
	}
	close(fd);
}

static void test_create_mkdir_owner(void **state)
{
	struct fx *x = *state;
	struct vfs_want w;
	struct az_stat st;

	memset(&w, 0, sizeof(w));
	w.mask = VFS_SET_MODE;
	w.mode = 0755;
	assert_int_equal(x->be.mkdir(x->b, "d", &w, &st), 0);
	assert_int_equal(st.is_dir, 1);
	assert_int_equal(st.mode, S_IFDIR | 0755);
	assert_int_equal(st.uid, 7); /* mount default */
	assert_int_equal(x->be.mkdir(x->b, "d", &w, &st), -EEXIST);
	assert_int_equal(x->be.mkdir(x->b, "no/such", &w, &st), -ENOENT);
	w = full_want(1000, 1000, S_IFREG | 0600);
	assert_int_equal(x->be.create(x->b, "d/f", &w, &st), 0);
	assert_int_equal(st.mode, S_IFREG | 0600);
	assert_int_equal(x->be.unlink(x->b, "d/f"), 0);
	assert_int_equal(x->be.unlink(x->b, "d/f"), -ENOENT);
	assert_int_equal(x->be.rmdir(x->b, "d"), 0);
}

static void test_statfs(void **state)
{
	struct fx *x = *state;
	uint64_t total = 0, used = 0;

	assert_int_equal(x->be.statfs(x->b, &total, &used), 0);
	assert_true(total == 100ull << 30);
	assert_true(used == 5ull << 30);
	assert_int_equal(x->be.statfs(x->b, &total, &used), 0);
	assert_int_equal(F.calls[SHARE], 1); /* cached */
	assert_int_equal(F.calls[USAGE], 1);

	/* usage expires quickly, the quota slowly; a quota known at mount
	 * time needs no Get Share Properties at all */
	struct azb *b2;
	struct vfs_backend be2;
	struct azb_opts o = {.statfs_ttl_ms = 1, .quota_known = 1, .quota_gib = 7};

	assert_int_equal(azb_init(&b2, (struct az_client *)&F, x->pm, &o), 0);
	azb_ops(b2, &be2);
	memset(F.calls, 0, sizeof(F.calls));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(be2.statfs(b2, &total, &used), 0);
		assert_true(total == 7ull << 30);
		usleep(3000);
	}
	assert_int_equal(F.calls[SHARE], 0);
	assert_int_equal(F.calls[USAGE], 3);
	azb_free(b2);
	o.quota_known = 0;
	o.quota_ttl_ms = 1;
	assert_int_equal(azb_init(&b2, (struct az_client *)&F, x->pm, &o), 0);
	azb_ops(b2, &be2);
	memset(F.calls, 0, sizeof(F.calls));
	assert_int_equal(be2.statfs(b2, &total, &used), 0);
	usleep(3000);
	assert_int_equal(be2.statfs(b2, &total, &used), 0);
	assert_int_equal(F.calls[SHARE], 2);
	assert_true(total == 100ull << 30);
	azb_free(b2);
}

static void test_helpers(void **state)
{
	char a[128], b[128];
	char zero[100] = {0};

	(void)state;
	assert_int_equal(azb_temp_name("dir/sub/file.txt", a, sizeof(a)), 0);
	assert_int_equal(strncmp(a, "dir/sub/.azsf~", 14), 0);
	assert_int_equal(strlen(a), 14 + 16);
	assert_int_equal(azb_temp_name("dir/sub/file.txt", b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(azb_temp_name("top", a, sizeof(a)), 0);
	assert_int_equal(strncmp(a, ".azsf~", 6), 0);
	assert_int_equal(azb_temp_name("top", a, 10), -ENAMETOOLONG);
	assert_true(azb_all_zero(zero, sizeof(zero)));
	assert_true(azb_all_zero(zero, 0));
	zero[99] = 1;
	assert_false(azb_all_zero(zero, sizeof(zero)));
	zero[99] = 0;
	zero[0] = 1;
	assert_false(azb_all_zero(zero, sizeof(zero)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_upload_small, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upload_4mib_is_one_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upload_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upload_large_failure_leaves_target, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stat, setup, teardown),
	    cmocka_unit_test(test_symlink_format),
	    cmocka_unit_test_setup_teardown(test_symlink_ops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_setattr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_range_grows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_mkdir_owner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_statfs, setup, teardown),
	    cmocka_unit_test(test_helpers),
	};

	az_log_init("test", 1, AZ_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
