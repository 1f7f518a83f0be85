/* test_prov_share.c: roster lock and roster load/save on a directory
 * standing in for the share (provision/prov_share.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <cmocka.h>

#include "prov_share.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/azsf-share-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_lock_excludes_and_names_holder(void **state)
{
	struct prov_lock a;
	struct prov_lock b;
	char err[512] = "";
	time_t t0;

	(void)state;
	assert_int_equal(prov_share_lock(dir, 60, 5, &a, err, sizeof(err)), 0);
	assert_int_equal(prov_share_lock_check(&a), 0);
	t0 = time(NULL);
	assert_int_equal(prov_share_lock(dir, 60, 1, &b, err, sizeof(err)), -ETIMEDOUT);
	assert_true(time(NULL) - t0 >= 1);
	assert_non_null(strstr(err, "roster.lock"));
	assert_non_null(strstr(err, a.token));
	prov_share_unlock(&a);
	assert_int_equal(prov_share_lock(dir, 60, 1, &b, err, sizeof(err)), 0);
	prov_share_unlock(&b);
}

static void test_stale_lock_is_broken(void **state)
{
	struct prov_lock a;
	char path[128];
	char err[512] = "";
	struct utimbuf old;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/.azsharefs", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/.azsharefs/roster.lock", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("deadhost 4242 0 00000000\n", f);
	fclose(f);
	old.actime = old.modtime = time(NULL) - 1000;
	assert_int_equal(utime(path, &old), 0);
	/* Not stale yet for a 2000s timeout. */
	assert_int_equal(prov_share_lock(dir, 2000, 1, &a, err, sizeof(err)), -ETIMEDOUT);
	assert_non_null(strstr(err, "deadhost 4242"));
	/* Stale for 60s: broken and taken. */
	assert_int_equal(prov_share_lock(dir, 60, 5, &a, err, sizeof(err)), 0);
	assert_int_equal(prov_share_lock_check(&a), 0);
	prov_share_unlock(&a);
}

static void add(struct prov_roster *r, const char *name, unsigned long uid)
{
	struct prov_user u;
	char err[256];
	int changed;

	prov_user_init(&u);
	snprintf(u.name, sizeof(u.name), "%s", name);
	snprintf(u.shell, sizeof(u.shell), "/bin/bash");
	u.uid = u.gid = uid;
	assert_int_equal(prov_roster_merge(r, &u, &changed, err, sizeof(err)), 0);
	prov_user_release(&u);
}

static void test_save_load_and_lost_lock(void **state)
{
	struct prov_roster r;
	struct prov_roster back;
	struct prov_lock lk;
	char err[512] = "";
	char path[128];
	FILE *f;

	(void)state;
	prov_roster_init(&r);
	prov_roster_init(&back);
	assert_int_equal(prov_share_roster_load(dir, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 0);
	assert_int_equal(prov_share_lock(dir, 60, 5, &lk, err, sizeof(err)), 0);
	add(&r, "alice", 2000);
	assert_int_equal(prov_share_roster_save(dir, &r, &lk, err, sizeof(err)), 0);
	assert_int_equal(prov_share_roster_load(dir, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 1);
	assert_string_equal(back.users[0].name, "alice");
	prov_roster_release(&back);

	/* Someone broke our lock and took it: the save must not happen. */
	f = fopen(lk.path, "w");
	assert_non_null(f);
	fputs("otherhost 1 2 3\n", f);
	fclose(f);
	add(&r, "bob", 2001);
	assert_int_equal(prov_share_roster_save(dir, &r, &lk, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "lost the roster lock"));
	prov_roster_init(&back);
	assert_int_equal(prov_share_roster_load(dir, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 1);
	/* Unlock leaves the other holder's lock alone; no temp file is left. */
	prov_share_unlock(&lk);
	assert_int_equal(access(lk.path, F_OK), 0);
	unlink(lk.path);
	snprintf(path, sizeof(path), "%s/.azsharefs", dir);
	snprintf(err, sizeof(err), "test $(ls -A '%s' | wc -l) -eq 1", path);
	assert_int_equal(system(err), 0);
	prov_roster_release(&back);
	prov_roster_release(&r);
}

static void test_damaged_roster_is_refused(void **state)
{
	struct prov_roster back;
	char err[512] = "";
	char path[128];
	FILE *f;

	(void)state;
	prov_roster_init(&back);
	snprintf(path, sizeof(path), "%s/.azsharefs", dir);
	mkdir(path, 0755);
	/* A damaged roster is an error, not an empty roster. */
	snprintf(path, sizeof(path), "%s/.azsharefs/roster", dir);
	f = fopen(path, "w");
	fputs("# header\nalice\t2000\t2000\t/bin/sh\tactive\t-\nbroken line\n" PROV_ROSTER_END, f);
	fclose(f);
	prov_roster_release(&back);
	prov_roster_init(&back);
	assert_int_not_equal(prov_share_roster_load(dir, &back, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "line 3"));
	/* Cut short (no end line): refused after re-reading for a while. */
	f = fopen(path, "w");
	fputs("# header\nalice\t2000\t2000\t/bin/sh\tactive\t-\n", f);
	fclose(f);
	prov_roster_release(&back);
	prov_roster_init(&back);
	assert_int_equal(prov_share_roster_load(dir, &back, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "cut short"));
	assert_int_equal(back.n, 0);
	unlink(path);
	prov_roster_release(&back);
}

/* Child: lock, read, add one user, write, unlock. */
static int child_add(int i)
{
	struct prov_roster r;
	struct prov_lock lk;
	struct prov_user u;
	char err[512];
	int changed;
	int rc;

	prov_roster_init(&r);
	prov_user_init(&u);
	if (prov_share_lock(dir, 60, 30, &lk, err, sizeof(err)))
		return 1;
	rc = prov_share_roster_load(dir, &r, err, sizeof(err));
	snprintf(u.name, sizeof(u.name), "user%d", i);
	snprintf(u.shell, sizeof(u.shell), "/bin/sh");
	u.uid = u.gid = 3000 + (unsigned long)r.n;
	if (!rc)
		rc = prov_roster_merge(&r, &u, &changed, err, sizeof(err));
	if (!rc)
		rc = prov_share_roster_save(dir, &r, &lk, err, sizeof(err));
	prov_share_unlock(&lk);
	return rc ? 1 : 0;
}

static void test_concurrent_writers_lose_nothing(void **state)
{
	enum { N = 12 };
	struct prov_roster r;
	pid_t pids[N];
	char err[256];
	int status;
	int i;

	(void)state;
	for (i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(child_add(i));
	}
	for (i = 0; i < N; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	prov_roster_init(&r);
	assert_int_equal(prov_share_roster_load(dir, &r, err, sizeof(err)), 0);
	/* Every writer's user is there, each with its own uid (parse checks
	 * uniqueness). */
	assert_int_equal(r.n, N);
	prov_roster_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lock_excludes_and_names_holder, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_lock_is_broken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_load_and_lost_lock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_roster_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_writers_lose_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
