/* test_cache_wb.c: write-back mode, the journal and its replay after a
 * crash, conflicts, the cache dir lock and permissions, offline writes,
 * eviction never dropping dirty data.
 * In-memory fake backend (cache_fake_backend.h); no network, no FUSE.
 * Crashes are simulated by a forked child that sets up a vfs, writes, and
 * _exit()s without vfs_free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cache_fake_backend.h"

struct up_wait {
	struct fb *fb;
	int n;
};

static int uploads_reached(void *arg)
{
	struct up_wait *w = arg;

	return fb_calls(w->fb, FB_UPLOAD) >= w->n;
}

static int wait_uploads(struct fb *fb, int n, int timeout_ms)
{
	struct up_wait w = {fb, n};

	return fb_wait(uploads_reached, &w, timeout_ms);
}

static void test_wb_flush_returns_then_uploads(void **state)
{
	struct fx *x = *state;
	char *s;
	int64_t t0;

	x->o.writeback_delay_ms = 100;
	assert_int_equal(fx_start(x), 0);
	fb_reset(&x->fb);
	t0 = fb_ms();
	assert_int_equal(fx_write_file(x->v, "f", "later", 5), 0);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 0);
	assert_true(wait_uploads(&x->fb, 1, 5000));
	assert_true(fb_ms() - t0 >= 45); /* not before half the delay */
	s = fb_get(&x->fb, "f", NULL);
	assert_string_equal(s, "later");
	free(s);
}

static void test_wb_temp_never_uploaded(void **state)
{
	struct fx *x = *state;
	struct az_stat st;

	x->o.writeback_delay_ms = 400; /* uploads may start after 200 ms */
	assert_int_equal(fx_start(x), 0);
	fb_reset(&x->fb);
	assert_int_equal(fx_write_file(x->v, "tmp", "scratch", 7), 0);
	assert_int_equal(vfs_getattr(x->v, "tmp", &st), 0);
	assert_int_equal(st.size, 7);
	assert_int_equal(vfs_unlink(x->v, "tmp"), 0);
	usleep(300 * 1000);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 0);
	assert_int_equal(fb_calls(&x->fb, FB_UNLINK), 0);
	assert_false(fb_exists(&x->fb, "tmp"));
	assert_int_equal(vfs_getattr(x->v, "tmp", &st), -ENOENT);
}

static void test_wb_renamed_over_within_delay(void **state)
{
	struct fx *x = *state;
	char *s;

	fb_put(&x->fb, "doc", "v1", 2);
	x->o.writeback_delay_ms = 100;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "doc.tmp", "v2", 2), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_rename(x->v, "doc.tmp", "doc", 0), 0);
	assert_int_equal(fb_total(&x->fb), 0); /* stays local */
	assert_true(wait_uploads(&x->fb, 1, 5000));
	s = fb_get(&x->fb, "doc", NULL);
	assert_string_equal(s, "v2");
	free(s);
	assert_false(fb_exists(&x->fb, "doc.tmp"));
	usleep(150 * 1000);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 1);
	assert_int_equal(fb_calls(&x->fb, FB_RENAME), 0);
}

static void test_wb_rename_dirty_remote(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	char *s;

	fb_put(&x->fb, "a", "old", 3);
	x->o.writeback_delay_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_open(x->v, "a", O_RDWR, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "NEW", 3, 0), 3);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(vfs_rename(x->v, "a", "b", 0), 0);
	assert_false(fb_exists(&x->fb, "a"));
	s = fb_get(&x->fb, "b", NULL);
	assert_string_equal(s, "NEW");
	free(s);
	s = fx_read_file(x->v, "b", NULL);
	assert_string_equal(s, "NEW");
	free(s);
}

static void test_wb_fsync_is_synchronous(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = {0};
	struct vfs_file *fh = NULL;
	char *s;

	x->o.writeback_delay_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_create(x->v, "f", O_CREAT | O_WRONLY, &w, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "sync", 4, 0), 4);
	assert_int_equal(vfs_fsync(x->v, fh), 0);
	s = fb_get(&x->fb, "f", NULL);
	assert_string_equal(s, "sync");
	free(s);
	assert_int_equal(vfs_release(x->v, fh), 0);
}

static void test_wb_parallel_uploads(void **state)
{
	struct fx *x = *state;
	char name[16];
	int i;

	x->o.writeback_delay_ms = 10;
	x->o.upload_threads = 4;
	x->fb.upload_delay_ms = 150;
	assert_int_equal(fx_start(x), 0);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		assert_int_equal(fx_write_file(x->v, name, name, strlen(name)), 0);
	}
	assert_true(wait_uploads(&x->fb, 8, 10000));
	assert_true(x->fb.uploads_max >= 2);
	assert_int_equal(fb_count_prefix(&x->fb, "p"), 8);
}

static void test_wb_jupyter_budget(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = {.mask = VFS_SET_MODE, .mode = S_IFREG | 0644};
	struct vfs_want tw = {.mask = VFS_SET_MTIME};
	struct vfs_want cw = {.mask = VFS_SET_MODE, .mode = S_IFREG | 0600};
	struct vfs_file *fh = NULL;
	struct az_stat st;
	char *s;

	fb_put(&x->fb, "a.ipynb", "{old}", 5);
	x->o.writeback_delay_ms = 500;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_getattr(x->v, "a.ipynb", &st), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_create(x->v, ".~a.ipynb", O_CREAT | O_WRONLY, &w, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "{old}", 5, 0), 5);
	assert_int_equal(vfs_setattr(x->v, ".~a.ipynb", fh, &tw, &st), 0);
	assert_int_equal(vfs_setattr(x->v, ".~a.ipynb", fh, &cw, &st), 0);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(vfs_open(x->v, "a.ipynb", O_WRONLY | O_TRUNC, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "{new}", 5, 0), 5);
	assert_int_equal(vfs_fsync(x->v, fh), 0);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(vfs_unlink(x->v, ".~a.ipynb"), 0);
	usleep(700 * 1000);
	assert_true(fb_total(&x->fb) <= 2);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 1);
	s = fb_get(&x->fb, "a.ipynb", NULL);
	assert_string_equal(s, "{new}");
	free(s);
	assert_false(fb_exists(&x->fb, ".~a.ipynb"));
}

static void test_wb_free_uploads_pending(void **state)
{
	struct fx *x = *state;
	char *s;

	x->o.writeback_delay_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "f", "pending", 7), 0);
	assert_false(fb_exists(&x->fb, "f"));
	fx_stop(x);
	s = fb_get(&x->fb, "f", NULL);
	assert_string_equal(s, "pending");
	free(s);
}

/* Child: a vfs with its own fake share, writes, then dies without vfs_free. */
static void crash_child(struct fx *x, long delay_ms, int use_fsync, int fail_uploads)
{
	struct vfs_want w = {.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID,
			     .mode = S_IFREG | 0640,
			     .uid = 77,
			     .gid = 78};
	struct vfs_file *fh = NULL;
	int rc;

	alarm(20);
	x->o.writeback_delay_ms = delay_ms;
	if (fx_start(x) != 0)
		_exit(10);
	if (vfs_create(x->v, "d/f", O_CREAT | O_WRONLY, &w, &fh) < 0)
		_exit(11);
	if (fail_uploads)
		fb_set_fail_all(&x->fb, EIO);
	if (vfs_write(x->v, fh, "survivor", 8, 0) != 8)
		_exit(12);
	rc = use_fsync ? vfs_fsync(x->v, fh) : vfs_flush(x->v, fh);
	if (rc != (fail_uploads ? -EIO : 0))
		_exit(13);
	_exit(fb_exists(&x->fb, "d/f") ? 14 : 0); /* killed before any upload */
}

static void run_crash_child(struct fx *x, long delay_ms, int use_fsync, int fail_uploads)
{
	int status = 0;
	pid_t pid;

	fb_mkdir(&x->fb, "d");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		crash_child(x, delay_ms, use_fsync, fail_uploads);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void check_replayed(struct fx *x)
{
	char *s;

	fb_reset(&x->fb);
	assert_int_equal(fx_start(x), 0);
	/* uploaded before vfs_init returned */
	s = fb_get(&x->fb, "d/f", NULL);
	assert_non_null(s);
	assert_string_equal(s, "survivor");
	free(s);
	pthread_mutex_lock(&x->fb.lock);
	assert_int_equal(fb_find(&x->fb, "d/f")->mode & 07777, 0640);
	assert_int_equal(fb_find(&x->fb, "d/f")->uid, 77);
	pthread_mutex_unlock(&x->fb.lock);
	assert_int_equal(fx_journal_records(x->dir), 0);
	s = fx_read_file(x->v, "d/f", NULL);
	assert_string_equal(s, "survivor");
	free(s);
}

static void test_replay_after_crash_writeback(void **state)
{
	struct fx *x = *state;

	run_crash_child(x, 60000, 0, 0);
	assert_false(fb_exists(&x->fb, "d/f"));
	check_replayed(x);
}

static void test_replay_after_crash_failed_fsync(void **state)
{
	struct fx *x = *state;

	run_crash_child(x, 0, 1, 1); /* close-to-open, share down: fsync fails */
	check_replayed(x);
}

static void test_replay_conflict(void **state)
{
	struct fx *x = *state;
	char *s;

	run_crash_child(x, 60000, 0, 0);
	fb_put(&x->fb, "d/f", "other node", 10); /* appeared meanwhile */
	assert_int_equal(fx_start(x), 0);
	s = fb_get(&x->fb, "d/f", NULL);
	assert_string_equal(s, "other node");
	free(s);
	assert_int_equal(fb_count_prefix(&x->fb, "d/f.conflict-"), 1);
	s = fx_read_file(x->v, "d/f", NULL);
	assert_string_equal(s, "other node");
	free(s);
}

static int find_conflict(struct fb *fb, const char *prefix, char *out, size_t len)
{
	struct fb_ent *e;
	int n = 0;

	pthread_mutex_lock(&fb->lock);
	for (e = fb->ents; e; e = e->next)
		if (strncmp(e->path, prefix, strlen(prefix)) == 0) {
			snprintf(out, len, "%s", e->path);
			n++;
		}
	pthread_mutex_unlock(&fb->lock);
	return n;
}

static void test_conflict_copy(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	char name[4200], host[64], *s;

	fb_put(&x->fb, "n.txt", "base", 4);
	x->o.conflict_slack_ms = 0; /* always ask the share */
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_open(x->v, "n.txt", O_RDWR, &fh), 0);
	assert_int_equal(vfs_read(x->v, fh, name, 4, 0), 4);
	fb_put(&x->fb, "n.txt", "theirs", 6); /* another node saves */
	assert_int_equal(vfs_write(x->v, fh, "mine", 4, 0), 4);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	s = fb_get(&x->fb, "n.txt", NULL);
	assert_string_equal(s, "theirs"); /* the remote is kept */
	free(s);
	assert_int_equal(find_conflict(&x->fb, "n.txt.conflict-", name, sizeof(name)), 1);
	gethostname(host, sizeof(host));
	assert_non_null(strstr(name, ".conflict-"));
	assert_int_equal(strlen(name), strlen("n.txt.conflict-") + strlen(host) + 16);
	s = fb_get(&x->fb, name, NULL);
	assert_string_equal(s, "mine");
	free(s);
	s = fx_read_file(x->v, "n.txt", NULL); /* the local copy follows the remote */
	assert_string_equal(s, "theirs");
	free(s);
}

static void test_new_name_appeared(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = {0};
	struct vfs_file *fh = NULL;
	char name[4200], *s;

	x->o.conflict_slack_ms = 0;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_create(x->v, "new", O_CREAT | O_WRONLY, &w, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "mine", 4, 0), 4);
	fb_put(&x->fb, "new", "theirs", 6);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	s = fb_get(&x->fb, "new", NULL);
	assert_string_equal(s, "theirs");
	free(s);
	assert_int_equal(find_conflict(&x->fb, "new.conflict-", name, sizeof(name)), 1);
	s = fb_get(&x->fb, name, NULL);
	assert_string_equal(s, "mine");
	free(s);
}

/* Write-back, default slack: the directory was listed just before the
 * create, another node makes the same name after our close, our upload
 * starts within conflict_slack of that listing. The listing predates the
 * close, so it is not the check: the upload asks again and keeps theirs. */
static void test_wb_new_name_appeared_after_close(void **state)
{
	struct fx *x = *state;
	char name[4200], *s;

	x->o.writeback_delay_ms = 2000; /* uploads from 1 s after the close */
	x->o.conflict_slack_ms = 1000;
	fb_mkdir(&x->fb, "d");
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "d", fb_ignore_entry, NULL), 0);
	assert_int_equal(fx_write_file(x->v, "d/clash", "mine", 4), 0);
	fb_put(&x->fb, "d/clash", "theirs", 6); /* B, right after our close */
	assert_true(wait_uploads(&x->fb, 1, 5000));
	s = fb_get(&x->fb, "d/clash", NULL);
	assert_string_equal(s, "theirs");
	free(s);
	assert_int_equal(find_conflict(&x->fb, "d/clash.conflict-", name, sizeof(name)), 1);
	s = fb_get(&x->fb, name, NULL);
	assert_string_equal(s, "mine");
	free(s);
}

static void test_no_conflict_when_unchanged(void **state)
{
	struct fx *x = *state;
	char *s;

	fb_put(&x->fb, "u", "one", 3);
	x->o.conflict_slack_ms = 0;
	assert_int_equal(fx_start(x), 0);
	s = fx_read_file(x->v, "u", NULL);
	free(s);
	fb_reset(&x->fb);
	assert_int_equal(fx_write_file(x->v, "u", "two", 3), 0);
	s = fb_get(&x->fb, "u", NULL);
	assert_string_equal(s, "two");
	free(s);
	assert_int_equal(fb_count_prefix(&x->fb, "u.conflict"), 0);
	assert_true(fb_calls(&x->fb, FB_STAT) >= 1); /* the check happened */
}

static void test_lock_busy_and_perms(void **state)
{
	struct fx *x = *state;
	struct vfs *second = NULL;
	char path[4200];
	struct stat sb;

	x->o.writeback_delay_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_init(&second, &x->o, &x->be), -EBUSY);
	assert_null(second);
	assert_int_equal(stat(x->dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(fx_write_file(x->v, "f", "abc", 3), 0);
	snprintf(path, sizeof(path), "%s/journal/log", x->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(fx_journal_records(x->dir), 1);
	snprintf(path, sizeof(path), "%s/data/1", x->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	fx_stop(x);
	assert_int_equal(vfs_init(&second, &x->o, &x->be), 0); /* free again */
	vfs_free(second);
}

static void test_offline_writes_queued(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = {0};
	struct vfs_file *fh = NULL;
	char *s;

	x->o.writeback_delay_ms = 20;
	x->o.offline_writes = 1;
	assert_int_equal(fx_start(x), 0);
	fb_set_fail_all(&x->fb, ECONNREFUSED);
	assert_int_equal(fx_write_file(x->v, "q1", "queued", 6), 0);
	assert_int_equal(vfs_create(x->v, "q2", O_CREAT | O_WRONLY, &w, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "fsynced", 7, 0), 7);
	assert_int_equal(vfs_fsync(x->v, fh), 0); /* journaled: kept for later */
	assert_int_equal(vfs_release(x->v, fh), 0);
	usleep(100 * 1000);
	assert_false(fb_exists(&x->fb, "q1"));
	fb_set_fail_all(&x->fb, 0);
	assert_int_equal(vfs_sync_all(x->v), 0);
	s = fb_get(&x->fb, "q1", NULL);
	assert_string_equal(s, "queued");
	free(s);
	s = fb_get(&x->fb, "q2", NULL);
	assert_string_equal(s, "fsynced");
	free(s);
}

static int ignore_cb(void *arg, const char *name, const struct az_stat *st)
{
	(void)arg;
	(void)name;
	(void)st;
	return 0;
}

static void test_offline_without_offline_writes(void **state)
{
	struct fx *x = *state;
	char *s;

	x->o.writeback_delay_ms = 20;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "", ignore_cb, NULL), 0); /* root listed */
	fb_set_fail_all(&x->fb, ETIMEDOUT);
	assert_int_equal(fx_write_file(x->v, "early", "e", 1), 0); /* not known down yet */
	usleep(100 * 1000);					   /* its upload fails */
	assert_int_equal(fx_write_file(x->v, "w", "refused", 7), -EIO);
	{ /* a mkdir is not queued either: it asks the share, which fails */
		struct vfs_want dw = {.mask = VFS_SET_MODE, .mode = S_IFDIR | 0755};
		struct az_stat st;

		assert_int_equal(vfs_mkdir(x->v, "newdir", &dw, &st), -ETIMEDOUT);
	}
	fb_set_fail_all(&x->fb, 0);
	assert_int_equal(vfs_sync_all(x->v), 0);
	assert_false(fb_exists(&x->fb, "newdir"));
	s = fb_get(&x->fb, "early", NULL);
	assert_string_equal(s, "e");
	free(s);
	s = fb_get(&x->fb, "w", NULL); /* still not lost */
	assert_string_equal(s, "refused");
	free(s);
}

static void test_eviction_keeps_dirty(void **state)
{
	struct fx *x = *state;
	char name[32], data[40 * 1024], *s;
	int i;

	x->o.writeback_delay_ms = 60000;
	x->o.cache_max_bytes = 64 * 1024;
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "clean%d", i);
		memset(data, 'c', sizeof(data));
		fb_put(&x->fb, name, data, sizeof(data));
	}
	assert_int_equal(fx_start(x), 0);
	for (i = 0; i < 4; i++) { /* 160 KiB of dirty data, over the cap */
		snprintf(name, sizeof(name), "dirty%d", i);
		memset(data, 'a' + i, sizeof(data));
		assert_int_equal(fx_write_file(x->v, name, data, sizeof(data)), 0);
	}
	for (i = 0; i < 4; i++) { /* clean reads push for eviction */
		snprintf(name, sizeof(name), "clean%d", i);
		s = fx_read_file(x->v, name, NULL);
		free(s);
	}
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 0);
	assert_int_equal(vfs_sync_all(x->v), 0);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "dirty%d", i);
		memset(data, 'a' + i, sizeof(data));
		s = fb_get(&x->fb, name, NULL);
		assert_non_null(s);
		assert_memory_equal(s, data, sizeof(data));
		free(s);
	}
}

struct stress_arg {
	struct fx *x;
	int id;
	int errors;
};

/* One thread: rewrite, read back, rename and delete its own files while the
 * workers upload them. */
static void *stress_thread(void *p)
{
	struct stress_arg *a = p;
	struct vfs *v = a->x->v;
	char name[64], other[64], data[64], *s;
	int i;

	for (i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "s/t%d-%d", a->id, i % 5);
		snprintf(other, sizeof(other), "s/t%d-r", a->id);
		snprintf(data, sizeof(data), "thread %d round %d", a->id, i);
		if (fx_write_file(v, name, data, strlen(data)) != 0)
			a->errors++;
		s = fx_read_file(v, name, NULL);
		if (!s || strcmp(s, data) != 0)
			a->errors++;
		free(s);
		if (i % 7 == 0 && vfs_rename(v, name, other, 0) != 0)
			a->errors++;
		if (i % 11 == 0)
			vfs_unlink(v, other);
	}
	for (i = 0; i < 5; i++) { /* final, known contents */
		snprintf(name, sizeof(name), "s/t%d-%d", a->id, i);
		snprintf(data, sizeof(data), "final %d %d", a->id, i);
		if (fx_write_file(v, name, data, strlen(data)) != 0)
			a->errors++;
	}
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	struct fx *x = *state;
	struct stress_arg args[4];
	pthread_t th[4];
	char name[64], data[64], *s;
	int i, j;

	fb_mkdir(&x->fb, "s");
	x->o.writeback_delay_ms = 5;
	x->o.upload_threads = 3;
	assert_int_equal(fx_start(x), 0);
	for (i = 0; i < 4; i++) {
		args[i] = (struct stress_arg){x, i, 0};
		assert_int_equal(pthread_create(&th[i], NULL, stress_thread, &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].errors, 0);
	}
	assert_int_equal(vfs_sync_all(x->v), 0);
	for (i = 0; i < 4; i++)
		for (j = 0; j < 5; j++) {
			snprintf(name, sizeof(name), "s/t%d-%d", i, j);
			snprintf(data, sizeof(data), "final %d %d", i, j);
			s = fb_get(&x->fb, name, NULL);
			assert_non_null(s);
			assert_string_equal(s, data);
			free(s);
		}
	assert_int_equal(fb_count_prefix(&x->fb, "s/t0-0.conflict"), 0);
}

/* Write-back mode: a re-open within attr_timeout trusts the attributes (no
 * request, the copy is served); once they expire the open asks again and
 * sees another node's change. Close-to-open keeps asking every time
 * (test_cache_file.c, test_reopen_unchanged). */
static void test_wb_hot_reopen_free(void **state)
{
	struct fx *x = *state;
	char *s;
	int i;

	x->o.writeback_delay_ms = 100;
	x->o.attr_timeout_ms = 300;
	fb_put(&x->fb, "f", "hello", 5);
	assert_int_equal(fx_start(x), 0);
	s = fx_read_file(x->v, "f", NULL);
	assert_string_equal(s, "hello");
	free(s);
	fb_reset(&x->fb);
	for (i = 0; i < 20; i++) {
		s = fx_read_file(x->v, "f", NULL);
		assert_string_equal(s, "hello");
		free(s);
	}
	assert_int_equal(fb_total(&x->fb), 0);
	fb_put(&x->fb, "f", "HELLO", 5); /* another node */
	usleep(350 * 1000);
	s = fx_read_file(x->v, "f", NULL);
	assert_string_equal(s, "HELLO");
	free(s);
	assert_true(fb_total(&x->fb) >= 1);
}

/* New files of one directory uploaded by several workers at once: a
 * listing of the directory taken within conflict_slack_ms (here the one
 * the creates made) checks all their names; no HEAD per file. */
static void test_wb_new_names_checked_by_one_listing(void **state)
{
	struct fx *x = *state;
	char name[32];
	int i;

	x->o.writeback_delay_ms = 100;
	x->o.conflict_slack_ms = 5000;
	x->o.upload_threads = 8;
	fb_mkdir(&x->fb, "d");
	assert_int_equal(fx_start(x), 0);
	fb_reset(&x->fb);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "d/n%02d", i);
		assert_int_equal(fx_write_file(x->v, name, "x", 1), 0);
	}
	x->fb.list_delay_ms = 20;
	assert_true(wait_uploads(&x->fb, 40, 10000));
	assert_int_equal(fb_calls(&x->fb, FB_STAT), 0);
	assert_in_range(fb_calls(&x->fb, FB_LIST), 1, 3); /* the creates' lookups */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_wb_flush_returns_then_uploads, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wb_temp_never_uploaded, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wb_renamed_over_within_delay, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wb_rename_dirty_remote, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wb_fsync_is_synchronous, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wb_parallel_uploads, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wb_jupyter_budget, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wb_free_uploads_pending, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_replay_after_crash_writeback, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_replay_after_crash_failed_fsync, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_replay_conflict, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_conflict_copy, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_new_name_appeared, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wb_new_name_appeared_after_close, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_no_conflict_when_unchanged, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_lock_busy_and_perms, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_offline_writes_queued, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_offline_without_offline_writes, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_eviction_keeps_dirty, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_writers, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wb_hot_reopen_free, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wb_new_names_checked_by_one_listing, fx_setup,
					    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
