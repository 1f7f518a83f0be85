/* test_cache_neg.c: "no such name" answers (cache/attrcache.c): trusted
 * for neg_timeout_ms only, so a name another node created shows up within
 * that window, at one request per directory per window.
 * In-memory fake backend (cache_fake_backend.h); no network, no FUSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cache_fake_backend.h"

#define NEG_MS 100

static int setup(void **state)
{
	int rc = fx_setup(state);
	struct fx *x = *state;

	x->o.attr_timeout_ms = 60000; /* only the negative window expires */
	x->o.dir_timeout_ms = 60000;
	x->o.neg_timeout_ms = NEG_MS;
	return rc;
}

/* Another node creates a name after this node listed the directory: seen
 * once the window is over, for one request; the data too. */
static void test_new_name_seen_after_window(void **state)
{
	struct fx *x = *state;
	struct az_stat st;
	char *s;

	fb_mkdir(&x->fb, "d");
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "d", fb_ignore_entry, NULL), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_getattr(x->v, "d/new", &st), -ENOENT); /* the fresh listing */
	fb_put(&x->fb, "d/new", "from B", 6);
	assert_int_equal(vfs_getattr(x->v, "d/new", &st), -ENOENT); /* within the window */
	assert_int_equal(fb_total(&x->fb), 0);
	usleep((NEG_MS + 50) * 1000);
	assert_int_equal(vfs_getattr(x->v, "d/new", &st), 0);
	assert_int_equal(st.size, 6);
	assert_int_equal(fb_calls(&x->fb, FB_LIST), 1);
	assert_int_equal(fb_total(&x->fb), 1);
	s = fx_read_file(x->v, "d/new", NULL);
	assert_non_null(s);
	assert_string_equal(s, "from B");
	free(s);
}

/* Misses of many names in one directory: one listing per window, and the
 * names found meanwhile are found. */
/* Write-back mode sees other nodes' changes up to the timeouts late, so a
 * listing's "no such name" stands for dir_timeout there, not neg_timeout:
 * tar and git creating names in a directory on the share ask once. */
static void test_writeback_trusts_listing_for_dir_timeout(void **state)
{
	struct fx *x = *state;
	struct az_stat st;

	x->o.writeback_delay_ms = 60000;
	x->o.dir_timeout_ms = 10 * NEG_MS;
	fb_mkdir(&x->fb, "d");
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "d", fb_ignore_entry, NULL), 0);
	fb_put(&x->fb, "d/new", "from B", 6);
	fb_reset(&x->fb);
	usleep((NEG_MS + 50) * 1000); /* past neg_timeout, within dir_timeout */
	assert_int_equal(vfs_getattr(x->v, "d/new", &st), -ENOENT);
	assert_int_equal(vfs_getattr(x->v, "d/other", &st), -ENOENT);
	assert_int_equal(fb_total(&x->fb), 0);
	usleep((10 * NEG_MS) * 1000); /* past dir_timeout: asks, and finds it */
	assert_int_equal(vfs_getattr(x->v, "d/new", &st), 0);
	assert_int_equal(st.size, 6);
	assert_int_equal(fb_total(&x->fb), 1);
}

static void test_burst_of_misses_one_listing(void **state)
{
	struct fx *x = *state;
	struct az_stat st;
	char name[64];
	int i;

	fb_mkdir(&x->fb, "d");
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "d", fb_ignore_entry, NULL), 0);
	fb_put(&x->fb, "d/n7", "7", 1);
	usleep((NEG_MS + 50) * 1000);
	fb_reset(&x->fb);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "d/n%d", i);
		assert_int_equal(vfs_getattr(x->v, name, &st), i == 7 ? 0 : -ENOENT);
	}
	assert_int_equal(fb_total(&x->fb), 1);
	assert_int_equal(fb_calls(&x->fb, FB_LIST), 1);
}

/* A directory over two listing pages: a HEAD of the name instead (and its
 * "no" is kept for the window). */
static void test_big_directory_asks_by_head(void **state)
{
	struct fx *x = *state;
	struct az_stat st;
	char name[64];
	int i;

	fb_mkdir(&x->fb, "big");
	pthread_mutex_lock(&x->fb.lock);
	for (i = 0; i < 10001; i++) {
		snprintf(name, sizeof(name), "big/e%05d", i);
		fb_add(&x->fb, name, 0)->data = calloc(1, 1);
	}
	pthread_mutex_unlock(&x->fb.lock);
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "big", fb_ignore_entry, NULL), 0);
	usleep((NEG_MS + 50) * 1000);
	fb_reset(&x->fb);
	assert_int_equal(vfs_getattr(x->v, "big/missing", &st), -ENOENT);
	assert_int_equal(vfs_getattr(x->v, "big/missing", &st), -ENOENT);
	assert_int_equal(fb_calls(&x->fb, FB_LIST), 0);
	assert_int_equal(fb_calls(&x->fb, FB_STAT), 1);
	fb_put(&x->fb, "big/late", "x", 1);
	usleep((NEG_MS + 50) * 1000);
	assert_int_equal(vfs_getattr(x->v, "big/late", &st), 0);
	assert_int_equal(fb_calls(&x->fb, FB_STAT), 2);
	assert_int_equal(vfs_getattr(x->v, "big/e00042", &st), 0); /* listed: no request */
	assert_int_equal(fb_total(&x->fb), 2);
}

/* neg_timeout_ms 0: every miss asks (strict close-to-open for new names). */
static void test_zero_window_is_strict(void **state)
{
	struct fx *x = *state;
	struct az_stat st;

	x->o.neg_timeout_ms = 0;
	fb_mkdir(&x->fb, "d");
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "d", fb_ignore_entry, NULL), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_getattr(x->v, "d/a", &st), -ENOENT);
	fb_put(&x->fb, "d/a", "now", 3);
	assert_int_equal(vfs_getattr(x->v, "d/a", &st), 0);
	assert_int_equal(fb_total(&x->fb), 2);
}

/* The share is down: a stale "no" is the answer, not an error. */
static void test_offline_keeps_stale_negative(void **state)
{
	struct fx *x = *state;
	struct az_stat st;

	fb_mkdir(&x->fb, "d");
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "d", fb_ignore_entry, NULL), 0);
	usleep((NEG_MS + 50) * 1000);
	fb_set_fail_all(&x->fb, ECONNREFUSED);
	fb_reset(&x->fb);
	assert_int_equal(vfs_getattr(x->v, "d/a", &st), -ENOENT);
	assert_int_equal(vfs_getattr(x->v, "d/b", &st), -ENOENT);
	assert_int_equal(fb_total(&x->fb), 1); /* then known down: no waiting */
	fb_set_fail_all(&x->fb, 0);
}

/* What this node removed itself stays absent within the window for free;
 * a name it created is there (no request). */
static void test_own_changes_cost_nothing(void **state)
{
	struct fx *x = *state;
	struct az_stat st;

	fb_mkdir(&x->fb, "d");
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "d/f", "x", 1), 0);
	assert_int_equal(vfs_unlink(x->v, "d/f"), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_getattr(x->v, "d/f", &st), -ENOENT);
	assert_int_equal(fx_write_file(x->v, "d/g", "y", 1), 0);
	assert_int_equal(vfs_getattr(x->v, "d/g", &st), 0);
	assert_int_equal(fb_calls(&x->fb, FB_LIST) + fb_calls(&x->fb, FB_STAT), 0);
}

/* A name this node removed is trusted absent like its own attributes
 * (attr_timeout), then asked again. */
static void test_own_removal_trusted_for_attr_timeout(void **state)
{
	struct fx *x = *state;
	struct az_stat st;

	x->o.attr_timeout_ms = 800;
	x->o.dir_timeout_ms = NEG_MS; /* the readdir below lists again */
	fb_mkdir(&x->fb, "d");
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(fx_write_file(x->v, "d/lock", "x", 1), 0);
	assert_int_equal(vfs_unlink(x->v, "d/lock"), 0);
	fb_put(&x->fb, "d/lock", "theirs", 6); /* another node, at once */
	usleep((NEG_MS + 50) * 1000);
	fb_reset(&x->fb);
	assert_int_equal(vfs_getattr(x->v, "d/lock", &st), -ENOENT);
	assert_int_equal(fb_total(&x->fb), 0);
	/* a listing in between (taken before the other node's create) keeps it */
	pthread_mutex_lock(&x->fb.lock);
	fb_del(&x->fb, fb_find(&x->fb, "d/lock"));
	pthread_mutex_unlock(&x->fb.lock);
	assert_int_equal(vfs_readdir(x->v, "d", fb_ignore_entry, NULL), 0);
	assert_int_equal(fb_calls(&x->fb, FB_LIST), 1);
	fb_put(&x->fb, "d/lock", "theirs", 6);
	usleep(20 * 1000);
	assert_int_equal(vfs_getattr(x->v, "d/lock", &st), -ENOENT);
	assert_int_equal(fb_total(&x->fb), 1);
	usleep(200 * 1000); /* the listing is stale now, the removal is not */
	assert_int_equal(vfs_getattr(x->v, "d/lock", &st), -ENOENT);
	assert_int_equal(fb_total(&x->fb), 1);
	fb_reset(&x->fb);
	usleep(500 * 1000); /* past attr_timeout since the unlink */
	assert_int_equal(vfs_getattr(x->v, "d/lock", &st), 0);
	assert_int_equal(st.size, 6);
	assert_int_equal(fb_total(&x->fb), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_new_name_seen_after_window, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_burst_of_misses_one_listing, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_writeback_trusts_listing_for_dir_timeout, setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_big_directory_asks_by_head, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_zero_window_is_strict, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_offline_keeps_stale_negative, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_own_changes_cost_nothing, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_own_removal_trusted_for_attr_timeout, setup,
					    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
