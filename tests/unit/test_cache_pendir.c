/* test_cache_pendir.c: directories made in write-back mode (cache/pendir.c):
 * mkdir and tar's chown/chmod/utimens cost nothing until the delay, then
 * one Create Directory carries them; a directory removed within the delay
 * never reaches the share; renames, listings and a crash keep everything.
 * In-memory fake backend (cache_fake_backend.h); crashes are a forked child
 * that _exit()s without vfs_free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cache_fake_backend.h"

static const struct timespec t_old = {1600000000, 123456700};

static struct vfs_want dir_want(mode_t mode, uid_t uid)
{
	struct vfs_want w = {.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID,
			     .mode = S_IFDIR | mode,
			     .uid = uid,
			     .gid = uid};

	return w;
}

/* What GNU tar does to a directory after its members. */
static void tar_attrs(struct vfs *v, const char *path)
{
	struct vfs_want w;
	struct az_stat st;

	memset(&w, 0, sizeof(w));
	w.mask = VFS_SET_MTIME;
	w.mtime = t_old;
	assert_int_equal(vfs_setattr(v, path, NULL, &w, &st), 0);
	w.mask = VFS_SET_UID | VFS_SET_GID;
	w.uid = 5;
	w.gid = 6;
	assert_int_equal(vfs_setattr(v, path, NULL, &w, &st), 0);
	w.mask = VFS_SET_MODE;
	w.mode = 0750;
	assert_int_equal(vfs_setattr(v, path, NULL, &w, &st), 0);
}

static int calls_reach(void *arg)
{
	struct fb *fb = arg;

	return fb_calls(fb, FB_UPLOAD) >= 1 && fb_calls(fb, FB_MKDIR) >= 1;
}

static int seen_t;

static int see_t(void *arg, const char *name, const struct az_stat *st)
{
	(void)arg;
	if (strcmp(name, "t") == 0 && st->is_dir)
		seen_t++;
	return 0;
}

static void test_mkdir_attrs_fold_into_one_create(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = dir_want(0700, 1000);
	struct az_stat st;
	struct fb_ent *e;
	char *s;

	x->o.writeback_delay_ms = 300;
	x->o.dir_timeout_ms = 1; /* listings of the root go to the share */
	x->o.neg_timeout_ms = 1;
	assert_int_equal(fx_start(x), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_mkdir(x->v, "t", &w, &st), 0);
	assert_int_equal(fx_write_file(x->v, "t/a", "alpha", 5), 0);
	tar_attrs(x->v, "t");
	assert_int_equal(fb_calls(&x->fb, FB_MKDIR), 0);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 0);
	assert_false(fb_exists(&x->fb, "t"));
	/* this node sees it as set, also through a fresh listing of the root */
	usleep(5000);
	seen_t = 0;
	assert_int_equal(vfs_readdir(x->v, "", see_t, NULL), 0);
	assert_int_equal(seen_t, 1);
	assert_true(fb_calls(&x->fb, FB_LIST) >= 1);
	assert_int_equal(vfs_getattr(x->v, "t", &st), 0);
	assert_true(st.is_dir);
	assert_int_equal(st.mode & 07777, 0750);
	assert_int_equal(st.uid, 5);
	assert_int_equal(st.mtime.tv_sec, t_old.tv_sec);
	/* after the delay: one create with everything, then the file */
	assert_true(fb_wait(calls_reach, &x->fb, 5000));
	assert_int_equal(fb_calls(&x->fb, FB_MKDIR), 1);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 0);
	pthread_mutex_lock(&x->fb.lock);
	e = fb_find(&x->fb, "t");
	assert_non_null(e);
	assert_true(e->is_dir);
	assert_int_equal(e->mode & 07777, 0750);
	assert_int_equal(e->uid, 5);
	assert_int_equal(e->gid, 6);
	assert_int_equal(e->mtime.tv_sec, t_old.tv_sec);
	assert_int_equal(e->mtime.tv_nsec, t_old.tv_nsec);
	pthread_mutex_unlock(&x->fb.lock);
	s = fb_get(&x->fb, "t/a", NULL);
	assert_string_equal(s, "alpha");
	free(s);
}

static void test_mkdir_rmdir_within_delay_sends_nothing(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = dir_want(0755, 0);
	struct az_stat st;

	x->o.writeback_delay_ms = 100;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "", see_t, NULL), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_mkdir(x->v, "tmp", &w, &st), 0);
	assert_int_equal(vfs_mkdir(x->v, "tmp/sub", &w, &st), 0);
	assert_int_equal(vfs_rmdir(x->v, "tmp"), -ENOTEMPTY);
	assert_int_equal(vfs_rmdir(x->v, "tmp/sub"), 0);
	assert_int_equal(vfs_rmdir(x->v, "tmp"), 0);
	assert_int_equal(vfs_getattr(x->v, "tmp", &st), -ENOENT);
	usleep(300 * 1000);
	assert_int_equal(fb_total(&x->fb), 0);
	assert_int_equal(fx_journal_records(x->dir), 0);
}

static void test_rename_pending_dir(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = dir_want(0755, 0);
	struct az_stat st;
	char *s;

	x->o.writeback_delay_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_mkdir(x->v, "r", &w, &st), 0);
	assert_int_equal(vfs_mkdir(x->v, "r/in", &w, &st), 0);
	assert_int_equal(fx_write_file(x->v, "r/in/f", "moved", 5), 0);
	assert_int_equal(vfs_rename(x->v, "r", "s", 0), 0);
	assert_true(fb_dir_exists(&x->fb, "s/in")); /* made, then renamed */
	assert_false(fb_exists(&x->fb, "r"));
	s = fx_read_file(x->v, "s/in/f", NULL);
	assert_string_equal(s, "moved");
	free(s);
	fx_stop(x); /* unmount uploads the rest */
	s = fb_get(&x->fb, "s/in/f", NULL);
	assert_string_equal(s, "moved");
	free(s);
}

/* fsync of a directory makes it (and the pending ones above) now. */
static void test_fsyncdir_makes_it_now(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = dir_want(0700, 9);
	struct az_stat st;

	x->o.writeback_delay_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_mkdir(x->v, "a", &w, &st), 0);
	assert_int_equal(vfs_mkdir(x->v, "a/b", &w, &st), 0);
	assert_int_equal(vfs_mkdir(x->v, "c", &w, &st), 0);
	assert_false(fb_exists(&x->fb, "a"));
	assert_int_equal(vfs_fsyncdir(x->v, "/a/b"), 0);
	assert_true(fb_dir_exists(&x->fb, "a/b"));
	assert_false(fb_exists(&x->fb, "c")); /* not asked for */
	assert_int_equal(fx_journal_records(x->dir), 1);
}

static void test_close_to_open_mkdir_is_synchronous(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = dir_want(0755, 0);
	struct az_stat st;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_mkdir(x->v, "now", &w, &st), 0);
	assert_true(fb_dir_exists(&x->fb, "now"));
}

/* Child: write-back mkdirs, a file inside, tar's attributes; dies. */
static void crash_child(struct fx *x)
{
	struct vfs_want w = dir_want(0700, 77);
	struct az_stat st;

	alarm(20);
	x->o.writeback_delay_ms = 60000;
	if (fx_start(x) != 0)
		_exit(10);
	if (vfs_mkdir(x->v, "p", &w, &st) < 0 || vfs_mkdir(x->v, "p/q", &w, &st) < 0 ||
	    vfs_mkdir(x->v, "empty", &w, &st) < 0)
		_exit(11);
	if (fx_write_file(x->v, "p/q/f", "kept", 4) < 0)
		_exit(12);
	tar_attrs(x->v, "p");
	_exit(fb_total(&x->fb) > 2 ? 13 : 0); /* nothing but the first listings */
}

static void test_crash_replays_dirs_before_files(void **state)
{
	struct fx *x = *state;
	struct fb_ent *e;
	char *s;
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		crash_child(x);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(fx_start(x), 0);
	/* made before vfs_init returned, parents first, with their attributes */
	assert_true(fb_dir_exists(&x->fb, "empty"));
	assert_true(fb_dir_exists(&x->fb, "p/q"));
	pthread_mutex_lock(&x->fb.lock);
	e = fb_find(&x->fb, "p");
	assert_int_equal(e->mode & 07777, 0750);
	assert_int_equal(e->uid, 5);
	assert_int_equal(e->mtime.tv_sec, t_old.tv_sec);
	e = fb_find(&x->fb, "p/q");
	assert_int_equal(e->mode & 07777, 0700);
	assert_int_equal(e->uid, 77);
	pthread_mutex_unlock(&x->fb.lock);
	s = fb_get(&x->fb, "p/q/f", NULL);
	assert_string_equal(s, "kept");
	free(s);
	assert_int_equal(fx_journal_records(x->dir), 0);
}

/* Another node made the same directory meanwhile: ours merges into it. */
static void test_name_taken_by_a_directory_merges(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = dir_want(0755, 0);
	struct az_stat st;
	char *s;

	x->o.writeback_delay_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_mkdir(x->v, "both", &w, &st), 0);
	assert_int_equal(fx_write_file(x->v, "both/mine", "m", 1), 0);
	fb_mkdir(&x->fb, "both");
	fb_put(&x->fb, "both/theirs", "t", 1);
	assert_int_equal(vfs_sync_all(x->v), 0);
	s = fb_get(&x->fb, "both/mine", NULL);
	assert_string_equal(s, "m");
	free(s);
	assert_true(fb_exists(&x->fb, "both/theirs"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mkdir_attrs_fold_into_one_create, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_mkdir_rmdir_within_delay_sends_nothing, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rename_pending_dir, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_fsyncdir_makes_it_now, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_close_to_open_mkdir_is_synchronous, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_crash_replays_dirs_before_files, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_name_taken_by_a_directory_merges, fx_setup,
					    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
