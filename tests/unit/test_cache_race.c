/* test_cache_race.c: races between a directory listing and creates of new
 * names in that directory (the write-back "create fails with ENOENT" bug of
 * docs/benchmarks.md, "Found on the way").
 * A listing that lacks a name this node is creating must not remove it:
 * vfs_create makes a local-only node, then (v->lock dropped) creates the
 * empty data file; a listing merged in between used to find a local-only
 * node whose file was not dirty yet, prune it and orphan the file, so the
 * kernel's getattr right after the create said ENOENT and the file was
 * never uploaded.
 * In-memory fake backend (cache_fake_backend.h); no network, no FUSE.
 * Timing-based (many creates against a lister thread); it failed within
 * the first few hundred creates before the fix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cache_fake_backend.h"

#define NCREATE 2000

struct lister {
	struct fx *x;
	volatile int stop;
	int lists;
};

static int ignore_entry(void *arg, const char *name, const struct az_stat *st)
{
	(void)arg;
	(void)name;
	(void)st;
	return 0;
}

/* Lists "d" again and again (dir_timeout_ms = 0: every readdir lists). */
static void *lister_main(void *arg)
{
	struct lister *l = arg;

	while (!l->stop) {
		if (vfs_readdir(l->x->v, "d", ignore_entry, NULL) == 0)
			l->lists++;
	}
	return NULL;
}

static int setup(void **state)
{
	int rc = fx_setup(state);
	struct fx *x = *state;

	x->o.writeback_delay_ms = 60000; /* nothing uploads until the sync */
	x->o.attr_timeout_ms = 60000;
	x->o.dir_timeout_ms = 0;
	x->o.neg_timeout_ms = 0;
	return rc;
}

/* Creates NCREATE new names in "d" while another thread lists "d": every
 * create succeeds, its name is there at once (the kernel's getattr after
 * create), and every file reaches the share at the sync. */
static void test_create_while_listing(void **state)
{
	struct fx *x = *state;
	struct lister l = {x, 0, 0};
	struct vfs_want w = {0};
	struct vfs_file *fh;
	struct az_stat st;
	pthread_t th;
	char path[64];
	int i, bad_create = 0, bad_attr = 0, rc;

	fb_mkdir(&x->fb, "d");
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(pthread_create(&th, NULL, lister_main, &l), 0);
	for (i = 0; i < NCREATE; i++) {
		snprintf(path, sizeof(path), "d/f%05d", i);
		fh = NULL;
		rc = vfs_create(x->v, path, O_CREAT | O_WRONLY, &w, &fh);
		if (rc != 0) {
			bad_create++;
			continue;
		}
		if (vfs_getattr(x->v, path, &st) != 0)
			bad_attr++;
		assert_int_equal(vfs_flush(x->v, fh), 0);
		assert_int_equal(vfs_release(x->v, fh), 0);
	}
	l.stop = 1;
	pthread_join(th, NULL);
	print_message("creates %d, listings meanwhile %d\n", NCREATE, l.lists);
	assert_true(l.lists > 10); /* the race was exercised */
	assert_int_equal(bad_create, 0);
	assert_int_equal(bad_attr, 0);
	assert_int_equal(vfs_sync_all(x->v), 0);
	assert_int_equal(fb_count_prefix(&x->fb, "d/f"), NCREATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_while_listing, setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
