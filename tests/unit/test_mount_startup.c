/* test_mount_startup.c: fs/startup.c - the credentials file (mode warning,
 * comment lines, secrets never echoed), connection string errors, the one
 * line for each share-check failure, mkdir -p, the cache's options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "startup.h"

#define DEV_KEY                                                                                    \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define CONN                                                                                       \
	"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" DEV_KEY           \
	";FileEndpoint=http://127.0.0.1:1/devstoreaccount1"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/azsf-startup-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* Runs mnt_read_conn_file with stderr captured into log. */
static int read_captured(const char *path, char **out, char *err, size_t errlen, char *log,
			 size_t loglen)
{
	char lp[128];
	int saved = dup(2), fd, rc;
	ssize_t n;

	snprintf(lp, sizeof(lp), "%s/stderr", dir);
	fd = open(lp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	dup2(fd, 2);
	rc = mnt_read_conn_file(path, out, err, errlen);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, log, loglen - 1, 0);
	log[n > 0 ? n : 0] = '\0';
	close(fd);
	return rc;
}

static void test_conn_file(void **state)
{
	char path[128], err[256], log[2048];
	char *s = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/conn", dir);
	write_file(path, "# account for the pool\n\n  " CONN "  \n", 0600);
	assert_int_equal(read_captured(path, &s, err, sizeof(err), log, sizeof(log)), 0);
	assert_string_equal(s, CONN);
	assert_string_equal(log, ""); /* 0600: no warning */
	free(s);

	/* readable by others: works, with a loud warning that never shows the key */
	write_file(path, CONN "\n", 0644);
	assert_int_equal(read_captured(path, &s, err, sizeof(err), log, sizeof(log)), 0);
	assert_non_null(strstr(log, "readable by group or others"));
	assert_non_null(strstr(log, "chmod 600"));
	assert_null(strstr(log, "Eby8"));
	free(s);

	/* split over lines */
	write_file(path, "AccountName=a\r\nAccountKey=" DEV_KEY ";\nFileEndpoint=http://x\n", 0600);
	assert_int_equal(read_captured(path, &s, err, sizeof(err), log, sizeof(log)), 0);
	assert_string_equal(s, "AccountName=a;AccountKey=" DEV_KEY ";FileEndpoint=http://x");
	free(s);

	write_file(path, "# nothing here\n\n", 0600);
	assert_int_equal(read_captured(path, &s, err, sizeof(err), log, sizeof(log)), -EINVAL);
	assert_non_null(strstr(err, "holds no connection string"));
	assert_null(s);

	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(read_captured(path, &s, err, sizeof(err), log, sizeof(log)), -ENOENT);
	assert_non_null(strstr(err, "cannot read conn_file"));
	assert_int_equal(read_captured(dir, &s, err, sizeof(err), log, sizeof(log)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

static void test_check_conn(void **state)
{
	char account[64], err[256];

	(void)state;
	assert_int_equal(mnt_check_conn(CONN, account, sizeof(account), err, sizeof(err)), 0);
	assert_string_equal(account, "devstoreaccount1");
	assert_int_equal(mnt_check_conn("AccountName=x;AccountKey=not*base64", account,
					sizeof(account), err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "bad connection string"));
	assert_null(strstr(err, "not*base64"));
	assert_int_equal(
	    mnt_check_conn("AccountKey=" DEV_KEY, account, sizeof(account), err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "AccountName"));
	assert_null(strstr(err, "Eby8"));
}

static void test_probe_messages(void **state)
{
	char m[512];

	(void)state;
	mnt_probe_message(-EACCES, "acct", "data", "https://acct.file.core.windows.net", "/c", m,
			  sizeof(m));
	assert_non_null(strstr(m, "authentication failed for account 'acct'"));
	mnt_probe_message(-ENOENT, "acct", "data", "e", "/c", m, sizeof(m));
	assert_non_null(strstr(m, "share 'data' not found"));
	const int unreachable[] = {-ECONNREFUSED, -EHOSTUNREACH, -ETIMEDOUT, -ECONNRESET, -EAGAIN};
	for (size_t i = 0; i < sizeof(unreachable) / sizeof(unreachable[0]); i++) {
		mnt_probe_message(unreachable[i], "acct", "data", "http://127.0.0.1:9", "/c", m,
				  sizeof(m));
		assert_non_null(strstr(m, "cannot reach endpoint 'http://127.0.0.1:9'"));
	}
	mnt_probe_message(-EPROTO, "acct", "data", "https://x", "/c", m, sizeof(m));
	assert_non_null(strstr(m, "TLS"));
	mnt_probe_message(-EIO, "acct", "data", "https://x", "/c", m, sizeof(m));
	assert_non_null(strstr(m, "cannot open share 'data'"));
}

static void test_mkdir_p(void **state)
{
	char p[256];
	struct stat sb;

	(void)state;
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	assert_int_equal(mnt_mkdir_p(p, 0700), 0);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(mnt_mkdir_p(p, 0700), 0); /* exists: fine */
	snprintf(p, sizeof(p), "%s/conn", dir);
	write_file(p, "x", 0600);
	snprintf(p, sizeof(p), "%s/conn/sub", dir);
	assert_int_equal(mnt_mkdir_p(p, 0700), -ENOTDIR);
}

static void test_vfs_opts(void **state)
{
	struct mopt o;
	struct vfs_opts vo;

	(void)state;
	mopt_defaults(&o);
	o.writeback_delay_ms = 1500;
	o.offline_writes = 1;
	o.nocto = 1;
	o.uid = 33;
	o.file_mode = 0600;
	mnt_vfs_opts(&o, "/var/cache/x", &vo);
	assert_string_equal(vo.cache_dir, "/var/cache/x");
	assert_int_equal(vo.writeback_delay_ms, 1500);
	assert_int_equal(vo.attr_timeout_ms, 2000);
	assert_int_equal(vo.dir_timeout_ms, 2000);
	assert_true(vo.file_max_bytes == 16ull << 20);
	assert_int_equal(vo.upload_threads, 16);
	assert_int_equal(vo.offline_writes, 1);
	assert_int_equal(vo.nocto, 1);
	assert_int_equal(vo.default_uid, 33);
	assert_int_equal(vo.default_file_mode, 0600);
	assert_int_equal(vo.conflict_slack_ms, 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_conn_file, setup, teardown),
	    cmocka_unit_test(test_check_conn),
	    cmocka_unit_test(test_probe_messages),
	    cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
	    cmocka_unit_test(test_vfs_opts),
	};

	az_log_init("test", 1, AZ_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
