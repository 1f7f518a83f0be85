/* test_mount_options.c: fs/options.c - every option, malformed values,
 * unknown keys, fstab forms, the config file and -o precedence over it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "options.h"

static char err[512];

/* Parses a NULL-terminated list of words after the program name. */
static int parse(struct mopt *o, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	const char *w;

	argv[argc++] = (char *)"azsharefs";
	va_start(ap, o);
	for (w = va_arg(ap, const char *); w; w = va_arg(ap, const char *))
		argv[argc++] = (char *)w;
	va_end(ap);
	argv[argc] = NULL;
	mopt_defaults(o);
	err[0] = '\0';
	return mopt_parse(o, argc, argv, err, sizeof(err));
}

#define BASE "share=data,conn_file=/etc/azsharefs/conn"

static void test_defaults(void **state)
{
	struct mopt o;

	(void)state;
	assert_int_equal(parse(&o, "/mnt/x", "-o", BASE, NULL), 0);
	assert_string_equal(o.mountpoint, "/mnt/x");
	assert_string_equal(o.share, "data");
	assert_string_equal(o.conn_file, "/etc/azsharefs/conn");
	assert_null(o.cache_dir);
	assert_int_equal(o.writeback_delay_ms, 0);
	assert_int_equal(o.attr_timeout_ms, 2000);
	assert_int_equal(o.dir_timeout_ms, 2000);
	assert_int_equal(o.conflict_slack_ms, 1000);
	assert_true(o.cache_size == (10ull << 30));
	assert_true(o.file_cache_max == (16ull << 20));
	assert_int_equal(o.upload_threads, 16);
	assert_int_equal(o.file_mode, 0644);
	assert_int_equal(o.dir_mode, 0755);
	assert_int_equal(o.offline_writes, 0);
	assert_int_equal(o.nocto, 0);
	assert_int_equal(o.log_level, AZ_LOG_INFO);
	assert_int_equal(o.allow_other, -1);
	assert_int_equal(o.foreground, 0);
	assert_int_equal(o.read_only, 0);
	assert_null(o.fuse_opts);
	mopt_release(&o);
}

static void test_every_option(void **state)
{
	struct mopt o;

	(void)state;
	assert_int_equal(
	    parse(&o, "/m", "-o", BASE, "-o",
		  "cache_dir=/var/c,writeback_delay=0.5,attr_timeout=3,"
		  "dir_timeout=1.25,conflict_slack=0,cache_size=2G,file_cache_max=512k,"
		  "upload_threads=8,ca_file=/etc/ca.pem,uid=1000,gid=100,file_mode=0600,"
		  "dir_mode=700,offline_writes,nocto,log_level=debug,allow_other",
		  NULL),
	    0);
	assert_string_equal(o.cache_dir, "/var/c");
	assert_int_equal(o.writeback_delay_ms, 500);
	assert_int_equal(o.attr_timeout_ms, 3000);
	assert_int_equal(o.dir_timeout_ms, 1250);
	assert_int_equal(o.conflict_slack_ms, 0);
	assert_true(o.cache_size == (2ull << 30));
	assert_true(o.file_cache_max == 512 * 1024);
	assert_int_equal(o.upload_threads, 8);
	assert_string_equal(o.ca_file, "/etc/ca.pem");
	assert_int_equal(o.uid, 1000);
	assert_int_equal(o.gid, 100);
	assert_int_equal(o.file_mode, 0600);
	assert_int_equal(o.dir_mode, 0700);
	assert_int_equal(o.offline_writes, 1);
	assert_int_equal(o.nocto, 1);
	assert_int_equal(o.log_level, AZ_LOG_DEBUG);
	assert_int_equal(o.allow_other, 1);
	mopt_release(&o);

	assert_int_equal(
	    parse(&o, "/m", "-o", BASE ",offline_writes=no,log_level=0,uid=root,gid=root", NULL),
	    0);
	assert_int_equal(o.offline_writes, 0);
	assert_int_equal(o.log_level, AZ_LOG_ERR);
	assert_int_equal(o.uid, 0);
	assert_int_equal(o.gid, 0);
	mopt_release(&o);
}

static void test_value_parsers(void **state)
{
	long ms;
	uint64_t b;
	mode_t m;
	int v;

	(void)state;
	assert_int_equal(mopt_parse_seconds("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(mopt_parse_seconds("2", &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(mopt_parse_seconds("0.001", &ms), 0);
	assert_int_equal(ms, 1);
	assert_int_equal(mopt_parse_seconds(".5", &ms), 0);
	assert_int_equal(ms, 500);
	const char *bad_s[] = {"",     "-1", "abc", "1s",  "inf", "nan",
			       "0x10", " 1", "1 ",  "1e3", "1..2"};
	for (size_t i = 0; i < sizeof(bad_s) / sizeof(bad_s[0]); i++)
		assert_int_equal(mopt_parse_seconds(bad_s[i], &ms), -EINVAL);

	assert_int_equal(mopt_parse_size("4096", &b), 0);
	assert_true(b == 4096);
	assert_int_equal(mopt_parse_size("10G", &b), 0);
	assert_true(b == 10ull << 30);
	assert_int_equal(mopt_parse_size("16M", &b), 0);
	assert_true(b == 16ull << 20);
	assert_int_equal(mopt_parse_size("16MiB", &b), 0);
	assert_true(b == 16ull << 20);
	assert_int_equal(mopt_parse_size("1t", &b), 0);
	assert_true(b == 1ull << 40);
	assert_int_equal(mopt_parse_size("3KB", &b), 0);
	assert_true(b == 3072);
	const char *bad_z[] = {"",    "G", "-5", "10X", "10GG", "1.5G", " 1", "99999999999999T",
			       "10 G"};
	for (size_t i = 0; i < sizeof(bad_z) / sizeof(bad_z[0]); i++)
		assert_int_equal(mopt_parse_size(bad_z[i], &b), -EINVAL);

	assert_int_equal(mopt_parse_mode("0644", &m), 0);
	assert_int_equal(m, 0644);
	assert_int_equal(mopt_parse_mode("2775", &m), 0);
	assert_int_equal(m, 02775);
	assert_int_equal(mopt_parse_mode("0999", &m), -EINVAL);
	assert_int_equal(mopt_parse_mode("17777", &m), -EINVAL);
	assert_int_equal(mopt_parse_mode("rw", &m), -EINVAL);
	assert_int_equal(mopt_parse_mode("", &m), -EINVAL);

	assert_int_equal(mopt_parse_bool("yes", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(mopt_parse_bool("OFF", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(mopt_parse_bool("maybe", &v), -EINVAL);
}

static void expect_error(const char *opts, const char *needle)
{
	struct mopt o;
	int rc = parse(&o, "/m", "-o", opts, NULL);

	if (rc != -EINVAL || !strstr(err, needle))
		fail_msg("options '%s': rc %d, message '%s', expected '%s'", opts, rc, err, needle);
	mopt_release(&o);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_error(BASE ",writeback_delay=-1", "writeback_delay");
	expect_error(BASE ",writeback_delay=abc", "'abc'");
	expect_error(BASE ",writeback_delay", "needs a value");
	expect_error(BASE ",attr_timeout=1s", "attr_timeout");
	expect_error(BASE ",dir_timeout=", "dir_timeout");
	expect_error(BASE ",cache_size=10X", "cache_size");
	expect_error(BASE ",file_cache_max=lots", "file_cache_max");
	expect_error(BASE ",file_cache_max=0", "file_cache_max");
	expect_error(BASE ",upload_threads=0", "upload_threads");
	expect_error(BASE ",upload_threads=300", "upload_threads");
	expect_error(BASE ",upload_threads=two", "upload_threads");
	expect_error(BASE ",file_mode=0999", "file_mode");
	expect_error(BASE ",dir_mode=rwx", "dir_mode");
	expect_error(BASE ",uid=no-such-user-azsf", "uid");
	expect_error(BASE ",gid=no-such-group-azsf", "gid");
	expect_error(BASE ",uid=-1", "uid");
	expect_error(BASE ",offline_writes=maybe", "offline_writes");
	expect_error(BASE ",log_level=loud", "log_level");
	expect_error(BASE ",share=", "share");
	expect_error(BASE ",bogus=1", "unknown option 'bogus=1'");
	expect_error(BASE ",shar=x", "unknown option 'shar=x'");
	expect_error(BASE ",hard_remove", "unknown option 'hard_remove'");
	expect_error("share=Bad_Share,conn_file=/c", "share");
	expect_error("share=ab,conn_file=/c", "3 to 63");
	expect_error("conn_file=/c", "missing option 'share'");
	expect_error("share=data", "missing option 'conn_file'");
}

static void test_fstab_and_fuse_options(void **state)
{
	struct mopt o;

	(void)state;
	/* What mount.fuse3 hands us for an fstab line (observed on Debian 12). */
	assert_int_equal(parse(&o, "data", "/mnt/d", "-o",
			       "rw,noexec,nosuid,nodev,conn_file=/c,allow_other,dev,suid,_netdev,"
			       "noauto,nofail,defaults,user,x-systemd.automount,"
			       "x-systemd.mount-timeout=30,comment=x,default_permissions,noatime",
			       NULL),
			 0);
	assert_string_equal(o.share, "data");
	assert_string_equal(o.source, "data");
	assert_string_equal(o.mountpoint, "/mnt/d");
	assert_string_equal(o.fuse_opts, "noexec,nosuid,nodev,dev,suid,noatime");
	assert_int_equal(o.allow_other, 1);
	assert_int_equal(o.read_only, 0);
	mopt_release(&o);

	assert_int_equal(
	    parse(&o, "/m", "-o", BASE ",ro,allow_root,fsname=az,max_read=131072", NULL), 0);
	assert_int_equal(o.read_only, 1);
	assert_string_equal(o.fuse_opts, "allow_root,fsname=az,max_read=131072");
	mopt_release(&o);
}

static void test_source_argument(void **state)
{
	struct mopt o;

	(void)state;
	assert_int_equal(parse(&o, "azsharefs#pool-data", "/m", "-o", "conn_file=/c", NULL), 0);
	assert_string_equal(o.share, "pool-data");
	mopt_release(&o);
	assert_int_equal(parse(&o, "none", "/m", "-o", BASE, NULL), 0);
	assert_string_equal(o.share, "data");
	mopt_release(&o);
	assert_int_equal(parse(&o, "data", "/m", "-o", BASE, NULL), 0);
	assert_string_equal(o.share, "data");
	mopt_release(&o);
	assert_int_equal(parse(&o, "other", "/m", "-o", BASE, NULL), -EINVAL);
	assert_non_null(strstr(err, "source 'other'"));
	mopt_release(&o);
	assert_int_equal(parse(&o, "a", "b", "c", "-o", BASE, NULL), -EINVAL);
	assert_non_null(strstr(err, "unexpected argument 'c'"));
	mopt_release(&o);
	assert_int_equal(parse(&o, "-o", BASE, NULL), -EINVAL);
	assert_non_null(strstr(err, "missing MOUNTPOINT"));
	mopt_release(&o);
}

static void test_flags(void **state)
{
	struct mopt o;

	(void)state;
	assert_int_equal(parse(&o, "-f", "-s", "/m", "-o" BASE, NULL), 0);
	assert_int_equal(o.foreground, 1);
	assert_int_equal(o.single_thread, 1);
	assert_int_equal(o.debug, 0);
	mopt_release(&o);
	assert_int_equal(parse(&o, "/m", "-d", "-o", BASE, NULL), 0);
	assert_int_equal(o.debug, 1);
	assert_int_equal(o.foreground, 1);
	assert_int_equal(o.log_level, AZ_LOG_DEBUG);
	mopt_release(&o);
	assert_int_equal(parse(&o, "--help", NULL), 0);
	assert_int_equal(o.show_help, 1);
	mopt_release(&o);
	assert_int_equal(parse(&o, "-V", NULL), 0);
	assert_int_equal(o.show_version, 1);
	mopt_release(&o);
	assert_int_equal(parse(&o, "/m", "-x", "-o", BASE, NULL), -EINVAL);
	assert_non_null(strstr(err, "'-x'"));
	mopt_release(&o);
	assert_int_equal(parse(&o, "/m", "-o", NULL), -EINVAL);
	assert_non_null(strstr(err, "'-o' needs a value"));
	mopt_release(&o);
	assert_int_equal(parse(&o, "-o", BASE, "--", "-weird", NULL), 0);
	assert_string_equal(o.mountpoint, "-weird");
	mopt_release(&o);
	assert_non_null(strstr(mopt_usage(), "writeback_delay"));
}

static void test_escaped_comma(void **state)
{
	struct mopt o;

	(void)state;
	assert_int_equal(parse(&o, "/m", "-o", BASE ",cache_dir=/a\\,b", NULL), 0);
	assert_string_equal(o.cache_dir, "/a,b");
	mopt_release(&o);
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/azsf-test-conf-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_config_file(void **state)
{
	struct mopt o;
	char opt[256];
	char *cfg = write_tmp("# azsharefs config\n\n  share = pooldata  \n"
			      "conn_file=/etc/azsharefs/conn\n"
			      "writeback_delay = 2.5\n"
			      "\t# indented comment\n"
			      "offline_writes\n"
			      "cache_size = 1G   # one gibibyte\n"
			      "cache_dir = /var/cache/a#b\n"
			      "_netdev\n");

	(void)state;
	snprintf(opt, sizeof(opt), "config=%s", cfg);
	assert_int_equal(parse(&o, "/m", "-o", opt, NULL), 0);
	assert_string_equal(o.share, "pooldata");
	assert_int_equal(o.writeback_delay_ms, 2500);
	assert_int_equal(o.offline_writes, 1);
	assert_true(o.cache_size == 1ull << 30);
	assert_string_equal(o.cache_dir, "/var/cache/a#b");
	mopt_release(&o);

	/* -o wins over the file, before or after config= */
	assert_int_equal(parse(&o, "/m", "-o", "writeback_delay=1", "-o", opt, NULL), 0);
	assert_int_equal(o.writeback_delay_ms, 1000);
	mopt_release(&o);
	snprintf(opt, sizeof(opt), "config=%s,cache_size=2G,share=other", cfg);
	assert_int_equal(parse(&o, "/m", "-o", opt, NULL), 0);
	assert_true(o.cache_size == 2ull << 30);
	assert_string_equal(o.share, "other");
	mopt_release(&o);
	unlink(cfg);
	free(cfg);
}

static void test_config_errors(void **state)
{
	struct mopt o;
	char opt[256];
	char *cfg = write_tmp("share = pooldata\nconn_file = /c\n\nfrobnicate = 3\n");

	(void)state;
	snprintf(opt, sizeof(opt), "config=%s", cfg);
	assert_int_equal(parse(&o, "/m", "-o", opt, NULL), -EINVAL);
	assert_non_null(strstr(err, "unknown option 'frobnicate=3'"));
	assert_non_null(strstr(err, "line 4"));
	assert_non_null(strstr(err, cfg));
	mopt_release(&o);
	unlink(cfg);
	free(cfg);

	cfg = write_tmp("share = pooldata\nwriteback_delay = soon\n");
	snprintf(opt, sizeof(opt), "config=%s,conn_file=/c", cfg);
	assert_int_equal(parse(&o, "/m", "-o", opt, NULL), -EINVAL);
	assert_non_null(strstr(err, "writeback_delay"));
	assert_non_null(strstr(err, "line 2"));
	mopt_release(&o);
	unlink(cfg);
	free(cfg);

	cfg = write_tmp("config = /etc/other\n");
	snprintf(opt, sizeof(opt), "config=%s," BASE, cfg);
	assert_int_equal(parse(&o, "/m", "-o", opt, NULL), -EINVAL);
	assert_non_null(strstr(err, "inside a config file"));
	mopt_release(&o);
	unlink(cfg);
	free(cfg);

	assert_int_equal(parse(&o, "/m", "-o", "config=/nonexistent/azsf.conf," BASE, NULL),
			 -EINVAL);
	assert_non_null(strstr(err, "cannot read config '/nonexistent/azsf.conf'"));
	mopt_release(&o);
}

static void test_default_cache_dir(void **state)
{
	char a[256], b[256];

	(void)state;
	assert_int_equal(mopt_default_cache_dir("acct", "data", "/mnt/x", a, sizeof(a)), 0);
	assert_int_equal(mopt_default_cache_dir("acct", "data", "/mnt/y", b, sizeof(b)), 0);
	assert_int_equal(strncmp(a, "/var/cache/azsharefs/acct-data-", 31), 0);
	assert_int_equal(strlen(a), 31 + 16);
	assert_string_not_equal(a, b);
	assert_int_equal(mopt_default_cache_dir("acct", "data", "/mnt/x", b, sizeof(b)), 0);
	assert_string_equal(a, b);
	assert_int_equal(mopt_default_cache_dir("acct", "data", "/mnt/x", b, 20), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_option),
	    cmocka_unit_test(test_value_parsers),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_fstab_and_fuse_options),
	    cmocka_unit_test(test_source_argument),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_escaped_comma),
	    cmocka_unit_test(test_config_file),
	    cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_default_cache_dir),
	};

	az_log_init("test", 1, AZ_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
