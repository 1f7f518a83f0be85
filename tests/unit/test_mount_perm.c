/* test_mount_perm.c: fs/perm.c - SDDL encode/parse, the key map over a
 * fake share (counting creates and gets), its store file, thread safety,
 * and the kernel's chown/chmod rules. */
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

#include "azsharefs/log.h"
#include "perm.h"

/* ---- a fake share: keys are "k<N>" for the N-th distinct SDDL ---- */
struct fake {
	pthread_mutex_t lock;
	char *sddl[256];
	int n;
	int creates, gets;
	int fail_get;	 /* errno to fail gets with, 0 = none */
	int fail_create; /* errno to fail creates with */
};

static int fake_create(void *ctx, const char *sddl, char key[AZ_PERMKEY_MAX])
{
	struct fake *f = ctx;
	int i;

	pthread_mutex_lock(&f->lock);
	f->creates++;
	if (f->fail_create) {
		pthread_mutex_unlock(&f->lock);
		return -f->fail_create;
	}
	for (i = 0; i < f->n && strcmp(f->sddl[i], sddl) != 0; i++)
		;
	if (i == f->n)
		f->sddl[f->n++] = strdup(sddl);
	snprintf(key, AZ_PERMKEY_MAX, "k%d*%d", i, i * 7);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fake_get(void *ctx, const char *key, char **sddl_out)
{
	struct fake *f = ctx;
	int i, j, rc = 0;

	pthread_mutex_lock(&f->lock);
	f->gets++;
	if (f->fail_get)
		rc = -f->fail_get;
	else if (sscanf(key, "k%d*%d", &i, &j) != 2 || i < 0 || i >= f->n)
		rc = -ENOENT;
	else
		*sddl_out = strdup(f->sddl[i]);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

/* Registers an SDDL as if another client had created it; returns its key. */
static void fake_add(struct fake *f, const char *sddl, char key[AZ_PERMKEY_MAX])
{
	assert_int_equal(fake_create(f, sddl, key), 0);
	f->creates--;
}

static void fake_init(struct fake *f, struct perm_ops *ops)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	ops->ctx = f;
	ops->create = fake_create;
	ops->get = fake_get;
}

static void fake_free(struct fake *f)
{
	for (int i = 0; i < f->n; i++)
		free(f->sddl[i]);
	pthread_mutex_destroy(&f->lock);
}

/* ---- SDDL ---- */

static void test_sddl_format(void **state)
{
	char s[256];

	(void)state;
	assert_int_equal(perm_sddl_format(1000, 100, S_IFREG | 0640, s, sizeof(s)), 0);
	assert_string_equal(s, "O:S-1-5-88-1-1000G:S-1-5-88-2-100D:P(A;;FA;;;S-1-5-88-1-1000)"
			       "(A;;FR;;;S-1-5-88-3-33184)");
	assert_int_equal(perm_sddl_format(1000, 100, S_IFREG | 0640, s, 20), -ENAMETOOLONG);
}

static void test_sddl_roundtrip(void **state)
{
	struct {
		uid_t u;
		gid_t g;
		mode_t m;
	} cases[] = {
	    {0, 0, S_IFDIR | 0755},
	    {1000, 1000, S_IFREG | 0600},
	    {4294967294u, 4294967294u, S_IFREG | 0644},
	    {1001, 50, S_IFLNK | 0777},
	    {1002, 1002, S_IFDIR | 02775},
	    {7, 8, S_IFREG | 04755},
	    {65534, 65534, S_IFDIR | 01777},
	    {1, 2, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char s[256];
		uid_t u = 99;
		gid_t g = 99;
		mode_t m = 99;

		assert_int_equal(perm_sddl_format(cases[i].u, cases[i].g, cases[i].m, s, sizeof(s)),
				 0);
		assert_int_equal(perm_sddl_parse(s, &u, &g, &m), 0);
		assert_int_equal(u, cases[i].u);
		assert_int_equal(g, cases[i].g);
		assert_int_equal(m, cases[i].m);
	}
}

static void test_sddl_tolerant(void **state)
{
	uid_t u;
	gid_t g;
	mode_t m;

	(void)state;
	/* the service may expand rights to hex, add flags, ACEs and a SACL */
	assert_int_equal(
	    perm_sddl_parse("O:S-1-5-88-1-5G:S-1-5-88-2-6D:AI(A;;0x1f01ff;;;S-1-5-88-1-5)"
			    "(A;OICI;0x120089;;;S-1-5-88-3-33261)(A;;FA;;;SY)S:NO_ACCESS_CONTROL",
			    &u, &g, &m),
	    0);
	assert_int_equal(u, 5);
	assert_int_equal(g, 6);
	assert_int_equal(m, S_IFREG | 0755);
	/* components in another order, mode ACE first */
	assert_int_equal(perm_sddl_parse("G:S-1-5-88-2-20D:P(A;;FR;;;S-1-5-88-3-16877)"
					 "(A;;FA;;;S-1-5-88-1-10)O:S-1-5-88-1-10",
					 &u, &g, &m),
			 0);
	assert_int_equal(u, 10);
	assert_int_equal(g, 20);
	assert_int_equal(m, S_IFDIR | 0755);
}

static void test_sddl_foreign(void **state)
{
	const char *foreign[] = {
	    "",
	    "garbage",
	    "O:BAG:SYD:(A;;FA;;;SY)(A;;FA;;;BA)",
	    "O:S-1-5-21-1-2-3-500G:S-1-5-21-1-2-3-513D:P(A;;FA;;;BA)",
	    /* ours but the mode ACE is missing */
	    "O:S-1-5-88-1-1000G:S-1-5-88-2-100D:P(A;;FA;;;S-1-5-88-1-1000)",
	    /* a mode with a type we never write (character device) */
	    "O:S-1-5-88-1-1000G:S-1-5-88-2-100D:P(A;;FR;;;S-1-5-88-3-8612)",
	    /* sub-authorities after the id */
	    "O:S-1-5-88-1-1000-7G:S-1-5-88-2-100D:P(A;;FR;;;S-1-5-88-3-33188)",
	    /* no group */
	    "O:S-1-5-88-1-1000D:P(A;;FR;;;S-1-5-88-3-33188)",
	    /* uid out of range */
	    "O:S-1-5-88-1-99999999999G:S-1-5-88-2-100D:P(A;;FR;;;S-1-5-88-3-33188)",
	    /* mode out of range */
	    "O:S-1-5-88-1-1G:S-1-5-88-2-1D:P(A;;FR;;;S-1-5-88-3-999999)",
	    /* unterminated ACE */
	    "O:S-1-5-88-1-1G:S-1-5-88-2-1D:P(A;;FR;;;S-1-5-88-3-33188",
	    /* a group SID of the wrong kind */
	    "O:S-1-5-88-1-1G:S-1-5-88-1-1D:P(A;;FR;;;S-1-5-88-3-33188)",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		uid_t u;
		gid_t g;
		mode_t m;

		if (perm_sddl_parse(foreign[i], &u, &g, &m) != -EINVAL)
			fail_msg("foreign SDDL accepted: '%s'", foreign[i]);
	}
}

/* ---- the map ---- */

static void test_map_counts(void **state)
{
	struct fake f;
	struct perm_ops ops;
	struct perm_map *pm;
	struct perm_stats ps;
	char k1[AZ_PERMKEY_MAX], k2[AZ_PERMKEY_MAX];
	int has;
	uid_t u;
	gid_t g;
	mode_t m;

	(void)state;
	fake_init(&f, &ops);
	assert_int_equal(perm_init(&pm, &ops, NULL, NULL), 0);
	assert_int_equal(perm_key_for(pm, 1000, 1000, S_IFREG | 0644, k1), 0);
	assert_int_equal(perm_key_for(pm, 1000, 1000, S_IFREG | 0644, k2), 0);
	assert_string_equal(k1, k2);
	assert_int_equal(f.creates, 1);
	assert_int_equal(perm_key_for(pm, 1000, 1000, S_IFREG | 0600, k2), 0);
	assert_string_not_equal(k1, k2);
	assert_int_equal(f.creates, 2);
	/* our own keys resolve without asking */
	assert_int_equal(perm_resolve(pm, k1, &has, &u, &g, &m), 0);
	assert_int_equal(has, 1);
	assert_int_equal(u, 1000);
	assert_int_equal(m, S_IFREG | 0644);
	assert_int_equal(f.gets, 0);

	/* a key another node made: one get, then cached */
	char other[AZ_PERMKEY_MAX];
	char sddl[256];
	perm_sddl_format(2000, 3000, S_IFDIR | 0700, sddl, sizeof(sddl));
	fake_add(&f, sddl, other);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(perm_resolve(pm, other, &has, &u, &g, &m), 0);
		assert_int_equal(has, 1);
		assert_int_equal(u, 2000);
		assert_int_equal(g, 3000);
		assert_int_equal(m, S_IFDIR | 0700);
	}
	assert_int_equal(f.gets, 1);
	/* and the triple now maps to that key with no create */
	assert_int_equal(perm_key_for(pm, 2000, 3000, S_IFDIR | 0700, k2), 0);
	assert_string_equal(k2, other);
	assert_int_equal(f.creates, 2);

	/* foreign SDDL: has_owner 0, cached too */
	fake_add(&f, "O:BAG:SYD:(A;;FA;;;SY)", other);
	assert_int_equal(perm_resolve(pm, other, &has, &u, &g, &m), 0);
	assert_int_equal(has, 0);
	assert_int_equal(perm_resolve(pm, other, &has, &u, &g, &m), 0);
	assert_int_equal(has, 0);
	assert_int_equal(f.gets, 2);
	/* a key the share does not know: foreign */
	assert_int_equal(perm_resolve(pm, "k99*1", &has, &u, &g, &m), 0);
	assert_int_equal(has, 0);
	/* empty key: foreign, no request */
	assert_int_equal(perm_resolve(pm, "", &has, &u, &g, &m), 0);
	assert_int_equal(has, 0);
	assert_int_equal(f.gets, 3);
	perm_stats_get(pm, &ps);
	assert_int_equal(ps.creates, 2);
	assert_int_equal(ps.gets, 3);
	perm_free(pm);
	fake_free(&f);
}

static void test_map_failures(void **state)
{
	struct fake f;
	struct perm_ops ops;
	struct perm_map *pm;
	char k[AZ_PERMKEY_MAX], sddl[256];
	int has;
	uid_t u;
	gid_t g;
	mode_t m;

	(void)state;
	fake_init(&f, &ops);
	assert_int_equal(perm_init(&pm, &ops, NULL, NULL), 0);
	f.fail_create = EIO;
	assert_int_equal(perm_key_for(pm, 1, 1, S_IFREG | 0644, k), -EIO);
	f.fail_create = 0;
	assert_int_equal(perm_key_for(pm, 1, 1, S_IFREG | 0644, k), 0);
	assert_int_equal(f.creates, 2);

	perm_sddl_format(5, 5, S_IFREG | 0644, sddl, sizeof(sddl));
	fake_add(&f, sddl, k);
	f.fail_get = EIO; /* transient: an error, not cached as foreign */
	assert_int_equal(perm_resolve(pm, k, &has, &u, &g, &m), -EIO);
	f.fail_get = 0;
	assert_int_equal(perm_resolve(pm, k, &has, &u, &g, &m), 0);
	assert_int_equal(has, 1);
	assert_int_equal(u, 5);
	assert_int_equal(f.gets, 2);
	perm_free(pm);
	fake_free(&f);
}

/* A key learned from a reply to an inline SDDL: no create, no get, and it
 * survives a remount through the store file. */
static void test_learn(void **state)
{
	char dir[] = "/tmp/azsf-perm-XXXXXX";
	char path[128];
	struct fake f;
	struct perm_ops ops;
	struct perm_map *pm;
	struct perm_stats ps;
	char k[AZ_PERMKEY_MAX];
	int has;
	uid_t u;
	gid_t g;
	mode_t m;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/permkeys", dir);
	fake_init(&f, &ops);
	assert_int_equal(perm_init(&pm, &ops, path, "id"), 0);
	assert_int_equal(perm_key_lookup(pm, 1000, 100, S_IFREG | 0640, k), -ENOENT);
	assert_int_equal(perm_learn(pm, "123*456", 1000, 100, S_IFREG | 0640), 0);
	assert_int_equal(perm_learn(pm, "123*456", 1000, 100, S_IFREG | 0640), 0);
	assert_int_equal(perm_learn(pm, "", 1, 1, S_IFREG | 0640), -EINVAL);
	assert_int_equal(perm_key_lookup(pm, 1000, 100, S_IFREG | 0640, k), 0);
	assert_string_equal(k, "123*456");
	assert_int_equal(perm_key_for(pm, 1000, 100, S_IFREG | 0640, k), 0);
	assert_string_equal(k, "123*456");
	assert_int_equal(perm_resolve(pm, "123*456", &has, &u, &g, &m), 0);
	assert_int_equal(has, 1);
	assert_int_equal(u, 1000);
	assert_int_equal(m, S_IFREG | 0640);
	assert_int_equal(f.creates + f.gets, 0);
	perm_stats_get(pm, &ps);
	assert_int_equal(ps.learned, 1);
	perm_free(pm);
	assert_int_equal(perm_init(&pm, &ops, path, "id"), 0);
	assert_int_equal(perm_key_lookup(pm, 1000, 100, S_IFREG | 0640, k), 0);
	assert_string_equal(k, "123*456");
	assert_int_equal(f.creates + f.gets, 0);
	perm_free(pm);
	unlink(path);
	rmdir(dir);
	fake_free(&f);
}

static void test_fill_stat(void **state)
{
	struct fake f;
	struct perm_ops ops;
	struct perm_map *pm;
	struct az_stat st;

	(void)state;
	fake_init(&f, &ops);
	assert_int_equal(perm_init(&pm, &ops, NULL, NULL), 0);
	memset(&st, 0, sizeof(st));
	assert_int_equal(perm_key_for(pm, 10, 20, S_IFREG | 0640, st.perm_key), 0);
	assert_int_equal(perm_fill_stat(pm, &st), 0);
	assert_int_equal(st.has_owner, 1);
	assert_int_equal(st.uid, 10);
	assert_int_equal(st.gid, 20);
	assert_int_equal(st.mode, S_IFREG | 0640);
	/* the share says directory: the type follows it */
	st.is_dir = 1;
	assert_int_equal(perm_fill_stat(pm, &st), 0);
	assert_int_equal(st.mode, S_IFDIR | 0640);
	/* symlinks stay symlinks */
	memset(&st, 0, sizeof(st));
	assert_int_equal(perm_key_for(pm, 10, 20, S_IFLNK | 0777, st.perm_key), 0);
	assert_int_equal(perm_fill_stat(pm, &st), 0);
	assert_int_equal(st.mode, S_IFLNK | 0777);
	/* no key: foreign */
	memset(&st, 0, sizeof(st));
	assert_int_equal(perm_fill_stat(pm, &st), 0);
	assert_int_equal(st.has_owner, 0);
	perm_free(pm);
	fake_free(&f);
}

static void test_store(void **state)
{
	char dir[] = "/tmp/azsf-perm-XXXXXX";
	char path[128];
	struct fake f;
	struct perm_ops ops;
	struct perm_map *pm;
	char k1[AZ_PERMKEY_MAX], k2[AZ_PERMKEY_MAX], other[AZ_PERMKEY_MAX];
	struct stat sb;
	int has;
	uid_t u;
	gid_t g;
	mode_t m;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/permkeys", dir);
	fake_init(&f, &ops);
	fake_add(&f, "O:BAG:SYD:(A;;FA;;;SY)", other);
	assert_int_equal(perm_init(&pm, &ops, path, "acct/share/\"0x1\""), 0);
	assert_int_equal(perm_key_for(pm, 1000, 100, S_IFREG | 0600, k1), 0);
	assert_int_equal(perm_resolve(pm, other, &has, &u, &g, &m), 0);
	perm_free(pm);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	/* a later mount of the same share remembers both */
	f.creates = f.gets = 0;
	assert_int_equal(perm_init(&pm, &ops, path, "acct/share/\"0x1\""), 0);
	assert_int_equal(perm_key_for(pm, 1000, 100, S_IFREG | 0600, k2), 0);
	assert_string_equal(k1, k2);
	assert_int_equal(perm_resolve(pm, k1, &has, &u, &g, &m), 0);
	assert_int_equal(has, 1);
	assert_int_equal(perm_resolve(pm, other, &has, &u, &g, &m), 0);
	assert_int_equal(has, 0);
	assert_int_equal(f.creates + f.gets, 0);
	perm_free(pm);

	/* another share identity: the store is discarded */
	assert_int_equal(perm_init(&pm, &ops, path, "acct/share/\"0x2\""), 0);
	assert_int_equal(perm_resolve(pm, k1, &has, &u, &g, &m), 0);
	assert_int_equal(f.gets, 1);
	perm_free(pm);

	/* garbage lines are skipped */
	FILE *fp = fopen(path, "a");
	fputs("o brokenline\nx y z\no k9 1 2\n", fp);
	fclose(fp);
	assert_int_equal(perm_init(&pm, &ops, path, "acct/share/\"0x2\""), 0);
	assert_int_equal(perm_resolve(pm, k1, &has, &u, &g, &m), 0);
	assert_int_equal(has, 1);
	assert_int_equal(f.gets, 1);
	perm_free(pm);
	unlink(path);
	rmdir(dir);
	fake_free(&f);
}

struct thr_arg {
	struct perm_map *pm;
	int id;
	int errors;
};

static void *thr_main(void *p)
{
	struct thr_arg *a = p;

	for (int i = 0; i < 2000; i++) {
		char k[AZ_PERMKEY_MAX];
		int has;
		uid_t u;
		gid_t g;
		mode_t m;
		uid_t want = (uid_t)((i + a->id) % 10);

		if (perm_key_for(a->pm, want, want, S_IFREG | 0644, k) != 0 ||
		    perm_resolve(a->pm, k, &has, &u, &g, &m) != 0 || !has || u != want)
			a->errors++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct fake f;
	struct perm_ops ops;
	struct perm_map *pm;
	pthread_t t[4];
	struct thr_arg a[4];

	(void)state;
	fake_init(&f, &ops);
	assert_int_equal(perm_init(&pm, &ops, NULL, NULL), 0);
	for (int i = 0; i < 4; i++) {
		a[i].pm = pm;
		a[i].id = i;
		a[i].errors = 0;
		pthread_create(&t[i], NULL, thr_main, &a[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].errors, 0);
	}
	assert_true(f.creates >= 10 && f.creates <= 40);
	assert_int_equal(f.n, 10);
	perm_free(pm);
	fake_free(&f);
}

/* ---- kernel rules ---- */

static void test_chown_rules(void **state)
{
	const uid_t N = (uid_t)-1;
	const gid_t NG = (gid_t)-1;

	(void)state;
	/* root may do anything */
	assert_int_equal(perm_may_chown(0, 1000, 1000, 2000, 2000, 0), 0);
	/* nothing to change */
	assert_int_equal(perm_may_chown(1001, 1000, 1000, N, NG, 0), 0);
	/* only root changes the owner */
	assert_int_equal(perm_may_chown(1000, 1000, 1000, 1001, NG, 0), -EPERM);
	assert_int_equal(perm_may_chown(1001, 1000, 1000, 1001, NG, 0), -EPERM);
	/* the owner may "change" uid to itself */
	assert_int_equal(perm_may_chown(1000, 1000, 1000, 1000, NG, 0), 0);
	/* a non-owner may not, even as a no-op */
	assert_int_equal(perm_may_chown(1001, 1000, 1000, 1000, NG, 1), -EPERM);
	/* owner: to a group it belongs to, or the same group */
	assert_int_equal(perm_may_chown(1000, 1000, 1000, N, 50, 1), 0);
	assert_int_equal(perm_may_chown(1000, 1000, 1000, N, 50, 0), -EPERM);
	assert_int_equal(perm_may_chown(1000, 1000, 1000, N, 1000, 0), 0);
	/* non-owner chgrp never */
	assert_int_equal(perm_may_chown(1001, 1000, 1000, N, 50, 1), -EPERM);
	/* chmod: owner or root */
	assert_int_equal(perm_may_chmod(0, 1000), 0);
	assert_int_equal(perm_may_chmod(1000, 1000), 0);
	assert_int_equal(perm_may_chmod(1001, 1000), -EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sddl_format),	  cmocka_unit_test(test_sddl_roundtrip),
	    cmocka_unit_test(test_sddl_tolerant), cmocka_unit_test(test_sddl_foreign),
	    cmocka_unit_test(test_map_counts),	  cmocka_unit_test(test_map_failures),
	    cmocka_unit_test(test_learn),	  cmocka_unit_test(test_fill_stat),
	    cmocka_unit_test(test_store),	  cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_chown_rules),
	};

	az_log_init("test", 1, AZ_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
