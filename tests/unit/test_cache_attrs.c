/* test_cache_attrs.c: deferred attribute changes (cache/attrdefer.c) and
 * the request budget of a Jupyter save in close-to-open mode.
 * In-memory fake backend (cache_fake_backend.h); no network, no FUSE.
 * A crash is simulated by a forked child that _exit()s without vfs_free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cache_fake_backend.h"

#define WINDOW_MS 300 /* attr_timeout_ms of these tests: the deferral window */

static const struct timespec OLD_TIME = {1600000000, 123456000};

static int setup(void **state)
{
	int rc = fx_setup(state);
	struct fx *x = *state;

	x->o.attr_timeout_ms = WINDOW_MS;
	return rc;
}

/* The fake share's view of path (lock taken). */
static struct fb_ent share_ent(struct fb *fb, const char *path)
{
	struct fb_ent copy, *e;

	memset(&copy, 0, sizeof(copy));
	pthread_mutex_lock(&fb->lock);
	e = fb_find(fb, path);
	assert_non_null(e);
	copy = *e;
	pthread_mutex_unlock(&fb->lock);
	return copy;
}

static int journal_records(struct fx *x)
{
	return fx_journal_records(x->dir);
}

static struct vfs_want mtime_want(struct timespec t)
{
	struct vfs_want w = {.mask = VFS_SET_MTIME, .mtime = t};

	return w;
}

static struct vfs_want mode_want(mode_t mode)
{
	struct vfs_want w = {.mask = VFS_SET_MODE, .mode = S_IFREG | mode};

	return w;
}

static int setattr_seen(void *arg)
{
	return fb_calls(arg, FB_SETATTR) > 0;
}

/* The save of jupyter-server 1.23, call for call (see test_cache_counts.py):
 * copyfile(nb, .~nb), copystat (utime, chmod of the CLOSED copy), nb opened
 * O_TRUNC, written, fsynced, closed, .~nb removed. */
static void jupyter_save(struct fx *x, const char *text)
{
	struct vfs_want cw = {.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID,
			      .mode = S_IFREG | 0644,
			      .uid = 1000,
			      .gid = 1000};
	struct vfs_want tw, mw = mode_want(0644);
	struct vfs_file *in = NULL, *out = NULL;
	struct az_stat st;
	char buf[4096];
	ssize_t n;

	assert_int_equal(vfs_getattr(x->v, "nb/a.ipynb", &st), 0);
	assert_int_equal(vfs_open(x->v, "nb/a.ipynb", O_RDONLY, &in), 0);
	assert_int_equal(vfs_create(x->v, "nb/.~a.ipynb", O_CREAT | O_WRONLY | O_TRUNC, &cw, &out),
			 0);
	n = vfs_read(x->v, in, buf, sizeof(buf), 0);
	assert_true(n > 0);
	assert_int_equal(vfs_write(x->v, out, buf, (size_t)n, 0), n);
	assert_int_equal(vfs_flush(x->v, out), 0);
	assert_int_equal(vfs_release(x->v, out), 0);
	assert_int_equal(vfs_flush(x->v, in), 0);
	assert_int_equal(vfs_release(x->v, in), 0);
	tw = mtime_want(st.mtime);
	assert_int_equal(vfs_setattr(x->v, "nb/.~a.ipynb", NULL, &tw, &st), 0);
	assert_int_equal(vfs_setattr(x->v, "nb/.~a.ipynb", NULL, &mw, &st), 0);
	assert_int_equal(vfs_open(x->v, "nb/a.ipynb", O_WRONLY | O_TRUNC, &out), 0);
	assert_int_equal(vfs_write(x->v, out, text, strlen(text), 0), (ssize_t)strlen(text));
	assert_int_equal(vfs_fsync(x->v, out), 0);
	assert_int_equal(vfs_flush(x->v, out), 0);
	assert_int_equal(vfs_release(x->v, out), 0);
	assert_int_equal(vfs_unlink(x->v, "nb/.~a.ipynb"), 0);
}

static void test_jupyter_save_is_four_requests(void **state)
{
	struct fx *x = *state;
	char *s;
	int i;

	x->o.conflict_slack_ms = 100;
	x->o.attr_timeout_ms = 60000; /* steady caches, as the integration test */
	x->o.dir_timeout_ms = 60000;
	fb_mkdir(&x->fb, "nb");
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "nb/a.ipynb", "{v0}", 4), 0);
	for (i = 1; i <= 3; i++) {
		char text[32];

		usleep(300 * 1000); /* past conflict_slack and the negative window */
		snprintf(text, sizeof(text), "{v%d}", i);
		fb_reset(&x->fb);
		jupyter_save(x, text);
		/* revalidation at open (also the conflict check of the save), the
		 * copy, the save, the copy's removal; no Set File Properties */
		assert_int_equal(fb_total(&x->fb), 4);
		assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 2);
		assert_int_equal(fb_calls(&x->fb, FB_UNLINK), 1);
		assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 0);
		s = fb_get(&x->fb, "nb/a.ipynb", NULL);
		assert_string_equal(s, text);
		free(s);
		assert_false(fb_exists(&x->fb, "nb/.~a.ipynb"));
		assert_int_equal(journal_records(x), 0);
	}
	usleep(1200 * 1000); /* the window (1 s) is over: nothing was left behind */
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 0);
}

/* utime of a file just uploaded: no request now, the local view shows it
 * at once, one Set File Properties at the window's end. */
static void test_deferred_then_applied(void **state)
{
	struct fx *x = *state;
	struct vfs_want tw = mtime_want(OLD_TIME);
	struct az_stat st, st0;
	struct fb_ent e;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "f", "data", 4), 0);
	fb_reset(&x->fb);
	usleep(20 * 1000);
	assert_int_equal(vfs_getattr(x->v, "f", &st0), 0);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &tw, &st), 0);
	assert_int_equal(st.mtime.tv_sec, OLD_TIME.tv_sec);
	assert_true(st.ctime.tv_sec > st0.ctime.tv_sec ||
		    (st.ctime.tv_sec == st0.ctime.tv_sec && st.ctime.tv_nsec > st0.ctime.tv_nsec));
	assert_int_equal(fb_total(&x->fb), 0);
	assert_int_equal(journal_records(x), 1);
	assert_int_equal(vfs_getattr(x->v, "f", &st), 0);
	assert_int_equal(st.mtime.tv_sec, OLD_TIME.tv_sec);
	assert_int_equal(st.mtime.tv_nsec, OLD_TIME.tv_nsec);
	e = share_ent(&x->fb, "f");
	assert_true(e.mtime.tv_sec != OLD_TIME.tv_sec);
	assert_true(fb_wait(setattr_seen, &x->fb, 5000));
	usleep(50 * 1000);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 1);
	assert_int_equal(fb_total(&x->fb), 1);
	e = share_ent(&x->fb, "f");
	assert_int_equal(e.mtime.tv_sec, OLD_TIME.tv_sec);
	assert_int_equal(e.mtime.tv_nsec, OLD_TIME.tv_nsec);
	assert_int_equal(e.mode & 07777, 0644);
	assert_int_equal(journal_records(x), 0);
	assert_int_equal(vfs_getattr(x->v, "f", &st), 0);
	assert_int_equal(st.mtime.tv_sec, OLD_TIME.tv_sec);
}

/* Two utimes coalesce into one request (the later time). */
static void test_coalesced(void **state)
{
	struct fx *x = *state;
	struct timespec t2 = {OLD_TIME.tv_sec + 100, 5000};
	struct vfs_want tw = mtime_want(OLD_TIME), tw2 = mtime_want(t2);
	struct az_stat st;
	struct fb_ent e;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "f", "data", 4), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &tw, &st), 0);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &tw2, &st), 0);
	assert_int_equal(st.mtime.tv_sec, t2.tv_sec);
	assert_int_equal(fb_total(&x->fb), 0);
	assert_true(fb_wait(setattr_seen, &x->fb, 5000));
	usleep(50 * 1000);
	assert_int_equal(fb_total(&x->fb), 1);
	e = share_ent(&x->fb, "f");
	assert_int_equal(e.mtime.tv_sec, t2.tv_sec);
	assert_int_equal(e.mtime.tv_nsec, t2.tv_nsec);
}

/* chmod and chown are never deferred (other nodes would see another mode
 * or owner): they go to the share before returning, with a waiting mtime. */
static void test_mode_owner_immediate(void **state)
{
	struct fx *x = *state;
	struct vfs_want tw = mtime_want(OLD_TIME), mw = mode_want(0664);
	struct az_stat st;
	struct fb_ent e;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "f", "data", 4), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &tw, &st), 0);
	assert_int_equal(fb_total(&x->fb), 0);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &mw, &st), 0);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 1);
	e = share_ent(&x->fb, "f");
	assert_int_equal(e.mode & 07777, 0664);
	assert_int_equal(e.mtime.tv_sec, OLD_TIME.tv_sec);
	assert_int_equal(journal_records(x), 0);
	usleep((WINDOW_MS + 200) * 1000);
	assert_int_equal(fb_total(&x->fb), 1); /* nothing left to send */
	/* a new owner is never deferred either */
	assert_int_equal(fx_write_file(x->v, "g", "data", 4), 0);
	fb_reset(&x->fb);
	{
		struct vfs_want ow = {.mask = VFS_SET_UID, .uid = 4242};

		assert_int_equal(vfs_setattr(x->v, "g", NULL, &ow, &st), 0);
	}
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 1);
	assert_int_equal(share_ent(&x->fb, "g").uid, 4242);
}

/* A resize after a deferred utime: the resize goes now, without the old
 * mtime (the share sets "now"), and nothing is left waiting. */
static void test_resize_supersedes_mtime(void **state)
{
	struct fx *x = *state;
	struct vfs_want tw = mtime_want(OLD_TIME);
	struct vfs_want sw = {.mask = VFS_SET_SIZE, .size = 2};
	struct az_stat st;
	struct fb_ent e;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "f", "data", 4), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &tw, &st), 0);
	assert_int_equal(fb_total(&x->fb), 0);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &sw, &st), 0);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 1);
	e = share_ent(&x->fb, "f");
	assert_int_equal(e.size, 2);
	assert_true(e.mtime.tv_sec != OLD_TIME.tv_sec);
	assert_int_equal(vfs_getattr(x->v, "f", &st), 0);
	assert_true(st.mtime.tv_sec != OLD_TIME.tv_sec);
	assert_int_equal(st.size, 2);
	usleep((WINDOW_MS + 200) * 1000);
	assert_int_equal(fb_total(&x->fb), 1);
	assert_int_equal(journal_records(x), 0);
}

/* Only right after this node's upload: later changes go at once. */
static void test_old_upload_not_deferred(void **state)
{
	struct fx *x = *state;
	struct vfs_want tw = mtime_want(OLD_TIME);
	struct az_stat st;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "f", "data", 4), 0);
	usleep((WINDOW_MS + 100) * 1000);
	fb_reset(&x->fb);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &tw, &st), 0);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 1);
	assert_int_equal(journal_records(x), 0);
}

/* Unmount sends what waits; rename sends it first; new data carries it. */
static void test_applied_before_unmount_rename_upload(void **state)
{
	struct fx *x = *state;
	struct vfs_want tw = mtime_want(OLD_TIME);
	struct vfs_file *fh = NULL;
	struct az_stat st;

	x->o.attr_timeout_ms = 60000; /* window 1 s: nothing expires by itself */
	assert_int_equal(fx_start(x), 0);
	/* rename */
	assert_int_equal(fx_write_file(x->v, "r", "data", 4), 0);
	assert_int_equal(vfs_setattr(x->v, "r", NULL, &tw, &st), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_rename(x->v, "r", "r2", 0), 0);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 1);
	assert_int_equal(share_ent(&x->fb, "r2").mtime.tv_sec, OLD_TIME.tv_sec);
	/* new data (and a new mtime): one upload, no Set File Properties */
	assert_int_equal(fx_write_file(x->v, "w", "data", 4), 0);
	assert_int_equal(vfs_setattr(x->v, "w", NULL, &tw, &st), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_open(x->v, "w", O_WRONLY, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "DATA", 4, 0), 4);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 1);
	assert_true(share_ent(&x->fb, "w").mtime.tv_sec != OLD_TIME.tv_sec);
	usleep(1100 * 1000);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 0);
	/* unmount */
	assert_int_equal(fx_write_file(x->v, "u", "data", 4), 0);
	assert_int_equal(vfs_setattr(x->v, "u", NULL, &tw, &st), 0);
	fb_reset(&x->fb);
	fx_stop(x);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 1);
	assert_int_equal(share_ent(&x->fb, "u").mtime.tv_sec, OLD_TIME.tv_sec);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 0);
	assert_int_equal(journal_records(x), 0);
}

/* fsync sends it too (fsync always reaches the share). */
static void test_fsync_applies(void **state)
{
	struct fx *x = *state;
	struct vfs_want tw = mtime_want(OLD_TIME);
	struct vfs_file *fh = NULL;
	struct az_stat st;

	x->o.attr_timeout_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "f", "data", 4), 0);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &tw, &st), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_open(x->v, "f", O_RDONLY, &fh), 0);
	assert_int_equal(vfs_fsync(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 1);
	assert_int_equal(share_ent(&x->fb, "f").mtime.tv_sec, OLD_TIME.tv_sec);
}

/* Another node replaced the file before the change was sent: the change is
 * dropped (the newer version's attributes stand). */
static void test_dropped_when_remote_moved(void **state)
{
	struct fx *x = *state;
	struct vfs_want tw = mtime_want(OLD_TIME);
	struct az_stat st;

	x->o.dir_timeout_ms = 50;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "f", "data", 4), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &tw, &st), 0);
	assert_int_equal(fb_total(&x->fb), 0); /* deferred */
	fb_put(&x->fb, "f", "other node", 10);
	usleep(60 * 1000);
	fb_reset(&x->fb);
	assert_int_equal(vfs_readdir(x->v, "", fb_ignore_entry, NULL),
			 0); /* sees the new version */
	usleep((WINDOW_MS + 200) * 1000);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 0);
	assert_true(share_ent(&x->fb, "f").mtime.tv_sec != OLD_TIME.tv_sec);
	assert_int_equal(journal_records(x), 0);
	assert_int_equal(vfs_getattr(x->v, "f", &st), 0);
	assert_int_equal(st.size, 10);
	assert_true(st.mtime.tv_sec != OLD_TIME.tv_sec);
}

/* Deleted before the window ends: nothing is sent, the record goes. */
static void test_unlink_drops(void **state)
{
	struct fx *x = *state;
	struct vfs_want tw = mtime_want(OLD_TIME);
	struct az_stat st;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "f", "data", 4), 0);
	assert_int_equal(vfs_setattr(x->v, "f", NULL, &tw, &st), 0);
	assert_int_equal(journal_records(x), 1);
	fb_reset(&x->fb);
	assert_int_equal(vfs_unlink(x->v, "f"), 0);
	assert_int_equal(journal_records(x), 0);
	usleep((WINDOW_MS + 200) * 1000);
	assert_int_equal(fb_total(&x->fb), 1);
	assert_int_equal(fb_calls(&x->fb, FB_UNLINK), 1);
}

/* Child: uploads f, defers its utime, dies without vfs_free. */
static void crash_child(struct fx *x)
{
	struct vfs_want tw = mtime_want(OLD_TIME);
	struct az_stat st;

	alarm(20);
	x->o.attr_timeout_ms = 60000;
	if (fx_start(x) != 0)
		_exit(10);
	if (fx_write_file(x->v, "f", "data", 4) != 0)
		_exit(11);
	if (vfs_setattr(x->v, "f", NULL, &tw, &st) != 0)
		_exit(12);
	_exit(fb_calls(&x->fb, FB_SETATTR) ? 13 : 0);
}

/* The child's share is its own copy: the parent's share gets the same
 * upload by hand (same content, same ETag sequence), or a newer one. */
static void crash_and_restart(struct fx *x, int moved)
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		crash_child(x);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(journal_records(x), 1);
	fb_put(&x->fb, "f", "data", 4);
	if (moved)
		fb_put(&x->fb, "f", "newer", 5);
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(journal_records(x), 0);
}

static void test_replay_after_crash(void **state)
{
	struct fx *x = *state;

	crash_and_restart(x, 0);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 1);
	assert_int_equal(share_ent(&x->fb, "f").mtime.tv_sec, OLD_TIME.tv_sec);
}

static void test_replay_dropped_when_moved(void **state)
{
	struct fx *x = *state;

	crash_and_restart(x, 1);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 0);
	assert_true(share_ent(&x->fb, "f").mtime.tv_sec != OLD_TIME.tv_sec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_jupyter_save_is_four_requests, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_deferred_then_applied, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_coalesced, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_mode_owner_immediate, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_resize_supersedes_mtime, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_old_upload_not_deferred, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_applied_before_unmount_rename_upload, setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_fsync_applies, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_dropped_when_remote_moved, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_unlink_drops, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_replay_after_crash, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_replay_dropped_when_moved, setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
