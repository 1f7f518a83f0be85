/* test_prov_home.c: notebooks dir, home link and ssh keys, and that nothing
 * existing is clobbered (provision/prov_home.c). Needs root for chown. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "prov_home.h"

#define KEY1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1 alice@a"
#define KEY2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey2 alice@b"

static char dir[64];
static char mnt[128];
static char home[128];
static struct prov_user alice;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/azsf-home-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(mnt, sizeof(mnt), "%s/share", dir);
	snprintf(home, sizeof(home), "%s/home-alice", dir);
	if (mkdir(mnt, 0755) || mkdir(home, 0755))
		return -1;
	prov_user_init(&alice);
	snprintf(alice.name, sizeof(alice.name), "alice");
	alice.uid = alice.gid = 2345;
	return prov_user_add_key(&alice, KEY1, NULL);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	prov_user_release(&alice);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

static void test_notebooks_dir(void **state)
{
	char path[256];
	char err[512] = "";
	struct stat st;
	int changed = -1;

	(void)state;
	need_root();
	assert_int_equal(prov_home_notebooks(mnt, &alice, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 1);
	snprintf(path, sizeof(path), "%s/notebooks/alice", mnt);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, 2345);
	assert_int_equal(st.st_gid, 2345);
	assert_int_equal(prov_home_notebooks(mnt, &alice, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 0);
	/* Owned by someone else: an error naming both, and no chown. */
	assert_int_equal(chown(path, 4000, 4000), 0);
	assert_int_equal(prov_home_notebooks(mnt, &alice, &changed, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "uid 4000"));
	assert_non_null(strstr(err, "uid 2345"));
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, 4000);
}

static void test_link(void **state)
{
	char link[256];
	char have[256];
	char err[512] = "";
	ssize_t n;
	int changed = -1;

	(void)state;
	need_root();
	assert_int_equal(
	    prov_home_link(home, "/mnt/x/notebooks/alice", &alice, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 1);
	snprintf(link, sizeof(link), "%s/notebooks/remote", home);
	n = readlink(link, have, sizeof(have) - 1);
	assert_true(n > 0);
	have[n] = '\0';
	assert_string_equal(have, "/mnt/x/notebooks/alice");
	assert_int_equal(
	    prov_home_link(home, "/mnt/x/notebooks/alice", &alice, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 0);
	/* A link to elsewhere: error naming the link and where it points. */
	assert_int_equal(
	    prov_home_link(home, "/mnt/y/notebooks/alice", &alice, &changed, err, sizeof(err)),
	    -EEXIST);
	assert_non_null(strstr(err, link));
	assert_non_null(strstr(err, "'/mnt/x/notebooks/alice'"));
	/* A real directory in the way is kept. */
	assert_int_equal(unlink(link), 0);
	assert_int_equal(mkdir(link, 0755), 0);
	assert_int_equal(
	    prov_home_link(home, "/mnt/x/notebooks/alice", &alice, &changed, err, sizeof(err)),
	    -EEXIST);
	assert_non_null(strstr(err, "not a symlink"));
	assert_int_equal(rmdir(link), 0);
	/* notebooks/ swapped for a symlink: refused, nothing written through it. */
	snprintf(link, sizeof(link), "%s/notebooks", home);
	assert_int_equal(rmdir(link), 0);
	assert_int_equal(symlink(dir, link), 0);
	assert_int_not_equal(
	    prov_home_link(home, "/mnt/x/notebooks/alice", &alice, &changed, err, sizeof(err)), 0);
	snprintf(link, sizeof(link), "%s/remote", dir);
	assert_int_equal(access(link, F_OK), -1);
}

static void test_ssh_keys_append_only(void **state)
{
	char path[256];
	char err[512] = "";
	struct prov_buf text;
	struct stat st;
	FILE *f;
	int added = -1;

	(void)state;
	need_root();
	snprintf(path, sizeof(path), "%s/.ssh", home);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/.ssh/authorized_keys", home);
	f = fopen(path, "w");
	fputs("# mine\nssh-rsa AAAAexisting me@home", f); /* no final newline */
	fclose(f);
	assert_int_equal(prov_home_ssh_keys(home, &alice, &added, err, sizeof(err)), 0);
	assert_int_equal(added, 1);
	assert_int_equal(prov_user_add_key(&alice, KEY2, NULL), 0);
	assert_int_equal(prov_home_ssh_keys(home, &alice, &added, err, sizeof(err)), 0);
	assert_int_equal(added, 1);
	assert_int_equal(prov_home_ssh_keys(home, &alice, &added, err, sizeof(err)), 0);
	assert_int_equal(added, 0);
	prov_buf_init(&text);
	assert_int_equal(prov_read_file(path, &text, 65536), 0);
	assert_string_equal(text.data,
			    "# mine\nssh-rsa AAAAexisting me@home\n" KEY1 "\n" KEY2 "\n");
	prov_buf_release(&text);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, 2345);
}

static void test_purge(void **state)
{
	char path[256];
	char err[512] = "";
	int changed;
	int removed = -1;
	FILE *f;

	(void)state;
	need_root();
	assert_int_equal(prov_home_notebooks(mnt, &alice, &changed, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/notebooks/alice/sub", mnt);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/notebooks/alice/sub/nb.ipynb", mnt);
	f = fopen(path, "w");
	fputs("{}", f);
	fclose(f);
	/* A symlink inside must be removed, not followed. */
	snprintf(path, sizeof(path), "%s/notebooks/alice/escape", mnt);
	assert_int_equal(symlink(home, path), 0);
	assert_int_equal(prov_home_purge(mnt, "alice", &removed, err, sizeof(err)), 0);
	assert_int_equal(removed, 1);
	snprintf(path, sizeof(path), "%s/notebooks/alice", mnt);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(access(home, F_OK), 0);
	assert_int_equal(prov_home_purge(mnt, "alice", &removed, err, sizeof(err)), 0);
	assert_int_equal(removed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_notebooks_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_link, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ssh_keys_append_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
