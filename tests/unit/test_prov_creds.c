/* test_prov_creds.c: credentials -> connection string, root-only install
 * (provision/prov_creds.c). */
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

#include "prov_creds.h"

#define DEVKEY                                                                                     \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"                          \
	"K1SZFPTOtr/KBHBeksoGMGw=="

static void config(struct prov_config *c, const char *endpoint)
{
	char err[256];

	prov_config_init(c);
	assert_int_equal(prov_config_set(c, "account", "devstoreaccount1", err, sizeof(err)), 0);
	assert_int_equal(prov_config_set(c, "share", "pool", err, sizeof(err)), 0);
	if (endpoint)
		assert_int_equal(prov_config_set(c, "endpoint", endpoint, err, sizeof(err)), 0);
}

static void test_forms(void **state)
{
	struct prov_config c;
	struct prov_buf out;
	char err[256] = "";

	(void)state;
	config(&c, NULL);
	prov_buf_init(&out);
	assert_int_equal(prov_creds_conn_string(&c, "  " DEVKEY "\n", &out, err, sizeof(err)), 0);
	assert_string_equal(out.data, "DefaultEndpointsProtocol=https;AccountName=devstoreaccount1;"
				      "AccountKey=" DEVKEY ";FileEndpoint=https://devstoreaccount1"
				      ".file.core.windows.net");
	prov_buf_release(&out);

	config(&c, "http://127.0.0.1:10004/devstoreaccount1");
	assert_int_equal(
	    prov_creds_conn_string(&c, "?sv=2022-11-02&ss=f&sig=abc%2F", &out, err, sizeof(err)),
	    0);
	assert_string_equal(out.data, "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
				      "SharedAccessSignature=sv=2022-11-02&ss=f&sig=abc%2F;"
				      "FileEndpoint=http://127.0.0.1:10004/devstoreaccount1");
	prov_buf_release(&out);

	/* A whole connection string is kept as it is. */
	assert_int_equal(prov_creds_conn_string(&c,
						"AccountName=devstoreaccount1;AccountKey=" DEVKEY
						";FileEndpoint=http://h/x\n",
						&out, err, sizeof(err)),
			 0);
	assert_string_equal(out.data, "AccountName=devstoreaccount1;AccountKey=" DEVKEY
				      ";FileEndpoint=http://h/x");
	prov_buf_release(&out);
}

static void test_rejects_without_leaking(void **state)
{
	struct prov_config c;
	struct prov_buf out;
	char err[256] = "";

	(void)state;
	config(&c, NULL);
	prov_buf_init(&out);
	assert_int_equal(prov_creds_conn_string(&c, "AccountName=other;AccountKey=" DEVKEY, &out,
						err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'other'"));
	assert_non_null(strstr(err, "'devstoreaccount1'"));
	assert_null(strstr(err, "Eby8"));
	assert_int_equal(prov_creds_conn_string(&c, "not a key!", &out, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "not a key"));
	assert_int_equal(prov_creds_conn_string(&c, DEVKEY "\n" DEVKEY, &out, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "one line"));
	assert_int_equal(prov_creds_conn_string(&c, "\n \n", &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	prov_buf_release(&out);
}

static void write_mode(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_install(void **state)
{
	char dir[] = "/tmp/azsf-creds-XXXXXX";
	char src[256];
	char dst[256];
	char err[512] = "";
	struct prov_config c;
	struct prov_buf text;
	struct stat st;
	int changed = -1;

	(void)state;
	config(&c, NULL);
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/secret", dir);
	snprintf(dst, sizeof(dst), "%s/etc/azsharefs/pool.conn", dir);

	/* A source others can read is refused, naming the file and its mode. */
	write_mode(src, DEVKEY "\n", 0644);
	assert_int_equal(prov_creds_install(&c, src, dst, &changed, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, src));
	assert_non_null(strstr(err, "0644"));
	assert_int_equal(stat(dst, &st), -1);

	write_mode(src, DEVKEY "\n", 0600);
	assert_int_equal(prov_creds_install(&c, src, dst, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	prov_buf_init(&text);
	assert_int_equal(prov_read_file(dst, &text, 4096), 0);
	assert_non_null(strstr(text.data, "AccountKey=" DEVKEY ";"));
	assert_int_equal(text.data[text.len - 1], '\n');
	prov_buf_release(&text);
	assert_int_equal(prov_creds_install(&c, src, dst, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 0);
	/* A widened mode is repaired. */
	assert_int_equal(chmod(dst, 0644), 0);
	assert_int_equal(prov_creds_install(&c, src, dst, &changed, err, sizeof(err)), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	snprintf(src, sizeof(src), "%s/missing", dir);
	assert_int_equal(prov_creds_install(&c, src, dst, &changed, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing"));
	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	assert_int_equal(system(err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_rejects_without_leaking),
	    cmocka_unit_test(test_install),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
