/* test_conn.c: connection string parsing (fs/conn.c).
 *
 * The decoded development key below was produced independently with
 * Python's base64.b64decode of AZ_DEV_KEY.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conn.h"

static const unsigned char dev_key_raw[64] = {
    0x11, 0xbc, 0xbc, 0xbd, 0xd3, 0x34, 0xdb, 0x13, 0x4e, 0x72, 0xa1, 0x65, 0xa9, 0x4c, 0x09, 0x3c,
    0xb9, 0x66, 0x12, 0xd9, 0x42, 0x0d, 0x72, 0x75, 0x39, 0x4c, 0xc5, 0x4f, 0x9d, 0x2e, 0x49, 0x16,
    0x7a, 0x20, 0x5b, 0x2e, 0x16, 0xad, 0x94, 0x54, 0x4a, 0xc2, 0xcf, 0x82, 0x3a, 0xb6, 0xaf, 0xca,
    0xd5, 0x26, 0x45, 0x3d, 0x33, 0xad, 0xaf, 0xf2, 0x81, 0x1c, 0x17, 0xa4, 0xb2, 0x81, 0x8c, 0x1b,
};

#define KEY "AccountKey=" AZ_DEV_KEY

static void parse_ok(struct az_conn *c, const char *text)
{
	char err[256] = "untouched";
	int rc = az_conn_parse(c, text, err, sizeof(err));

	if (rc != 0)
		fail_msg("parse failed (%d): %s", rc, err);
	assert_string_equal(err, "");
}

/* Parsing fails with a message containing want and never containing
 * secret (when given). The struct is left empty. */
static void parse_bad(const char *text, const char *want, const char *secret)
{
	struct az_conn c;
	char err[256] = "";

	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(az_conn_parse(&c, text, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("message '%s' lacks '%s'", err, want);
	if (secret && strstr(err, secret))
		fail_msg("message '%s' echoes a secret", err);
	assert_null(c.account);
	assert_null(c.key);
	assert_null(c.key_raw);
	assert_null(c.sas);
	assert_null(c.endpoint);
	az_conn_release(&c);
}

static void test_host_style_default(void **state)
{
	struct az_conn c;

	parse_ok(&c, "DefaultEndpointsProtocol=https;AccountName=myacct;" KEY
		     ";EndpointSuffix=core.windows.net");
	assert_string_equal(c.account, "myacct");
	assert_string_equal(c.key, AZ_DEV_KEY);
	assert_int_equal(c.key_raw_len, 64);
	assert_memory_equal(c.key_raw, dev_key_raw, 64);
	assert_null(c.sas);
	assert_string_equal(c.endpoint, "https://myacct.file.core.windows.net");
	assert_int_equal(c.path_style, 0);
	az_conn_release(&c);
	az_conn_release(&c); /* released struct is empty: a second release is harmless */

	parse_ok(&c, "AccountName=myacct;" KEY); /* https and core.windows.net by default */
	assert_string_equal(c.endpoint, "https://myacct.file.core.windows.net");
	az_conn_release(&c);

	parse_ok(&c, "DefaultEndpointsProtocol=HTTP;AccountName=acct2;" KEY
		     ";EndpointSuffix=core.chinacloudapi.cn");
	assert_string_equal(c.endpoint, "http://acct2.file.core.chinacloudapi.cn");
	assert_int_equal(c.path_style, 0);
	az_conn_release(&c);
}

static void test_file_endpoint(void **state)
{
	struct az_conn c;

	parse_ok(&c, "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" KEY
		     ";FileEndpoint=http://127.0.0.1:10004/devstoreaccount1/");
	assert_string_equal(c.endpoint, "http://127.0.0.1:10004/devstoreaccount1");
	assert_int_equal(c.path_style, 1);
	az_conn_release(&c);

	/* host-style emulator name: the account is in the host, not the path */
	parse_ok(&c, "AccountName=devstoreaccount1;" KEY
		     ";FileEndpoint=http://devstoreaccount1.file.localhost:12345");
	assert_string_equal(c.endpoint, "http://devstoreaccount1.file.localhost:12345");
	assert_int_equal(c.path_style, 0);
	az_conn_release(&c);

	/* FileEndpoint wins over protocol and suffix */
	parse_ok(&c,
		 "AccountName=acct;" KEY ";EndpointSuffix=example.org;"
		 "DefaultEndpointsProtocol=http;FileEndpoint=https://acct.file.core.windows.net/");
	assert_string_equal(c.endpoint, "https://acct.file.core.windows.net");
	assert_int_equal(c.path_style, 0);
	az_conn_release(&c);

	/* any path means path-style, even on a DNS name (a proxy prefix) */
	parse_ok(&c, "AccountName=acct;" KEY ";FileEndpoint=https://proxy.example.org/acct//");
	assert_string_equal(c.endpoint, "https://proxy.example.org/acct");
	assert_int_equal(c.path_style, 1);
	az_conn_release(&c);
}

/* A bare IP or localhost endpoint carries the account as first segment. */
static void test_bare_ip_gets_account_path(void **state)
{
	static const struct {
		const char *ep, *want;
	} cases[] = {
	    {"http://127.0.0.1:10004", "http://127.0.0.1:10004/devstoreaccount1"},
	    {"http://127.0.0.1:10004/", "http://127.0.0.1:10004/devstoreaccount1"},
	    {"http://localhost:8080", "http://localhost:8080/devstoreaccount1"},
	    {"http://LOCALHOST", "http://LOCALHOST/devstoreaccount1"},
	    {"http://[::1]:10004", "http://[::1]:10004/devstoreaccount1"},
	    {"https://10.1.2.3", "https://10.1.2.3/devstoreaccount1"},
	};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct az_conn c;

		snprintf(text, sizeof(text), "AccountName=devstoreaccount1;" KEY ";FileEndpoint=%s",
			 cases[i].ep);
		parse_ok(&c, text);
		assert_string_equal(c.endpoint, cases[i].want);
		assert_int_equal(c.path_style, 1);
		az_conn_release(&c);
	}
}

static void test_development_storage(void **state)
{
	struct az_conn c;

	parse_ok(&c, "UseDevelopmentStorage=true");
	assert_string_equal(c.account, AZ_DEV_ACCOUNT);
	assert_string_equal(c.key, AZ_DEV_KEY);
	assert_memory_equal(c.key_raw, dev_key_raw, 64);
	assert_string_equal(c.endpoint, AZ_DEV_FILE_ENDPOINT);
	assert_int_equal(c.path_style, 1);
	az_conn_release(&c);

	/* an explicit FileEndpoint still applies */
	parse_ok(&c,
		 "UseDevelopmentStorage=TRUE;FileEndpoint=http://127.0.0.1:4242/devstoreaccount1");
	assert_string_equal(c.endpoint, "http://127.0.0.1:4242/devstoreaccount1");
	assert_string_equal(c.account, AZ_DEV_ACCOUNT);
	az_conn_release(&c);

	parse_bad("UseDevelopmentStorage=maybe", "UseDevelopmentStorage", NULL);
	parse_bad("UseDevelopmentStorage=false", "AccountName missing", NULL);
}

static void test_sas(void **state)
{
	struct az_conn c;

	parse_ok(&c, "AccountName=acct;SharedAccessSignature=?sv=2025-01-05&ss=f&sig=abc%2Bdef%3D;"
		     "FileEndpoint=https://acct.file.core.windows.net");
	assert_string_equal(c.sas, "sv=2025-01-05&ss=f&sig=abc%2Bdef%3D");
	assert_null(c.key);
	assert_null(c.key_raw);
	assert_int_equal(c.key_raw_len, 0);
	az_conn_release(&c);

	parse_ok(&c, "AccountName=acct;SharedAccessSignature=sig=x&sv=1;" KEY);
	assert_string_equal(c.sas, "sig=x&sv=1");
	assert_non_null(c.key_raw); /* both kept; the client picks */
	az_conn_release(&c);
}

static void test_lenient_syntax(void **state)
{
	struct az_conn c;

	/* key names in any case, spaces around, trailing ';' and newline,
	 * '=' inside values, ignored keys of other services */
	parse_ok(&c, "  accountname = acct3 ;\tACCOUNTKEY=" AZ_DEV_KEY " ;"
		     "BlobEndpoint=https://acct3.blob.core.windows.net;"
		     "QueueEndpoint=https://acct3.queue.core.windows.net;;\n");
	assert_string_equal(c.account, "acct3");
	assert_string_equal(c.key, AZ_DEV_KEY);
	assert_int_equal(c.key_raw_len, 64);
	az_conn_release(&c);

	parse_ok(&c, "AccountName=abc;AccountKey=YQ==");
	assert_int_equal(c.key_raw_len, 1);
	assert_int_equal(c.key_raw[0], 'a');
	az_conn_release(&c);
}

static void test_errors(void **state)
{
	parse_bad(KEY, "AccountName missing", AZ_DEV_KEY);
	parse_bad("AccountName=;" KEY, "AccountName missing", AZ_DEV_KEY);
	parse_bad("AccountName=My_Acct;" KEY, "AccountName must be 3-24 lowercase", NULL);
	parse_bad("AccountName=ab;" KEY, "AccountName must be", NULL);
	parse_bad("AccountName=acct", "AccountKey or SharedAccessSignature missing", NULL);
	parse_bad("AccountName=acct;AccountKey=", "AccountKey is empty", NULL);
	parse_bad("AccountName=acct;AccountKey=not*base64!!", "AccountKey is not base64",
		  "not*base64");
	parse_bad("AccountName=acct;AccountKey=abc", "AccountKey is not base64", NULL);
	parse_bad("AccountName=acct;AccountKey=ab=c", "AccountKey is not base64", NULL);
	parse_bad("AccountName=acct;AccountKey=YQ=a", "AccountKey is not base64", NULL);
	parse_bad("AccountName=acct;AccountKey=YWJj YWJj", "AccountKey is not base64", NULL);
	parse_bad("AccountName=acct;SharedAccessSignature=sv=1&sp=rw&secretpart=zz",
		  "SharedAccessSignature has no sig=", "secretpart");
	parse_bad("AccountName=acct;SharedAccessSignature=?", "SharedAccessSignature is empty",
		  NULL);
	parse_bad("AccountName=acct;" KEY ";DefaultEndpointsProtocol=ftp",
		  "DefaultEndpointsProtocol must be http or https", NULL);
	parse_bad("AccountName=acct;" KEY ";EndpointSuffix=a/b", "EndpointSuffix", NULL);
	parse_bad("AccountName=acct;" KEY ";FileEndpoint=ftp://x", "FileEndpoint must start", NULL);
	parse_bad("AccountName=acct;" KEY ";FileEndpoint=acct.file.core.windows.net",
		  "FileEndpoint must start", NULL);
	parse_bad("AccountName=acct;" KEY ";FileEndpoint=https://h/x?sig=topsecret",
		  "FileEndpoint must be a plain URL", "topsecret");
	parse_bad("AccountName=acct;" KEY ";FileEndpoint=https://", "FileEndpoint has no host",
		  NULL);
	parse_bad("AccountName=acct;" KEY ";AccountName=other", "AccountName given twice", NULL);
	parse_bad("AccountName=acct;" KEY ";" KEY, "AccountKey given twice", AZ_DEV_KEY);
	parse_bad("AccountName=acct;" KEY ";Foo=bar", "unknown connection string key 'Foo'", NULL);
	/* a pasted bare key: its '=' padding makes it look like a key name,
	 * which must not be echoed */
	parse_bad("AccountName=acct;" AZ_DEV_KEY, "unknown connection string key", "Eby8");
	parse_bad("AccountName=acct;topsecretvalue", "without '='", "topsecret");
	parse_bad(NULL, "connection string missing", NULL);
	parse_bad("", "AccountName missing", NULL);
}

static void test_small_err_buffer(void **state)
{
	struct az_conn c;
	char err[8];

	assert_int_equal(az_conn_parse(&c, "AccountName=acct", err, sizeof(err)), -EINVAL);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(az_conn_parse(&c, "AccountName=acct", NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_style_default),
	    cmocka_unit_test(test_file_endpoint),
	    cmocka_unit_test(test_bare_ip_gets_account_path),
	    cmocka_unit_test(test_development_storage),
	    cmocka_unit_test(test_sas),
	    cmocka_unit_test(test_lenient_syntax),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_small_err_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
