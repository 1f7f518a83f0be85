/* test_http.c: the REST client's pure helpers (fs/http_util.c,
 * fs/client_parse.c): URL encoding, reply headers -> az_stat,
 * backoff bounds, Retry-After, the permission JSON, redaction. No network.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "azsharefs/log.h"
#include "client_int.h"
#include "http.h"

static void add_lines(struct az_hdrs *h, const char *const *lines)
{
	for (; *lines; lines++)
		assert_int_equal(az_hdrs_add_line(h, *lines, strlen(*lines)), 0);
}

static void test_url_encode(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(az_url_encode("dir/a b.txt", 1, out, sizeof(out)), 13);
	assert_string_equal(out, "dir/a%20b.txt");
	az_url_encode("dir/a b.txt", 0, out, sizeof(out));
	assert_string_equal(out, "dir%2Fa%20b.txt");
	az_url_encode("AZaz09-._~", 1, out, sizeof(out));
	assert_string_equal(out, "AZaz09-._~");
	az_url_encode("%+&=?#;,", 1, out, sizeof(out));
	assert_string_equal(out, "%25%2B%26%3D%3F%23%3B%2C");
	/* UTF-8 bytes, upper-case hex */
	az_url_encode("caf\xc3\xa9/\xe2\x82\xac", 1, out, sizeof(out));
	assert_string_equal(out, "caf%C3%A9/%E2%82%AC");
	az_url_encode("", 1, out, sizeof(out));
	assert_string_equal(out, "");
	assert_int_equal(az_url_encode("a b", 1, out, 5), -ENAMETOOLONG);
	assert_int_equal(az_url_encode("a b", 1, out, 6), 5);
}

static void test_sb(void **state)
{
	struct az_sb b;
	char *s;

	(void)state;
	az_sb_init(&b);
	s = az_sb_take(&b);
	assert_string_equal(s, "");
	free(s);
	az_sb_init(&b);
	for (int i = 0; i < 1000; i++)
		az_sb_addf(&b, "%d,", i % 10);
	assert_int_equal(b.len, 2000);
	az_sb_add_enc(&b, "/ x", 1);
	assert_string_equal(b.s + 2000, "/%20x");
	s = az_sb_take(&b);
	assert_non_null(s);
	assert_null(b.s);
	free(s);
}

static void test_backoff_bounds(void **state)
{
	uint64_t seeds[] = {
	    0, 1, 99, 100, 101, 12345, 0xFFFFFFFFFFFFFFFFull, 0x8000000000000000ull};

	(void)state;
	for (int a = 0; a < 40; a++) {
		long ceil = 100;

		for (int i = 0; i < a && ceil < 4000; i++)
			ceil *= 2;
		if (ceil > 4000)
			ceil = 4000;
		for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
			long d = az_backoff_ms(a, 100, 4000, seeds[s]);

			assert_true(d >= 0);
			assert_true(d <= ceil);
		}
		/* the top of the window is reachable */
		assert_int_equal(az_backoff_ms(a, 100, 4000, (uint64_t)ceil), ceil);
	}
	assert_int_equal(az_backoff_ms(0, 100, 4000, 100), 100);
	assert_int_equal(az_backoff_ms(0, 100, 4000, 101), 0);
	assert_int_equal(az_backoff_ms(1, 100, 4000, 200), 200);
	assert_int_equal(az_backoff_ms(5, 100, 4000, 3200), 3200);
	assert_int_equal(az_backoff_ms(6, 100, 4000, 4000), 4000);
	assert_int_equal(az_backoff_ms(6, 100, 4000, 4001), 0);
	assert_int_equal(az_backoff_ms(3, 0, 4000, 7), 0);
	/* full jitter: many draws spread over the window */
	long lo = 1 << 30, hi = -1;
	for (uint64_t r = 0; r < 5000; r++) {
		long d = az_backoff_ms(4, 100, 4000, r * 2654435761u);

		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(lo < 100);
	assert_true(hi > 1500 && hi <= 1600);
}

static void test_retry_after(void **state)
{
	(void)state;
	assert_int_equal(az_retry_after_ms(NULL, 0), -1);
	assert_int_equal(az_retry_after_ms("3", 0), 3000);
	assert_int_equal(az_retry_after_ms(" 0", 0), 0);
	assert_int_equal(az_retry_after_ms("abc", 0), -1);
	assert_int_equal(az_retry_after_ms("5x", 0), -1);
	assert_int_equal(az_retry_after_ms("999999", 0), -1);
	/* Wed, 07 Jun 2023 22:52:45 GMT = 1686178365 */
	assert_int_equal(az_retry_after_ms("Wed, 07 Jun 2023 22:52:45 GMT", 1686178360LL), 5000);
	assert_int_equal(az_retry_after_ms("Wed, 07 Jun 2023 22:52:45 GMT", 1686178400LL), 0);
}

static void test_hdrs(void **state)
{
	struct az_hdrs h = {0};
	const char *lines[] = {"HTTP/1.1 200 OK\r\n",
			       "Content-Length:  11 \r\n",
			       "x-ms-meta-a:a\r\n",
			       "Empty:\r\n",
			       "\r\n",
			       NULL};

	(void)state;
	add_lines(&h, lines);
	assert_int_equal(h.n, 3);
	assert_string_equal(az_hdrs_get(&h, "content-length"), "11");
	assert_string_equal(az_hdrs_get(&h, "X-MS-META-A"), "a");
	assert_string_equal(az_hdrs_get(&h, "empty"), "");
	assert_null(az_hdrs_get(&h, "missing"));
	az_hdrs_clear(&h);
	assert_int_equal(h.n, 0);
	assert_null(az_hdrs_get(&h, "content-length"));
	az_hdrs_release(&h);
}

/* Reply headers of tests/fixtures/get_file_ranged.json. */
static const char *const ranged_lines[] = {
    "Content-Length: 2\r\n",
    "Content-Range: bytes 0-1/10\r\n",
    "ETag: \"0x8DB67A9F9E75329\"\r\n",
    "x-ms-file-attributes: Archive\r\n",
    "x-ms-file-change-time: 2023-06-07T22:53:14.2877993Z\r\n",
    "x-ms-file-creation-time: 2023-06-07T22:53:14.2208379Z\r\n",
    "x-ms-file-id: 11529285414812647424\r\n",
    "x-ms-file-last-write-time: 2023-06-07T22:53:14.2877993Z\r\n",
    "x-ms-file-permission-key: 584053819618422708*11581588750433322810\r\n",
    "x-ms-type: File\r\n",
    NULL,
};

static void test_stat_ranged_get(void **state)
{
	struct az_hdrs h = {0};
	struct az_stat st;

	(void)state;
	add_lines(&h, ranged_lines);
	assert_int_equal(az_stat_from_hdrs(&h, -1, 1, &st), 0);
	assert_int_equal(st.is_dir, 0);
	assert_int_equal(st.size, 10); /* after '/', not the 2 of Content-Length */
	assert_string_equal(st.etag, "\"0x8DB67A9F9E75329\"");
	assert_string_equal(st.perm_key, "584053819618422708*11581588750433322810");
	assert_int_equal(st.attrs, AZ_FATTR_ARCHIVE);
	assert_true(st.file_id == 11529285414812647424ull);
	assert_int_equal(st.mtime.tv_sec, 1686178394);
	assert_int_equal(st.mtime.tv_nsec, 287799300);
	assert_int_equal(st.ctime.tv_nsec, 287799300);
	assert_int_equal(st.btime.tv_nsec, 220837900);
	assert_int_equal(st.atime.tv_sec, st.mtime.tv_sec);
	assert_int_equal(st.has_owner, 0);
	az_hdrs_release(&h);
}

/* HEAD of a file (get_file_properties.json) and of a directory. */
static void test_stat_head(void **state)
{
	const char *file[] = {"Content-Length: 11\r\n", "ETag: \"0x8DB67A9EFEE4D7E\"\r\n",
			      "x-ms-file-attributes: Archive | ReadOnly\r\n",
			      "x-ms-file-last-write-time: 2023-06-07T22:52:57.4913501Z\r\n", NULL};
	const char *dir[] = {"Content-Length: 0\r\n", "x-ms-file-attributes: Directory\r\n",
			     "x-ms-file-id: 13835128424026341376\r\n", NULL};
	struct az_hdrs h = {0};
	struct az_stat st;

	(void)state;
	add_lines(&h, file);
	assert_int_equal(az_stat_from_hdrs(&h, -1, 1, &st), 0);
	assert_int_equal(st.size, 11);
	assert_int_equal(st.attrs, AZ_FATTR_ARCHIVE | AZ_FATTR_READONLY);
	assert_string_equal(st.perm_key, "");
	/* a PUT reply's Content-Length is not the file size */
	assert_int_equal(az_stat_from_hdrs(&h, 0, 0, &st), 0);
	assert_int_equal(st.size, 0);
	az_hdrs_clear(&h);
	add_lines(&h, dir);
	assert_int_equal(az_stat_from_hdrs(&h, -1, 1, &st), 0);
	assert_int_equal(st.is_dir, 1);
	assert_int_equal(st.size, 0);
	assert_true(st.file_id == 13835128424026341376ull);
	az_hdrs_release(&h);
}

/* Put Range reply (put_range.json): only the ETag and the last-write time
 * change; what the caller knew (size, key, attributes, id) stays. */
static void test_stat_update_put_range(void **state)
{
	const char *put[] = {"Content-Length: 0\r\n",
			     "Content-MD5: aOEJ8PQMpyoV4FzCJ4b45g==\r\n",
			     "ETag: \"0x8DB67A9F9E75329\"\r\n",
			     "Last-Modified: Wed, 07 Jun 2023 22:53:14 GMT\r\n",
			     "x-ms-file-last-write-time: 2023-06-07T22:53:14.2877993Z\r\n",
			     NULL};
	const char *bad[] = {"ETag: \"0x1\"\r\n", "x-ms-file-id: nope\r\n", NULL};
	struct az_hdrs h = {0};
	struct az_stat st, before;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.size = 12345;
	st.ctime.tv_sec = 17;
	st.btime.tv_sec = 16;
	st.atime.tv_sec = 15;
	st.attrs = AZ_FATTR_ARCHIVE;
	st.file_id = 99;
	snprintf(st.etag, sizeof(st.etag), "\"old\"");
	snprintf(st.perm_key, sizeof(st.perm_key), "1*2");
	add_lines(&h, put);
	assert_int_equal(az_stat_update_from_hdrs(&h, &st), 0);
	assert_string_equal(st.etag, "\"0x8DB67A9F9E75329\"");
	assert_int_equal(st.mtime.tv_sec, 1686178394);
	assert_int_equal(st.mtime.tv_nsec, 287799300);
	assert_int_equal(st.size, 12345);
	assert_int_equal(st.ctime.tv_sec, 17);
	assert_int_equal(st.btime.tv_sec, 16);
	assert_int_equal(st.atime.tv_sec, 15);
	assert_int_equal(st.attrs, AZ_FATTR_ARCHIVE);
	assert_true(st.file_id == 99);
	assert_string_equal(st.perm_key, "1*2");
	/* a full reply (ranged_lines) replaces every field it carries */
	az_hdrs_clear(&h);
	add_lines(&h, ranged_lines);
	assert_int_equal(az_stat_update_from_hdrs(&h, &st), 0);
	assert_string_equal(st.perm_key, "584053819618422708*11581588750433322810");
	assert_true(st.file_id == 11529285414812647424ull);
	assert_int_equal(st.btime.tv_nsec, 220837900);
	assert_int_equal(st.size, 12345); /* never from the reply */
	/* malformed: refused, st untouched */
	az_hdrs_clear(&h);
	add_lines(&h, bad);
	before = st;
	assert_int_equal(az_stat_update_from_hdrs(&h, &st), -EPROTO);
	assert_memory_equal(&st, &before, sizeof(st));
	az_hdrs_release(&h);
}

static void test_stat_malformed(void **state)
{
	const char *bad_id[] = {"x-ms-file-id: 12ab\r\n", NULL};
	const char *bad_time[] = {"x-ms-file-last-write-time: yesterday\r\n", NULL};
	const char *bad_range[] = {"Content-Range: bytes 0-1/\r\n", NULL};
	const char *bad_len[] = {"Content-Length: -5\r\n", NULL};
	const char *const *cases[] = {bad_id, bad_time, bad_range, bad_len};
	struct az_stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct az_hdrs h = {0};

		add_lines(&h, cases[i]);
		assert_int_equal(az_stat_from_hdrs(&h, 0, 1, &st), -EPROTO);
		az_hdrs_release(&h);
	}
}

static void test_perm_json(void **state)
{
	const char *sddl = "O:S-1-5-88-1-1000G:S-1-5-88-2-100D:P(A;;FA;;;S-1-5-88-1-1000)";
	char *json, *back = NULL;

	(void)state;
	json = az_perm_json_build(sddl);
	assert_non_null(json);
	assert_string_equal(json, "{\"permission\": \"O:S-1-5-88-1-1000G:S-1-5-88-2-100D:P(A;;FA;;"
				  ";S-1-5-88-1-1000)\", \"format\": \"sddl\"}");
	assert_int_equal(az_json_get_string(json, strlen(json), "permission", &back), 0);
	assert_string_equal(back, sddl);
	free(back);
	free(json);
	/* escapes survive a round trip */
	json = az_perm_json_build("a\"b\\c\n\x01");
	assert_string_equal(json,
			    "{\"permission\": \"a\\\"b\\\\c\\n\\u0001\", \"format\": \"sddl\"}");
	assert_int_equal(az_json_get_string(json, strlen(json), "permission", &back), 0);
	assert_string_equal(back, "a\"b\\c\n\x01");
	free(back);
	free(json);
}

static void test_json_parse(void **state)
{
	const char *ok = " {\"x\": [1, {\"permission\": \"no\"}, true, null, -1.5e3],"
			 " \"permission\" : \"D:\\u00e9\\ud83d\\ude00\\/\\t\", \"more\": {}}";
	const char *bad[] = {
	    "",
	    "[]",
	    "{",
	    "{\"permission\": \"abc}",
	    "{\"permission\": \"a\\q\"}",
	    "{\"permission\": \"\\ud800\"}",
	    "{\"permission\": \"\\udc00x\"}",
	    "{\"permission\": \"\\u0000\"}",
	    "{\"permission\" \"a\"}",
	    "{\"permission\": \"a\",}",
	    "{\"permission\": \"a\" \"b\": 1}",
	    "{\"permission\": \"tab\tinside\"}",
	    "{\"x\": [1,]}",
	};
	char *v = NULL;

	(void)state;
	assert_int_equal(az_json_get_string(ok, strlen(ok), "permission", &v), 0);
	assert_string_equal(v, "D:\xc3\xa9\xf0\x9f\x98\x80/\t");
	free(v);
	assert_int_equal(az_json_get_string("{}", 2, "permission", &v), -ENOENT);
	assert_null(v);
	assert_int_equal(az_json_get_string("{\"permission\": 5}", 17, "permission", &v), -ENOENT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = az_json_get_string(bad[i], strlen(bad[i]), "permission", &v);

		if (rc != -EPROTO)
			fail_msg("case %zu (%s): %d", i, bad[i], rc);
		assert_null(v);
	}
	/* deep nesting is refused, not recursed into forever */
	char deep[200];
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "{\"a\":", 5);
	assert_int_equal(az_json_get_string(deep, sizeof(deep), "permission", &v), -EPROTO);
}

static void test_lease_id(void **state)
{
	char a[AZ_LEASE_ID_MAX], b[AZ_LEASE_ID_MAX];

	(void)state;
	az_lease_id_new(a);
	az_lease_id_new(b);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '4');
	assert_true(strchr("89ab", a[19]) != NULL);
	assert_string_not_equal(a, b);
}

static void test_redact_url(void **state)
{
	const char *url = "https://acct.file.core.windows.net/s/f?comp=range&sv=2022-11-02&ss=f"
			  "&sig=AbC%2Bdef%3D&se=2030-01-01";
	char out[512];

	(void)state;
	az_log_redact(url, out, sizeof(out));
	assert_null(strstr(out, "AbC"));
	assert_non_null(strstr(out, "sig=REDACTED&se=2030-01-01"));
	assert_non_null(strstr(out, "comp=range&sv=2022-11-02"));
	az_log_redact("Authorization: SharedKey devstoreaccount1:c2VjcmV0\r\nx: y", out,
		      sizeof(out));
	assert_null(strstr(out, "c2VjcmV0"));
	az_log_redact("AccountName=a;AccountKey=c2VjcmV0==;FileEndpoint=x", out, sizeof(out));
	assert_null(strstr(out, "c2VjcmV0"));
	assert_non_null(strstr(out, "FileEndpoint=x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    /* http_util.c */
	    cmocka_unit_test(test_url_encode),
	    cmocka_unit_test(test_sb),
	    cmocka_unit_test(test_backoff_bounds),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_hdrs),
	    /* client_parse.c */
	    cmocka_unit_test(test_stat_ranged_get),
	    cmocka_unit_test(test_stat_head),
	    cmocka_unit_test(test_stat_update_put_range),
	    cmocka_unit_test(test_stat_malformed),
	    cmocka_unit_test(test_perm_json),
	    cmocka_unit_test(test_json_parse),
	    cmocka_unit_test(test_lease_id),
	    /* log.c */
	    cmocka_unit_test(test_redact_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
