/* test_prov_config.c: pool config parsing and checks (provision/prov_config.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "prov_config.h"

static void test_defaults_and_full_parse(void **state)
{
	struct prov_config c;
	char err[512] = "";
	const char *text = "# pool\n"
			   "account = myacct\n"
			   "  share=team-share  \n"
			   "\n"
			   "credentials = /run/azsharefs/credentials\n"
			   "endpoint = http://127.0.0.1:10004/myacct\n"
			   "mountpoint = /srv/pool\n"
			   "cache_dir = /var/cache/pool\n"
			   "options = writeback_delay=5,allow_other\n"
			   "uid_min = 3000\n"
			   "uid_max = 3999\n"
			   "lock_timeout = 60\n"
			   "no_mount = yes\n";

	(void)state;
	prov_config_init(&c);
	assert_int_equal(c.uid_min, 2000);
	assert_string_equal(c.mountpoint, "/mnt/azsharefs");
	assert_string_equal(c.azsharefs, AZSF_MOUNT_BIN);
	assert_int_equal(prov_config_parse(&c, text, "pool.conf", err, sizeof(err)), 0);
	assert_string_equal(c.account, "myacct");
	assert_string_equal(c.share, "team-share");
	assert_string_equal(c.credentials, "/run/azsharefs/credentials");
	assert_string_equal(c.endpoint, "http://127.0.0.1:10004/myacct");
	assert_string_equal(c.mountpoint, "/srv/pool");
	assert_string_equal(c.options, "writeback_delay=5,allow_other");
	assert_int_equal(c.uid_min, 3000);
	assert_int_equal(c.uid_max, 3999);
	assert_int_equal(c.lock_timeout, 60);
	assert_int_equal(c.no_mount, 1);
	assert_int_equal(prov_config_check(&c, err, sizeof(err)), 0);
}

/* Each bad line must fail, and the message must name the line and the key. */
static void test_errors_name_line_and_key(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* substring of the error */
	} cases[] = {
	    {"account = myacct\nbogus = 1\n", "pool.conf:2: unknown key 'bogus'"},
	    {"account = MyAcct\n", "pool.conf:1: account: 'MyAcct'"},
	    {"account = ab\n", "pool.conf:1: account"},
	    {"share = -bad\n", "pool.conf:1: share: '-bad'"},
	    {"share = a--b\n", "share"},
	    {"share = x\n", "share"},
	    {"mountpoint = relative/dir\n", "mountpoint: 'relative/dir' is not a plain absolute"},
	    {"mountpoint = /mnt/a b\n", "mountpoint"},
	    {"cache_dir = /var/../etc\n", "cache_dir"},
	    {"options = share=other\n", "options: 'share' is set by the provisioner"},
	    {"options = ro,conn_file=/x\n", "options: 'conn_file'"},
	    {"options = AccountKey=abc\n", "credentials do not belong in options"},
	    {"options = a b\n", "options: character ' ' not allowed"},
	    {"uid_min = 10\n", "uid_min: '10' is not a number from 1000"},
	    {"uid_max = lots\n", "uid_max"},
	    {"no_mount = maybe\n", "no_mount: 'maybe' is not yes or no"},
	    {"endpoint = ftp://x\n", "endpoint"},
	    {"endpoint = http://x;AccountKey=y\n", "endpoint"},
	    {"\n\njust words\n", "pool.conf:3: expected 'key = value'"},
	    {" = value\n", "missing key"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prov_config c;
		char err[512] = "";

		prov_config_init(&c);
		assert_int_not_equal(
		    prov_config_parse(&c, cases[i].text, "pool.conf", err, sizeof(err)), 0);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: error '%s' lacks '%s'", i, err, cases[i].want);
	}
}

static void test_check_required_and_range(void **state)
{
	struct prov_config c;
	char err[256] = "";

	(void)state;
	prov_config_init(&c);
	assert_int_equal(prov_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'account'"));
	assert_int_equal(prov_config_set(&c, "account", "acct1", err, sizeof(err)), 0);
	assert_int_equal(prov_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'share'"));
	assert_int_equal(prov_config_set(&c, "share", "pool", err, sizeof(err)), 0);
	assert_int_equal(prov_config_check(&c, err, sizeof(err)), 0);
	assert_int_equal(prov_config_set(&c, "uid_min", "5000", err, sizeof(err)), 0);
	assert_int_equal(prov_config_set(&c, "uid_max", "4000", err, sizeof(err)), 0);
	assert_int_equal(prov_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "uid_min 5000 is above uid_max 4000"));
}

static void test_mount_opts_and_conn_path(void **state)
{
	struct prov_config c;
	char err[256];
	char out[512];

	(void)state;
	prov_config_init(&c);
	assert_int_equal(prov_config_set(&c, "share", "pool", err, sizeof(err)), 0);
	assert_int_equal(prov_config_conn_path(&c, out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/azsharefs/pool.conn");
	assert_int_equal(prov_config_mount_opts(&c, "/etc/azsharefs/pool.conn", "/var/cache/x", out,
						sizeof(out)),
			 0);
	assert_string_equal(out, "share=pool,conn_file=/etc/azsharefs/pool.conn,"
				 "cache_dir=/var/cache/x");
	assert_int_equal(prov_config_set(&c, "options", "writeback_delay=3", err, sizeof(err)), 0);
	assert_int_equal(prov_config_mount_opts(&c, "/c", "/d", out, sizeof(out)), 0);
	assert_string_equal(out, "share=pool,conn_file=/c,cache_dir=/d,writeback_delay=3");
	assert_int_equal(prov_config_mount_opts(&c, "/c", "/d", out, 20), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_and_full_parse),
	    cmocka_unit_test(test_errors_name_line_and_key),
	    cmocka_unit_test(test_check_required_and_range),
	    cmocka_unit_test(test_mount_opts_and_conn_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
