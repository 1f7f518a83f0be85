/* test_cache_file.c: file data in close-to-open mode: revalidation and
 * request counts, O_TRUNC, setattr folding, mtime, large files in ranges,
 * eviction, the share being down, a full cache disk.
 * In-memory fake backend (cache_fake_backend.h); no network, no FUSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cache_fake_backend.h"

static void test_reopen_unchanged(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	char buf[16] = {0};
	char *s;

	fb_put(&x->fb, "f", "hello", 5);
	assert_int_equal(fx_start(x), 0);
	s = fx_read_file(x->v, "f", NULL);
	assert_string_equal(s, "hello");
	free(s);
	assert_int_equal(fb_calls(&x->fb, FB_DOWNLOAD), 1);
	fb_reset(&x->fb);
	assert_int_equal(vfs_open(x->v, "f", O_RDONLY, &fh), 0);
	assert_int_equal(vfs_file_unchanged(fh), 1);
	assert_int_equal(vfs_read(x->v, fh, buf, sizeof(buf), 0), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	/* one request: a listing of the (small) directory, or a HEAD */
	assert_int_equal(fb_calls(&x->fb, FB_STAT) + fb_calls(&x->fb, FB_LIST), 1);
	assert_int_equal(fb_total(&x->fb), 1);
}

/* nocto: close-to-open writes, but an open within attr_timeout of the last
 * check serves the copy with no request; past it, one request again, and
 * another node's change is then seen. */
static void test_reopen_nocto(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	char *s;

	x->o.nocto = 1;
	x->o.attr_timeout_ms = 1000;
	fb_put(&x->fb, "f", "hello", 5);
	assert_int_equal(fx_start(x), 0);
	s = fx_read_file(x->v, "f", NULL);
	free(s);
	fb_reset(&x->fb);
	fb_put(&x->fb, "f", "HELLO", 5); /* another node, right after our check */
	assert_int_equal(vfs_open(x->v, "f", O_RDONLY, &fh), 0);
	assert_int_equal(vfs_file_unchanged(fh), 1);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(fb_total(&x->fb), 0);
	usleep(1100 * 1000);
	s = fx_read_file(x->v, "f", NULL);
	assert_string_equal(s, "HELLO");
	free(s);
	assert_true(fb_total(&x->fb) >= 1);
	/* closes still upload before they return */
	fb_reset(&x->fb);
	assert_int_equal(fx_write_file(x->v, "f", "mine!", 5), 0);
	s = fb_get(&x->fb, "f", NULL);
	assert_string_equal(s, "mine!");
	free(s);
}

/* In a big directory the revalidation is a HEAD, not a listing. */
static void test_reopen_in_big_dir_is_one_head(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	char name[32];
	char *s;
	int i;

	fb_mkdir(&x->fb, "big");
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "big/f%03d", i);
		fb_put(&x->fb, name, "x", 1);
	}
	assert_int_equal(fx_start(x), 0);
	s = fx_read_file(x->v, "big/f007", NULL);
	free(s);
	fb_reset(&x->fb);
	assert_int_equal(vfs_open(x->v, "big/f007", O_RDONLY, &fh), 0);
	assert_int_equal(vfs_file_unchanged(fh), 1);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(fb_calls(&x->fb, FB_STAT), 1);
	assert_int_equal(fb_total(&x->fb), 1);
}

static void test_reopen_changed(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	char buf[32] = {0};
	struct az_stat st;
	char *s;

	fb_put(&x->fb, "f", "old", 3);
	assert_int_equal(fx_start(x), 0);
	s = fx_read_file(x->v, "f", NULL);
	free(s);
	fb_put(&x->fb, "f", "new version", 11); /* another node */
	fb_reset(&x->fb);
	assert_int_equal(vfs_open(x->v, "f", O_RDONLY, &fh), 0);
	assert_int_equal(vfs_file_unchanged(fh), 0);
	assert_int_equal(fb_total(&x->fb), 1);
	assert_int_equal(vfs_read(x->v, fh, buf, sizeof(buf), 0), 11);
	assert_string_equal(buf, "new version");
	assert_int_equal(fb_calls(&x->fb, FB_DOWNLOAD), 1);
	assert_int_equal(vfs_release(x->v, fh), 0);
	/* deleted by another node: the open fails */
	pthread_mutex_lock(&x->fb.lock);
	fb_del(&x->fb, fb_find(&x->fb, "f"));
	pthread_mutex_unlock(&x->fb.lock);
	assert_int_equal(vfs_open(x->v, "f", O_RDONLY, &fh), -ENOENT);
	assert_int_equal(vfs_getattr(x->v, "f", &st), -ENOENT); /* no ghost left */
	assert_int_equal(vfs_open(x->v, "f", O_WRONLY | O_TRUNC, &fh), -ENOENT);
}

/* A lookup a moment before the open is no revalidation: another node may
 * close in between (close-to-open). Attributes expired: the lookup lists,
 * the open asks again. */
static void test_open_after_lookup_still_revalidates(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	struct az_stat st;
	char buf[16] = {0};
	char *s;

	fb_put(&x->fb, "f", "same", 4);
	fb_put(&x->fb, "g", "old", 3);
	x->o.attr_timeout_ms = 50;
	x->o.dir_timeout_ms = 50;
	assert_int_equal(fx_start(x), 0);
	s = fx_read_file(x->v, "f", NULL);
	free(s);
	s = fx_read_file(x->v, "g", NULL);
	free(s);
	usleep(100 * 1000);
	fb_reset(&x->fb);
	assert_int_equal(vfs_getattr(x->v, "f", &st), 0); /* lookup: one listing */
	assert_int_equal(vfs_open(x->v, "f", O_RDONLY, &fh), 0);
	assert_int_equal(vfs_file_unchanged(fh), 1);
	assert_int_equal(vfs_read(x->v, fh, buf, sizeof(buf), 0), 4);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(fb_total(&x->fb), 2);
	/* stat, another node saves, open: the open sees the save */
	assert_int_equal(vfs_getattr(x->v, "g", &st), 0);
	fb_put(&x->fb, "g", "new!", 4);
	assert_int_equal(vfs_open(x->v, "g", O_RDONLY, &fh), 0);
	assert_int_equal(vfs_file_unchanged(fh), 0);
	assert_int_equal(vfs_read(x->v, fh, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "new!", 4);
	assert_int_equal(vfs_release(x->v, fh), 0);
}

static void test_open_errors(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;

	fb_mkdir(&x->fb, "d");
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_open(x->v, "missing", O_RDONLY, &fh), -ENOENT);
	assert_int_equal(vfs_open(x->v, "d", O_RDONLY, &fh), -EISDIR);
	assert_null(fh);
	fb_put(&x->fb, "d/ro", "x", 1);
	assert_int_equal(vfs_open(x->v, "d/ro", O_RDONLY, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "y", 1, 0), -EBADF);
	assert_int_equal(vfs_release(x->v, fh), 0);
}

static void test_trunc_no_download(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	struct az_stat st;
	char *s;

	fb_put(&x->fb, "f", "original content", 16);
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_getattr(x->v, "f", &st), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_open(x->v, "f", O_WRONLY | O_TRUNC, &fh), 0);
	assert_int_equal(fb_total(&x->fb), 0); /* fresh attributes: no request */
	assert_int_equal(vfs_getattr(x->v, "f", &st), 0);
	assert_int_equal(st.size, 0);
	assert_int_equal(vfs_write(x->v, fh, "new", 3, 0), 3);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	/* close-to-open: on the share when flush returned */
	s = fb_get(&x->fb, "f", NULL);
	assert_string_equal(s, "new");
	free(s);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(fb_calls(&x->fb, FB_DOWNLOAD), 0);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 1);
	assert_int_equal(fb_total(&x->fb), 1); /* validated within the slack */
}

static void test_trunc_stale_attrs_one_stat(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	struct az_stat st;

	fb_put(&x->fb, "f", "abc", 3);
	x->o.attr_timeout_ms = 10;
	x->o.dir_timeout_ms = 10;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_getattr(x->v, "f", &st), 0);
	usleep(30 * 1000);
	fb_reset(&x->fb);
	assert_int_equal(vfs_open(x->v, "f", O_WRONLY | O_TRUNC, &fh), 0);
	assert_int_equal(fb_calls(&x->fb, FB_DOWNLOAD), 0);
	assert_true(fb_total(&x->fb) <= 2); /* lookup listing + one stat at most */
	assert_int_equal(vfs_release(x->v, fh), 0);
}

/* What jupyter-server does on save, in close-to-open mode. */
static void jupyter_save(struct fx *x)
{
	struct vfs_want w = {.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID,
			     .mode = S_IFREG | 0644,
			     .uid = 1000,
			     .gid = 1000};
	struct vfs_want tw = {.mask = VFS_SET_MTIME};
	struct vfs_want cw = {.mask = VFS_SET_MODE, .mode = S_IFREG | 0600};
	struct vfs_file *fh = NULL;
	struct az_stat st;

	assert_int_equal(vfs_getattr(x->v, "nb/.~a.ipynb", &st), -ENOENT);
	assert_int_equal(vfs_create(x->v, "nb/.~a.ipynb", O_CREAT | O_WRONLY, &w, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "{old}", 5, 0), 5);
	tw.mtime.tv_sec = 1700000000;
	assert_int_equal(vfs_setattr(x->v, "nb/.~a.ipynb", fh, &tw, &st), 0);
	assert_int_equal(vfs_setattr(x->v, "nb/.~a.ipynb", fh, &cw, &st), 0);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(vfs_getattr(x->v, "nb/a.ipynb", &st), 0);
	assert_int_equal(vfs_open(x->v, "nb/a.ipynb", O_WRONLY | O_TRUNC, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "{new notebook}", 14, 0), 14);
	assert_int_equal(vfs_fsync(x->v, fh), 0);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(vfs_unlink(x->v, "nb/.~a.ipynb"), 0);
}

static void test_jupyter_save_budget(void **state)
{
	struct fx *x = *state;
	struct az_stat st;
	char *s;
	int i;

	fb_mkdir(&x->fb, "nb");
	fb_put(&x->fb, "nb/a.ipynb", "{old}", 5);
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_getattr(x->v, "nb/a.ipynb", &st), 0);
	for (i = 0; i < 3; i++) {
		fb_reset(&x->fb);
		jupyter_save(x);
		assert_true(fb_total(&x->fb) <= 4);
		assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 2);
		assert_int_equal(fb_calls(&x->fb, FB_UNLINK), 1);
	}
	s = fb_get(&x->fb, "nb/a.ipynb", NULL);
	assert_string_equal(s, "{new notebook}");
	free(s);
	assert_false(fb_exists(&x->fb, "nb/.~a.ipynb"));
}

static void test_burst_of_creates(void **state)
{
	struct fx *x = *state;
	struct az_stat st;
	char name[32];
	int i;

	fb_mkdir(&x->fb, "t");
	x->o.conflict_slack_ms = 500;
	x->o.attr_timeout_ms = 60000;
	x->o.dir_timeout_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_getattr(x->v, "t/none", &st), -ENOENT); /* lists t */
	usleep(600 * 1000); /* the listing is older than the slack */
	fb_reset(&x->fb);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "t/f%02d", i);
		assert_int_equal(fx_write_file(x->v, name, name, strlen(name)), 0);
	}
	/* one listing re-confirms every new name; no HEAD per file */
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 20);
	assert_int_equal(fb_calls(&x->fb, FB_STAT), 0);
	assert_true(fb_calls(&x->fb, FB_LIST) >= 1 && fb_calls(&x->fb, FB_LIST) <= 2);
	assert_int_equal(fb_count_prefix(&x->fb, "t/f"), 20);
}

static void test_setattr_folded_into_upload(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = {.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID,
			     .mode = S_IFREG | 0644,
			     .uid = 42,
			     .gid = 43};
	struct vfs_want sw = {.mask = VFS_SET_MODE | VFS_SET_MTIME, .mode = S_IFREG | 0600};
	struct vfs_file *fh = NULL;
	struct az_stat st;

	assert_int_equal(fx_start(x), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_create(x->v, "f", O_CREAT | O_WRONLY, &w, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "data", 4, 0), 4);
	sw.mtime.tv_sec = 1600000000;
	sw.mtime.tv_nsec = 5;
	assert_int_equal(vfs_setattr(x->v, "f", fh, &sw, &st), 0);
	assert_int_equal(st.mode & 07777, 0600);
	assert_int_equal(st.mtime.tv_sec, 1600000000);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 1);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 0);
	pthread_mutex_lock(&x->fb.lock);
	assert_int_equal(fb_find(&x->fb, "f")->mode & 07777, 0600);
	assert_int_equal(fb_find(&x->fb, "f")->uid, 42);
	assert_int_equal(fb_find(&x->fb, "f")->mtime.tv_sec, 1600000000);
	assert_int_equal(fb_find(&x->fb, "f")->mtime.tv_nsec, 5);
	pthread_mutex_unlock(&x->fb.lock);
	assert_int_equal(vfs_getattr(x->v, "f", &st), 0);
	assert_int_equal(st.mtime.tv_sec, 1600000000);
}

static void test_write_mtime_carried(void **state)
{
	struct fx *x = *state;
	struct az_stat st;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "f", "abc", 3), 0);
	assert_int_equal(vfs_getattr(x->v, "f", &st), 0);
	pthread_mutex_lock(&x->fb.lock);
	assert_int_equal(fb_find(&x->fb, "f")->mtime.tv_sec, st.mtime.tv_sec);
	assert_int_equal(fb_find(&x->fb, "f")->mtime.tv_nsec, st.mtime.tv_nsec);
	pthread_mutex_unlock(&x->fb.lock);
	assert_true(st.mtime.tv_sec >= time(NULL) - 5);
}

static void test_setattr_clean_file(void **state)
{
	struct fx *x = *state;
	struct vfs_want cw = {.mask = VFS_SET_MODE, .mode = S_IFREG | 0640};
	struct vfs_want tw = {.mask = VFS_SET_SIZE, .size = 2};
	struct az_stat st;
	char *s;

	fb_put(&x->fb, "f", "abcdef", 6);
	assert_int_equal(fx_start(x), 0);
	s = fx_read_file(x->v, "f", NULL);
	free(s);
	fb_reset(&x->fb);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &cw, &st), 0);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 1);
	assert_int_equal(st.mode & 07777, 0640);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &cw, &st), 0); /* no change: free */
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 1);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &tw, &st), 0);
	assert_int_equal(st.size, 2);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 2);
	fb_reset(&x->fb);
	s = fx_read_file(x->v, "f", NULL); /* still cached, and truncated */
	assert_string_equal(s, "ab");
	free(s);
	assert_int_equal(fb_calls(&x->fb, FB_DOWNLOAD), 0);
	assert_int_equal(fb_total(&x->fb), 1);
}

/* A large file of len bytes whose byte i is 'a' + i % 26, streamed. */
static char *put_big(struct fx *x, const char *name, size_t len)
{
	char *big = malloc(len);

	for (size_t i = 0; i < len; i++)
		big[i] = (char)('a' + i % 26);
	fb_put(&x->fb, name, big, len);
	return big;
}

static void test_large_streamed(void **state)
{
	struct fx *x = *state;
	size_t len = 1 << 20, i;
	char *big = put_big(x, "big", len), *got = malloc(len), *s;
	struct vfs_file *fh = NULL;
	ssize_t n;

	x->o.file_max_bytes = 64 * 1024;
	assert_int_equal(fx_start(x), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_open(x->v, "big", O_RDWR, &fh), 0);
	for (i = 0; i < len; i += 4096) {
		n = vfs_read(x->v, fh, got + i, 4096, i);
		assert_int_equal(n, 4096);
	}
	assert_memory_equal(got, big, len);
	assert_int_equal(fb_calls(&x->fb, FB_DOWNLOAD), 0);
	assert_true(fb_calls(&x->fb, FB_READ) <= 8); /* read-ahead, not 256 reads */
	/* in-place writes go out as ranges; past the end it grows first */
	assert_int_equal(vfs_write(x->v, fh, "XYZ", 3, 100), 3);
	assert_int_equal(vfs_write(x->v, fh, "123", 3, 103), 3);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(fb_calls(&x->fb, FB_WRITE_RANGE), 1);
	assert_int_equal(vfs_write(x->v, fh, "END", 3, len), 3);
	assert_int_equal(vfs_release(x->v, fh), 0);
	s = fb_get(&x->fb, "big", &i);
	assert_int_equal(i, len + 3);
	assert_memory_equal(s + 100, "XYZ123", 6);
	assert_memory_equal(s + len, "END", 3);
	assert_memory_equal(s, big, 100);
	free(s);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 0);
	free(big);
	free(got);
}

/* A sequential reader gets windows fetched ahead in parallel (two reads in
 * flight at once), every byte right, and no more reads than windows. */
static void test_large_read_ahead_parallel(void **state)
{
	struct fx *x = *state;
	size_t len = 40u << 20, chunk = 128u << 10, i;
	char *big = put_big(x, "big", len), *got = malloc(len);
	struct vfs_file *fh = NULL;

	x->o.file_max_bytes = 64 * 1024;
	assert_int_equal(fx_start(x), 0);
	fb_reset(&x->fb);
	x->fb.read_delay_ms = 20;
	assert_int_equal(vfs_open(x->v, "big", O_RDONLY, &fh), 0);
	for (i = 0; i < len; i += chunk) /* FUSE's 128 KiB reads, in order */
		assert_int_equal(vfs_read(x->v, fh, got + i, chunk, i), (ssize_t)chunk);
	assert_int_equal(vfs_read(x->v, fh, got, chunk, len), 0); /* end of file */
	assert_memory_equal(got, big, len);
	assert_true(x->fb.reads_max >= 2);
	/* 128K..8M doubling, then 8 MiB windows: 40 MiB is about 10 windows */
	assert_true(fb_calls(&x->fb, FB_READ) <= 12);
	assert_int_equal(vfs_release(x->v, fh), 0);
	free(big);
	free(got);
}

/* Data fetched ahead is dropped when the handle writes over it, and a
 * release with fetches in flight waits for them. */
static void test_large_read_ahead_after_write(void **state)
{
	struct fx *x = *state;
	size_t len = 24u << 20, chunk = 1u << 20, i;
	char *big = put_big(x, "big", len), *got = malloc(chunk);
	struct vfs_file *fh = NULL;

	x->o.file_max_bytes = 64 * 1024;
	assert_int_equal(fx_start(x), 0);
	x->fb.read_delay_ms = 20;
	assert_int_equal(vfs_open(x->v, "big", O_RDWR, &fh), 0);
	for (i = 0; i < 4 * chunk; i += chunk)
		assert_int_equal(vfs_read(x->v, fh, got, chunk, i), (ssize_t)chunk);
	/* windows past 4 MiB are being fetched now; overwrite inside them */
	assert_int_equal(vfs_write(x->v, fh, "NEW", 3, 6 * chunk + 5), 3);
	assert_int_equal(vfs_read(x->v, fh, got, chunk, 6 * chunk), (ssize_t)chunk);
	assert_memory_equal(got + 5, "NEW", 3);
	assert_memory_equal(got, big + 6 * chunk, 5);
	assert_memory_equal(got + 8, big + 6 * chunk + 8, chunk - 8);
	for (i = 7 * chunk; i < 10 * chunk; i += chunk) {
		assert_int_equal(vfs_read(x->v, fh, got, chunk, i), (ssize_t)chunk);
		assert_memory_equal(got, big + i, chunk);
	}
	assert_int_equal(vfs_release(x->v, fh), 0); /* fetches in flight: joined */
	free(big);
	free(got);
}

static void test_large_new_file_spooled(void **state)
{
	struct fx *x = *state;
	size_t len = 300 * 1024, i;
	char *big = malloc(len), *s;

	for (i = 0; i < len; i++)
		big[i] = (char)(i * 7);
	x->o.file_max_bytes = 64 * 1024;
	assert_int_equal(fx_start(x), 0);
	fb_reset(&x->fb);
	assert_int_equal(fx_write_file(x->v, "big", big, len), 0);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 1); /* published whole, atomically */
	assert_int_equal(fb_calls(&x->fb, FB_WRITE_RANGE), 0);
	s = fb_get(&x->fb, "big", &i);
	assert_int_equal(i, len);
	assert_memory_equal(s, big, len);
	free(s);
	free(big);
}

static void test_eviction_bounded(void **state)
{
	struct fx *x = *state;
	char name[32], data[40 * 1024], path[4200];
	char *s;
	int i;

	memset(data, 'e', sizeof(data));
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		fb_put(&x->fb, name, data, sizeof(data));
	}
	x->o.cache_max_bytes = 100 * 1024;
	assert_int_equal(fx_start(x), 0);
	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		s = fx_read_file(x->v, name, NULL);
		assert_non_null(s);
		free(s);
	}
	snprintf(path, sizeof(path), "%s/data", x->dir);
	assert_true(fb_count_files(path) <= 2); /* 2 x 40 KiB fit in 100 KiB */
	fb_reset(&x->fb);
	s = fx_read_file(x->v, "f0", NULL); /* evicted: downloaded again */
	assert_int_equal(strlen(s), sizeof(data));
	free(s);
	assert_int_equal(fb_calls(&x->fb, FB_DOWNLOAD), 1);
}

static void test_outage_close_to_open(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	char buf[16] = {0};
	char *s;

	fb_put(&x->fb, "f", "cached", 6);
	assert_int_equal(fx_start(x), 0);
	s = fx_read_file(x->v, "f", NULL);
	free(s);
	fb_set_fail_all(&x->fb, EHOSTUNREACH);
	/* reads of cached clean files still work */
	assert_int_equal(vfs_open(x->v, "f", O_RDONLY, &fh), 0);
	assert_int_equal(vfs_read(x->v, fh, buf, sizeof(buf), 0), 6);
	assert_string_equal(buf, "cached");
	assert_int_equal(vfs_release(x->v, fh), 0);
	/* known down: the next open does not wait for another failure */
	fb_reset(&x->fb);
	assert_int_equal(vfs_open(x->v, "f", O_RDONLY, &fh), 0);
	assert_int_equal(vfs_file_unchanged(fh), 1);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(fb_total(&x->fb), 0);
	/* writes fail, the data is journaled */
	assert_int_equal(fx_write_file(x->v, "g", "offline", 7), -EHOSTUNREACH);
	assert_int_equal(fx_journal_records(x->dir), 1);
	assert_false(fb_exists(&x->fb, "g"));
	fb_set_fail_all(&x->fb, 0);
	assert_int_equal(vfs_sync_all(x->v), 0);
	s = fb_get(&x->fb, "g", NULL);
	assert_string_equal(s, "offline");
	free(s);
	assert_int_equal(fx_journal_records(x->dir), 0);
}

/* In a private mount namespace: a 64 KiB tmpfs as the cache disk. */
static int enospc_child(struct fx *x)
{
	struct vfs_file *fh = NULL;
	char chunk[16 * 1024];
	ssize_t n = 0;
	int i;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", x->dir, "tmpfs", 0, "size=64k,mode=0700") < 0)
		return 77;
	if (fx_start(x) != 0)
		return 1;
	memset(chunk, 'z', sizeof(chunk));
	if (vfs_create(x->v, "f", O_CREAT | O_WRONLY, &(struct vfs_want){0}, &fh) < 0)
		return 2;
	for (i = 0; i < 64; i++) {
		n = vfs_write(x->v, fh, chunk, sizeof(chunk), (uint64_t)i * sizeof(chunk));
		if (n < 0)
			break;
	}
	if (n != -ENOSPC)
		return 3;
	if (vfs_write(x->v, fh, "ok", 2, 0) != 2) /* what fitted is still usable */
		return 4;
	vfs_release(x->v, fh);
	return 0;
}

static void test_cache_disk_full(void **state)
{
	struct fx *x = *state;
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(20);
		_exit(enospc_child(x));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reopen_unchanged, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_nocto, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_in_big_dir_is_one_head, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_changed, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_open_after_lookup_still_revalidates, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_trunc_no_download, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_trunc_stale_attrs_one_stat, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_jupyter_save_budget, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_burst_of_creates, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_setattr_folded_into_upload, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_write_mtime_carried, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_setattr_clean_file, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_large_streamed, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_large_read_ahead_parallel, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_large_read_ahead_after_write, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_large_new_file_spooled, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_eviction_bounded, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_outage_close_to_open, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_cache_disk_full, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
