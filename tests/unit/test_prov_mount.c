/* test_prov_mount.c: mountinfo lookups (provision/prov_mount.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "prov_mount.h"

static const char mountinfo[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "40 22 0:35 / /mnt/azsharefs rw,nosuid,nodev,relatime shared:20 - fuse.azsharefs "
    "azsharefs rw,user_id=0,group_id=0,allow_other\n"
    "41 22 0:36 / /mnt/with\\040space rw - fuse azsharefs rw\n"
    "42 22 0:37 / /mnt/old rw - cifs //acct.file.core.windows.net/share rw\n"
    "43 22 0:38 / /mnt/old rw master:3 - fuse.azsharefs azsharefs rw\n";

static void test_find(void **state)
{
	char fs[64];

	(void)state;
	assert_int_equal(prov_mount_find(mountinfo, "/mnt/azsharefs", fs, sizeof(fs)), 0);
	assert_string_equal(fs, "fuse.azsharefs");
	assert_int_equal(prov_mount_find(mountinfo, "/mnt/with space", fs, sizeof(fs)), 0);
	assert_string_equal(fs, "fuse");
	/* Stacked mounts: the last one is what a path resolves to. */
	assert_int_equal(prov_mount_find(mountinfo, "/mnt/old", fs, sizeof(fs)), 0);
	assert_string_equal(fs, "fuse.azsharefs");
	assert_int_equal(prov_mount_find(mountinfo, "/", fs, sizeof(fs)), 0);
	assert_string_equal(fs, "ext4");
	assert_int_equal(prov_mount_find(mountinfo, "/mnt", fs, sizeof(fs)), -ENOENT);
	assert_int_equal(prov_mount_find(mountinfo, "/mnt/azsharefs/x", fs, sizeof(fs)), -ENOENT);
	assert_int_equal(prov_mount_find("garbage\n\n", "/", fs, sizeof(fs)), -ENOENT);
	assert_int_equal(prov_mount_find("", "/", fs, sizeof(fs)), -ENOENT);
}

static void test_live(void **state)
{
	char fs[64];

	(void)state;
	/* / is always mounted; a fresh temp path is not a mount point. */
	assert_int_equal(prov_mount_state("/", fs, sizeof(fs)), 0);
	assert_true(fs[0] != '\0');
	assert_int_equal(prov_mount_state("/tmp/azsf-surely-not-mounted", fs, sizeof(fs)), -ENOENT);
	assert_false(prov_mount_is_dead("/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
