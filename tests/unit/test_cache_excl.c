/* test_cache_excl.c: O_CREAT|O_EXCL is exclusive across nodes
 * (backend->create_excl before open returns), with the in-memory fake
 * backend (cache_fake_backend.h) shared by two caches as two nodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cache_fake_backend.h"

static const struct vfs_want OWNER = {.mask = VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID,
				      .mode = S_IFREG | 0600,
				      .uid = 501,
				      .gid = 502};

/* The name is on the share (empty, with its owner) before open returns;
 * the data follows with one upload at close. */
static void test_excl_publishes_before_open_returns(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	struct fb_ent *e;
	struct az_stat st;
	char *s;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "", fb_ignore_entry, NULL), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_create(x->v, "index.lock", O_CREAT | O_EXCL | O_WRONLY, &OWNER, &fh),
			 0);
	assert_int_equal(fb_calls(&x->fb, FB_CREATE_EXCL), 2);
	pthread_mutex_lock(&x->fb.lock);
	e = fb_find(&x->fb, "index.lock");
	assert_non_null(e);
	assert_int_equal(e->size, 0);
	assert_int_equal(e->mode & 07777, 0600);
	assert_int_equal(e->uid, 501);
	pthread_mutex_unlock(&x->fb.lock);
	assert_int_equal(vfs_getattr(x->v, "index.lock", &st), 0);
	assert_int_equal(st.size, 0);
	assert_int_equal(vfs_write(x->v, fh, "tree", 4, 0), 4);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 1);
	assert_int_equal(fb_total(&x->fb), 3); /* no conflict check: it is our version */
	s = fb_get(&x->fb, "index.lock", NULL);
	assert_string_equal(s, "tree");
	free(s);
	/* and a second exclusive create of the name fails here at once */
	assert_int_equal(vfs_create(x->v, "index.lock", O_CREAT | O_EXCL | O_WRONLY, &OWNER, &fh),
			 -EEXIST);
	assert_int_equal(fb_calls(&x->fb, FB_CREATE_EXCL), 2);
}

/* Closed without writing (mknod, touch-style lock files): nothing more. */
static void test_excl_empty_costs_nothing_more(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	char *s;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "", fb_ignore_entry, NULL), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_create(x->v, "x.lock", O_CREAT | O_EXCL | O_WRONLY, &OWNER, &fh), 0);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(fb_total(&x->fb), 2);
	s = fx_read_file(x->v, "x.lock", NULL);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

/* Another node took the name after this node's listing: -EEXIST, and the
 * cache learns about the file. */
static void test_excl_loses_to_other_node(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;
	struct az_stat st;

	x->o.dir_timeout_ms = 60000;
	x->o.attr_timeout_ms = 60000;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "", fb_ignore_entry, NULL), 0);
	fb_put(&x->fb, "index.lock", "theirs", 6);
	assert_int_equal(vfs_create(x->v, "index.lock", O_CREAT | O_EXCL | O_WRONLY, &OWNER, &fh),
			 -EEXIST);
	assert_null(fh);
	assert_int_equal(vfs_getattr(x->v, "index.lock", &st), 0);
	assert_int_equal(st.size, 6);
	fx_stop(x);
	assert_int_equal(fb_calls(&x->fb, FB_UPLOAD), 0);
	{
		char *s = fb_get(&x->fb, "index.lock", NULL);

		assert_string_equal(s, "theirs");
		free(s);
	}
}

#define ROUNDS 40

struct racer {
	struct vfs *v;
	const char *name;
	pthread_barrier_t *go;
	int rounds, wins, errors;
	int won[ROUNDS];
};

static void *race(void *arg)
{
	struct racer *r = arg;
	unsigned seed = (unsigned)(uintptr_t)r;
	struct vfs_file *fh;
	int i, rc;

	for (i = 0; i < r->rounds; i++) {
		pthread_barrier_wait(r->go);
		usleep((useconds_t)(rand_r(&seed) % 3000)); /* either may come first */
		fh = NULL;
		rc = vfs_create(r->v, r->name, O_CREAT | O_EXCL | O_WRONLY, &OWNER, &fh);
		r->won[i] = rc == 0;
		if (rc == 0) {
			r->wins++;
			if (vfs_write(r->v, fh, "mine", 4, 0) != 4 || vfs_flush(r->v, fh) != 0)
				r->errors++;
			vfs_release(r->v, fh);
		} else if (rc != -EEXIST) {
			r->errors++;
		}
		pthread_barrier_wait(r->go); /* both tried */
		if (rc == 0 && vfs_unlink(r->v, r->name) != 0)
			r->errors++;
		pthread_barrier_wait(r->go); /* the lock is free again */
	}
	return NULL;
}

/* Two nodes (two caches on one share) race for one name: exactly one wins
 * every round. */
static void test_excl_two_nodes_race(void **state)
{
	struct fx *x = *state;
	struct vfs_opts o2 = x->o;
	struct vfs *v2 = NULL;
	char *dir2 = fb_tmpdir();
	pthread_barrier_t go;
	struct racer r[2];
	pthread_t th[2];
	int i;

	/* no cached answers: both see the name free, then race on the share (a
	 * cached positive entry would make one node lose without trying) */
	x->o.dir_timeout_ms = 0;
	x->o.attr_timeout_ms = 0;
	assert_int_equal(fx_start(x), 0);
	o2 = x->o;
	o2.cache_dir = dir2;
	assert_int_equal(vfs_init(&v2, &o2, &x->be), 0);
	pthread_barrier_init(&go, NULL, 2);
	for (i = 0; i < 2; i++) {
		r[i] = (struct racer){i ? v2 : x->v, "x.lock", &go, ROUNDS, 0, 0, {0}};
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	vfs_free(v2);
	fb_rmtree(dir2);
	free(dir2);
	assert_int_equal(r[0].errors + r[1].errors, 0);
	for (i = 0; i < ROUNDS; i++)
		assert_int_equal(r[0].won[i] + r[1].won[i], 1);
	assert_true(r[0].wins > 0 && r[1].wins > 0); /* a real race, not a head start */
	assert_int_equal(fb_count_prefix(&x->fb, "lock.conflict"), 0);
}

/* The share is down: with offline writes (write-back) a local create; else
 * the error. */
static void test_excl_offline(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;

	x->o.writeback_delay_ms = 200;
	x->o.offline_writes = 1;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "", fb_ignore_entry, NULL), 0);
	fb_set_fail_all(&x->fb, ECONNREFUSED);
	assert_int_equal(vfs_create(x->v, "a.lock", O_CREAT | O_EXCL | O_WRONLY, &OWNER, &fh), 0);
	assert_int_equal(vfs_write(x->v, fh, "x", 1, 0), 1);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	fb_set_fail_all(&x->fb, 0);
	fx_stop(x);
	assert_true(fb_exists(&x->fb, "a.lock"));
}

static void test_excl_share_down_fails(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "", fb_ignore_entry, NULL), 0);
	fb_set_fail_all(&x->fb, ECONNREFUSED);
	assert_int_equal(vfs_create(x->v, "a.lock", O_CREAT | O_EXCL | O_WRONLY, &OWNER, &fh),
			 -ECONNREFUSED);
	assert_null(fh);
	fb_set_fail_all(&x->fb, 0);
	fx_stop(x);
	assert_false(fb_exists(&x->fb, "a.lock"));
}

/* A backend without create_excl: exclusive on this node only (as before). */
static void test_excl_without_backend_support(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;

	x->be.create_excl = NULL;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "", fb_ignore_entry, NULL), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_create(x->v, "a.lock", O_CREAT | O_EXCL | O_WRONLY, &OWNER, &fh), 0);
	assert_false(fb_exists(&x->fb, "a.lock"));
	assert_int_equal(vfs_write(x->v, fh, "x", 1, 0), 1);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(fb_total(&x->fb), 1);
	assert_true(fb_exists(&x->fb, "a.lock"));
}

/* Not a lock file and no strict_excl: exclusive on this node, published at
 * its upload like any new file (tar, cp and mkstemp create with O_EXCL). */
static void test_excl_plain_name_stays_local(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL, *fh2 = NULL;

	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "", fb_ignore_entry, NULL), 0);
	fb_reset(&x->fb);
	assert_int_equal(vfs_create(x->v, "data.bin", O_CREAT | O_EXCL | O_WRONLY, &OWNER, &fh), 0);
	assert_int_equal(fb_total(&x->fb), 0);
	assert_false(fb_exists(&x->fb, "data.bin"));
	assert_int_equal(vfs_create(x->v, "data.bin", O_CREAT | O_EXCL | O_WRONLY, &OWNER, &fh2),
			 -EEXIST);
	assert_int_equal(vfs_write(x->v, fh, "x", 1, 0), 1);
	assert_int_equal(vfs_flush(x->v, fh), 0);
	assert_int_equal(vfs_release(x->v, fh), 0);
	assert_int_equal(fb_total(&x->fb), 1);
	assert_true(fb_exists(&x->fb, "data.bin"));
}

/* strict_excl: every O_EXCL name is taken on the share before open returns. */
static void test_excl_strict_plain_name_on_share(void **state)
{
	struct fx *x = *state;
	struct vfs_file *fh = NULL;

	x->o.strict_excl = 1;
	assert_int_equal(fx_start(x), 0);
	assert_int_equal(vfs_readdir(x->v, "", fb_ignore_entry, NULL), 0);
	assert_int_equal(vfs_create(x->v, "data.bin", O_CREAT | O_EXCL | O_WRONLY, &OWNER, &fh), 0);
	assert_true(fb_exists(&x->fb, "data.bin"));
	assert_int_equal(vfs_release(x->v, fh), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_excl_publishes_before_open_returns, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_excl_empty_costs_nothing_more, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_excl_loses_to_other_node, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_excl_two_nodes_race, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_excl_offline, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_excl_share_down_fails, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_excl_plain_name_stays_local, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_excl_strict_plain_name_on_share, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_excl_without_backend_support, fx_setup,
					    fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
