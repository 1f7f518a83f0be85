/* test_cache_ns.c: the cache's namespace: attribute and listing caches,
 * request counts, readdir, case rules, mkdir/rmdir/unlink/rename/symlink.
 * In-memory fake backend (cache_fake_backend.h); no network, no FUSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cache_fake_backend.h"

struct names {
	int n;
	int hidden;
	char seen[64][64];
};

static int collect_cb(void *arg, const char *name, const struct az_stat *st)
{
	struct names *nm = arg;

	(void)st;
	if (strncmp(name, ".azsf~", 6) == 0)
		nm->hidden++;
	if (nm->n < 64)
		snprintf(nm->seen[nm->n], sizeof(nm->seen[0]), "%s", name);
	nm->n++;
	return 0;
}

static int has_name(const struct names *nm, const char *name)
{
	int i;

	for (i = 0; i < nm->n && i < 64; i++)
		if (strcmp(nm->seen[i], name) == 0)
			return 1;
	return 0;
}

static void test_getattr_from_listing(void **state)
{
	struct fx *x = *state;
	struct az_stat st;

	fb_mkdir(&x->fb, "d");
	fb_put(&x->fb, "d/a", "aaa", 3);
	fb_put(&x->fb, "d/b", "bb", 2);
	x->o.attr_timeout_ms = 100;
	x->o.dir_timeout_ms = 100;
	assert_int_equal(fx_start(x), 0);
	fb_reset(&x->fb);

	assert_int_equal(vfs_getattr(x->v, "d/a", &st), 0);
	assert_int_equal(st.size, 3);
	assert_int_equal(st.uid, 1000);
	assert_true(S_ISREG(st.mode));
	assert_int_equal(fb_calls(&x->fb, FB_LIST), 1);
	/* siblings and missing names come from the same listing */
	assert_int_equal(vfs_getattr(x->v, "d/b", &st), 0);
	assert_int_equal(st.size, 2);
	assert_int_equal(vfs_getattr(x->v, "d/missing", &st), -ENOENT);
	assert_int_equal(vfs_getattr(x->v, "/d/a", &st), 0);
	assert_int_equal(fb_total(&x->fb), 1);
	/* the parent's own attributes come from the root listing */
	assert_int_equal(vfs_getattr(x->v, "d", &st), 0);
	assert_true(st.is_dir && S_ISDIR(st.mode));
	assert_int_equal(fb_total(&x->fb), 2);
	assert_int_equal(vfs_getattr(x->v, "", &st), 0);
	assert_true(S_ISDIR(st.mode));
	assert_int_equal(fb_total(&x->fb), 2);
	/* after the timeouts: one listing again */
	usleep(150 * 1000);
	fb_put(&x->fb, "d/a", "changed!", 8);
	assert_int_equal(vfs_getattr(x->v, "d/a", &st), 0);
	assert_int_equal(st.size, 8);
	assert_int_equal(fb_calls(&x->fb, FB_LIST), 3); /* d, root, d again */
	assert_int_equal(fb_total(&x->fb), 3);
}

static void test_getattr_missing_parent(void **state)
{
	struct fx *x = *state;
	struct az_stat st;

	fb_put(&x->fb, "file", "x", 1);
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_getattr(x->v, "nodir/x", &st), -ENOENT);
	assert_int_equal(vfs_getattr(x->v, "file/x", &st), -ENOTDIR);
}

static void test_ls_10000(void **state)
{
	struct fx *x = *state;
	struct names nm = {0};
	struct az_stat st;
	char name[64];
	int i;

	fb_mkdir(&x->fb, "many");
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "many/e%05d", i);
		fb_put(&x->fb, name, "", 0);
	}
	x->o.attr_timeout_ms = 60000;
	x->o.dir_timeout_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_readdir(x->v, "many", collect_cb, &nm), 0);
	assert_int_equal(nm.n, 10000);
	/* ls -l: lstat of every entry */
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "many/e%05d", i);
		assert_int_equal(vfs_getattr(x->v, name, &st), 0);
	}
	/* the directory's own lookup lists the root once; the 10,000 entries
	 * cost the two listing pages and nothing else */
	assert_int_equal(fb_calls(&x->fb, FB_LIST), 3);
	assert_int_equal(fb_total(&x->fb), 3);
	assert_int_equal(fb_calls(&x->fb, FB_STAT), 0);
}

static void test_readdir_merge_hidden(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = {.mask = VFS_SET_MODE, .mode = S_IFREG | 0600};
	struct vfs_file *fh = NULL;
	struct names nm = {0};

	fb_mkdir(&x->fb, "d");
	fb_put(&x->fb, "d/x", "1", 1);
	fb_put(&x->fb, "d/.azsf~123456", "tmp", 3);
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_create(x->v, "d/new", O_CREAT | O_WRONLY, &w, &fh), 0);
	assert_int_equal(vfs_readdir(x->v, "d", collect_cb, &nm), 0);
	assert_int_equal(nm.n, 2);
	assert_int_equal(nm.hidden, 0);
	assert_true(has_name(&nm, "x"));
	assert_true(has_name(&nm, "new"));
	assert_false(fb_exists(&x->fb, "d/new")); /* not flushed yet */
	assert_int_equal(vfs_readdir(x->v, "d/x", collect_cb, &nm), -ENOTDIR);
	assert_int_equal(vfs_readdir(x->v, "nope", collect_cb, &nm), -ENOENT);
	vfs_release(x->v, fh);
}

static void test_case_conflicts(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = {.mask = VFS_SET_MODE, .mode = S_IFDIR | 0755};
	struct vfs_file *fh = NULL;
	struct az_stat st;

	fb_put(&x->fb, "Foo", "F", 1);
	fb_put(&x->fb, "bar", "B", 1);
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_getattr(x->v, "foo", &st), -ENOENT); /* exact case */
	assert_int_equal(vfs_create(x->v, "foo", O_CREAT | O_WRONLY, &w, &fh), -EEXIST);
	assert_null(fh);
	assert_int_equal(vfs_mkdir(x->v, "FOO", &w, &st), -EEXIST);
	assert_int_equal(vfs_rename(x->v, "bar", "fOO", 0), -EEXIST);
	assert_int_equal(vfs_symlink(x->v, "t", "FoO", &w, &st), -EEXIST);
	assert_int_equal(vfs_create(x->v, "Foo", O_CREAT | O_EXCL | O_WRONLY, &w, &fh), -EEXIST);
	assert_int_equal(fb_calls(&x->fb, FB_MKDIR) + fb_calls(&x->fb, FB_RENAME), 0);
	assert_true(fb_exists(&x->fb, "bar"));
	/* renaming a file onto its own name in another case is allowed */
	assert_int_equal(vfs_rename(x->v, "bar", "BAR", 0), 0);
	assert_true(fb_exists(&x->fb, "BAR"));
}

static void test_mkdir_rmdir(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = {.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID,
			     .mode = S_IFDIR | 0750,
			     .uid = 7,
			     .gid = 8};
	struct names nm = {0};
	struct az_stat st;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_mkdir(x->v, "d2", &w, &st), 0);
	assert_true(st.is_dir);
	assert_int_equal(st.uid, 7);
	assert_int_equal(st.mode & 07777, 0750);
	assert_true(fb_exists(&x->fb, "d2"));
	assert_int_equal(vfs_mkdir(x->v, "d2", &w, &st), -EEXIST);
	fb_reset(&x->fb);
	assert_int_equal(vfs_getattr(x->v, "d2", &st), 0);
	assert_int_equal(vfs_readdir(x->v, "d2", collect_cb, &nm), 0); /* known empty */
	assert_int_equal(nm.n, 0);
	assert_int_equal(vfs_getattr(x->v, "d2/x", &st), -ENOENT);
	assert_int_equal(fb_total(&x->fb), 0);
	assert_int_equal(vfs_rmdir(x->v, "d2"), 0);
	assert_false(fb_exists(&x->fb, "d2"));
	assert_int_equal(vfs_getattr(x->v, "d2", &st), -ENOENT);
	assert_int_equal(fb_total(&x->fb), 1); /* the rmdir only */
	assert_int_equal(vfs_rmdir(x->v, "d2"), -ENOENT);
	assert_int_equal(vfs_mkdir(x->v, "no/such", &w, &st), -ENOENT);
}

static void test_rmdir_not_empty(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = {.mask = VFS_SET_MODE, .mode = S_IFDIR | 0755};

	fb_mkdir(&x->fb, "full");
	fb_put(&x->fb, "full/x", "1", 1);
	x->o.writeback_delay_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_rmdir(x->v, "full"), -ENOTEMPTY);
	/* a directory holding only a file not uploaded yet is not empty */
	assert_int_equal(vfs_mkdir(x->v, "d", &w, NULL), 0);
	assert_int_equal(fx_write_file(x->v, "d/f", "x", 1), 0);
	assert_false(fb_exists(&x->fb, "d/f"));
	assert_int_equal(vfs_rmdir(x->v, "d"), -ENOTEMPTY);
	assert_int_equal(vfs_unlink(x->v, "d"), -EISDIR);
	assert_int_equal(vfs_unlink(x->v, "d/f"), 0);
	assert_int_equal(vfs_rmdir(x->v, "d"), 0);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 0);
}

static void test_rename_file(void **state)
{
	struct fx *x = *state;
	struct az_stat st;
	char *s;

	fb_put(&x->fb, "a", "alpha", 5);
	fb_put(&x->fb, "b", "beta", 4);
	fb_put(&x->fb, "c", "gamma", 5);
	assert_int_equal(fx_start(x), 0);
	s = fx_read_file(x->v, "a", NULL);
	assert_string_equal(s, "alpha");
	free(s);
	assert_int_equal(vfs_rename(x->v, "a", "b", VFS_RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(fb_calls(&x->fb, FB_RENAME), 0);
	assert_int_equal(vfs_rename(x->v, "a", "b", 0), 0); /* replaces atomically */
	assert_false(fb_exists(&x->fb, "a"));
	s = fb_get(&x->fb, "b", NULL);
	assert_string_equal(s, "alpha");
	free(s);
	assert_int_equal(vfs_getattr(x->v, "a", &st), -ENOENT);
	assert_int_equal(vfs_getattr(x->v, "b", &st), 0);
	assert_int_equal(st.size, 5);
	s = fx_read_file(x->v, "b", NULL);
	assert_string_equal(s, "alpha");
	free(s);
	assert_int_equal(vfs_rename(x->v, "c", "new", VFS_RENAME_NOREPLACE), 0);
	assert_true(fb_exists(&x->fb, "new"));
	assert_int_equal(vfs_rename(x->v, "nothere", "x", 0), -ENOENT);
}

static void test_rename_dir(void **state)
{
	struct fx *x = *state;
	struct az_stat st;
	char *s;

	fb_mkdir(&x->fb, "d");
	fb_mkdir(&x->fb, "d/sub");
	fb_put(&x->fb, "d/x", "xx", 2);
	fb_put(&x->fb, "d/sub/y", "yyy", 3);
	assert_int_equal(fx_start(x), 0);
	s = fx_read_file(x->v, "d/sub/y", NULL);
	assert_string_equal(s, "yyy");
	free(s);
	assert_int_equal(vfs_rename(x->v, "d", "d/sub/in", 0), -EINVAL);
	assert_int_equal(vfs_rename(x->v, "d", "e", 0), 0);
	assert_true(fb_exists(&x->fb, "e/sub/y"));
	assert_int_equal(vfs_getattr(x->v, "d/x", &st), -ENOENT);
	assert_int_equal(vfs_getattr(x->v, "e/x", &st), 0);
	assert_int_equal(st.size, 2);
	s = fx_read_file(x->v, "e/sub/y", NULL);
	assert_string_equal(s, "yyy");
	free(s);
}

static void test_unlink_open_file(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	struct az_stat st;
	char buf[16] = {0};

	fb_put(&x->fb, "f", "payload", 7);
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_open(x->v, "f", O_RDWR, &fh), 0);
	assert_int_equal(vfs_read(x->v, fh, buf, sizeof(buf), 0), 7);
	assert_int_equal(vfs_unlink(x->v, "f"), 0);
	assert_false(fb_exists(&x->fb, "f"));
	assert_int_equal(vfs_getattr(x->v, "f", &st), -ENOENT);
	/* the handle keeps working on the local copy */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(vfs_read(x->v, fh, buf, sizeof(buf), 0), 7);
	assert_string_equal(buf, "payload");
	assert_int_equal(vfs_write(x->v, fh, "PAY", 3, 0), 3);
	assert_int_equal(vfs_read(x->v, fh, buf, 7, 0), 7);
	assert_memory_equal(buf, "PAYload", 7);
	assert_int_equal(vfs_fsync(x->v, fh), 0);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_false(fb_exists(&x->fb, "f"));
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 0);
	assert_int_equal(vfs_unlink(x->v, "f"), -ENOENT);
}

static void test_unlink_open_unread_file(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	char buf[16] = {0};

	fb_put(&x->fb, "f", "unread", 6);
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_open(x->v, "f", O_RDONLY, &fh), 0);
	assert_int_equal(fb_calls(&x->fb, FB_DOWNLOAD), 0); /* lazy */
	assert_int_equal(vfs_unlink(x->v, "f"), 0);
	assert_false(fb_exists(&x->fb, "f"));
	assert_int_equal(vfs_read(x->v, fh, buf, sizeof(buf), 0), 6);
	assert_string_equal(buf, "unread");
	assert_int_equal(vfs_release(x->v, fh), 0);
}

struct rd_arg {
	struct fx *x;
	int rc;
};

static void *readdir_thread(void *p)
{
	struct rd_arg *a = p;
	struct names nm = {0};

	a->rc = vfs_readdir(a->x->v, "", collect_cb, &nm);
	return NULL;
}

/* A listing taken before this node's upload must not hide the new file. */
static void test_listing_older_than_upload(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = {0};
	struct vfs_file *fh = NULL;
	struct rd_arg a = {x, -1};
	struct az_stat st;
	pthread_t th;
	char *s;

	x->o.dir_timeout_ms = 50;
	x->o.attr_timeout_ms = 50;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_create(x->v, "x", O_CREAT | O_RDWR, &w, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "one", 3, 0), 3);
	usleep(60 * 1000);
	x->fb.list_delay_ms = 200;
	assert_int_equal(pthread_create(&th, NULL, readdir_thread, &a), 0);
	usleep(50 * 1000); /* the listing (without x) is on its way */
	assert_int_equal(vfs_flush(x->v, fh), 0);
	pthread_join(th, NULL);
	assert_int_equal(a.rc, 0);
	x->fb.list_delay_ms = 0;
	assert_int_equal(vfs_getattr(x->v, "x", &st), 0);
	assert_int_equal(vfs_write(x->v, fh, "two", 3, 0), 3); /* still attached */
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	s = fb_get(&x->fb, "x", NULL);
	assert_string_equal(s, "two");
	free(s);
}

static void test_symlink_readlink(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = {.mask = VFS_SET_UID | VFS_SET_GID, .uid = 5, .gid = 6};
	struct az_stat st;
	char buf[64];

	fb_put(&x->fb, "plain", "p", 1);
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_symlink(x->v, "target/x", "l", &w, &st), 0);
	assert_true(S_ISLNK(st.mode));
	fb_reset(&x->fb);
	assert_int_equal(vfs_readlink(x->v, "l", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "target/x");
	assert_int_equal(vfs_getattr(x->v, "l", &st), 0);
	assert_true(S_ISLNK(st.mode));
	assert_int_equal(fb_total(&x->fb), 0);
	assert_int_equal(vfs_symlink(x->v, "other", "l", &w, &st), -EEXIST);
	assert_int_equal(vfs_readlink(x->v, "plain", buf, sizeof(buf)), -EINVAL);
}

static void test_offline_stale_attrs(void **state)
{
	struct fx *x = *state;
	struct names nm = {0};
	struct az_stat st;

	fb_mkdir(&x->fb, "d");
	fb_put(&x->fb, "d/a", "aaa", 3);
	x->o.attr_timeout_ms = 20;
	x->o.dir_timeout_ms = 20;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_getattr(x->v, "d/a", &st), 0);
	usleep(40 * 1000);
	fb_set_fail_all(&x->fb, ETIMEDOUT);
	assert_int_equal(vfs_getattr(x->v, "d/a", &st), 0); /* stale, but served */
	assert_int_equal(st.size, 3);
	assert_int_equal(vfs_readdir(x->v, "d", collect_cb, &nm), 0);
	assert_int_equal(nm.n, 1);
	assert_int_equal(vfs_getattr(x->v, "unknown/x", &st), -ETIMEDOUT);
	fb_set_fail_all(&x->fb, 0);
	assert_int_equal(vfs_getattr(x->v, "d/a", &st), 0);
}

static void test_setattr_dir_and_statfs(void **state)
{
	struct fx *x = *state;
	struct vfs_want w = {.mask = VFS_SET_MODE, .mode = S_IFDIR | 0700};
	uint64_t total = 0, used = 0;
	struct az_stat st;

	fb_mkdir(&x->fb, "d");
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_setattr(x->v, "d", NULL, &w, &st), 0);
	assert_int_equal(st.mode & 07777, 0700);
	assert_true(st.is_dir);
	assert_int_equal(fb_calls(&x->fb, FB_SETATTR), 1);
	assert_int_equal(vfs_statfs(x->v, &total, &used), 0);
	assert_int_equal(used, 12345);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_getattr_from_listing, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_getattr_missing_parent, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_ls_10000, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_readdir_merge_hidden, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_case_conflicts, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_mkdir_rmdir, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rmdir_not_empty, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rename_file, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rename_dir, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_unlink_open_file, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_unlink_open_unread_file, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_listing_older_than_upload, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_readlink, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_offline_stale_attrs, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_setattr_dir_and_statfs, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
