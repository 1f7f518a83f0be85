/* test_auth.c: Shared Key string-to-sign and signature (fs/auth.c).
 *
 * The two documented vectors below were derived outside this code: the
 * strings-to-sign were written by hand from "Authorize with Shared Key", and
 * their signatures computed with the development key by both
 *   python3 -c 'import hmac,hashlib,base64; k=base64.b64decode(KEY);
 *               print(base64.b64encode(hmac.new(k, S.encode(),
 *                                      hashlib.sha256).digest()).decode())'
 * and
 *   openssl dgst -sha256 -mac HMAC -macopt hexkey:$(python3 -c ...hex()) \
 *       -binary s.txt | base64
 * which agreed. The HMAC check uses RFC 4231 test case 2 (key "Jefe").
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "auth.h"
#include "conn.h"
#include "client_fmt.h"

static struct az_conn conn_path; /* devstoreaccount1 at http://127.0.0.1:10004/devstoreaccount1 */
static struct az_conn conn_host; /* myacct at https://myacct.file.core.windows.net */

static int setup(void **state)
{
	static const char dev[] = "UseDevelopmentStorage=true";
	char err[128];

	if (az_conn_parse(&conn_path, dev, err, sizeof(err)))
		return -1;
	if (az_conn_parse(&conn_host, "AccountName=myacct;AccountKey=" AZ_DEV_KEY, err,
			  sizeof(err)))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	az_conn_release(&conn_path);
	az_conn_release(&conn_host);
	return 0;
}

#define DATE "Sun, 22 Nov 2026 15:21:05 GMT"

/* Vector 1: Put Range, path-style (account twice in the resource), an
 * encoded path, an x-ms-meta header with odd case and padding. */
static const struct az_hdr v1_hdrs[] = {
    {"Content-Length", "11"},
    {"Content-Type", "application/octet-stream"},
    {"x-ms-write", "update"},
    {"x-ms-date", DATE},
    {"X-MS-Meta-Foo", "  bar  "},
    {"x-ms-version", "2026-02-06"},
    {"x-ms-range", "bytes=0-10"},
    {"User-Agent", "azsharefs"}, /* neither standard nor x-ms-: not signed */
};
static const char v1_sts[] = "PUT\n\n\n11\n\napplication/octet-stream\n\n\n\n\n\n\n"
			     "x-ms-date:" DATE "\n"
			     "x-ms-meta-foo:bar\n"
			     "x-ms-range:bytes=0-10\n"
			     "x-ms-version:2026-02-06\n"
			     "x-ms-write:update\n"
			     "/devstoreaccount1/devstoreaccount1/myshare/dir/a%20b.txt\n"
			     "comp:range";
static const char v1_sig[] = "Qk0doySUtcfvrem4y60vTY1iOFafb9MoZU6BOEgpFqM=";

/* Vector 2: a listing, host-style, Content-Length 0 (signed as empty), a
 * Range header, query parameters to sort and to URL-decode. */
static const struct az_hdr v2_hdrs[] = {
    {"x-ms-version", "2026-02-06"},
    {"Range", "bytes=0-99"},
    {"Content-Length", "0"},
    {"x-ms-date", DATE},
};
static const char v2_query[] =
    "restype=directory&comp=list&include=Timestamps,ETag&maxresults=2&marker=1%218%21ZmlsZTI-";
static const char v2_sts[] = "GET\n\n\n\n\n\n\n\n\n\n\nbytes=0-99\n"
			     "x-ms-date:" DATE "\n"
			     "x-ms-version:2026-02-06\n"
			     "/myacct/share/dir\n"
			     "comp:list\n"
			     "include:Timestamps,ETag\n"
			     "marker:1!8!ZmlsZTI-\n"
			     "maxresults:2\n"
			     "restype:directory";
static const char v2_sig[] = "IUtS7lTltceKOEi203oU5l2Q0v/2bnKUu/p/i9IB6IA=";

#define NH(a) (sizeof(a) / sizeof(a[0]))

static void test_vector_path_style(void **state)
{
	char *sts =
	    az_auth_string_to_sign(&conn_path, "PUT", "/devstoreaccount1/myshare/dir/a%20b.txt",
				   "comp=range", v1_hdrs, NH(v1_hdrs));
	char out[128];

	assert_non_null(sts);
	assert_string_equal(sts, v1_sts);
	free(sts);
	assert_int_equal(az_auth_sign(&conn_path, "PUT", "/devstoreaccount1/myshare/dir/a%20b.txt",
				      "comp=range", v1_hdrs, NH(v1_hdrs), out, sizeof(out)),
			 0);
	assert_string_equal(
	    out, "SharedKey devstoreaccount1:Qk0doySUtcfvrem4y60vTY1iOFafb9MoZU6BOEgpFqM=");
	assert_non_null(strstr(out, v1_sig));
}

static void test_vector_host_style(void **state)
{
	char *sts =
	    az_auth_string_to_sign(&conn_host, "GET", "/share/dir", v2_query, v2_hdrs, NH(v2_hdrs));
	char out[128];

	assert_non_null(sts);
	assert_string_equal(sts, v2_sts);
	free(sts);
	assert_int_equal(az_auth_sign(&conn_host, "GET", "/share/dir", v2_query, v2_hdrs,
				      NH(v2_hdrs), out, sizeof(out)),
			 0);
	assert_string_equal(out, "SharedKey myacct:IUtS7lTltceKOEi203oU5l2Q0v/2bnKUu/p/i9IB6IA=");
	assert_non_null(strstr(out, v2_sig));
}

/* Content-Length: "0" and absent sign as an empty line, others as is. */
static void test_content_length(void **state)
{
	const struct az_hdr zero[] = {{"content-length", "0"}};
	const struct az_hdr five[] = {{"CONTENT-LENGTH", " 5 "}};
	char *a = az_auth_string_to_sign(&conn_host, "PUT", "/s", NULL, zero, 1);
	char *b = az_auth_string_to_sign(&conn_host, "PUT", "/s", NULL, NULL, 0);
	char *c = az_auth_string_to_sign(&conn_host, "PUT", "/s", NULL, five, 1);

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_string_equal(a, "PUT\n\n\n\n\n\n\n\n\n\n\n\n/myacct/s");
	assert_string_equal(a, b);
	assert_string_equal(c, "PUT\n\n\n5\n\n\n\n\n\n\n\n\n/myacct/s");
	free(a);
	free(b);
	free(c);
}

/* All twelve standard headers land on their own line, in order. */
static void test_standard_header_order(void **state)
{
	const struct az_hdr h[] = {
	    {"Range", "r"},
	    {"If-Unmodified-Since", "ius"},
	    {"If-None-Match", "inm"},
	    {"If-Match", "im"},
	    {"If-Modified-Since", "ims"},
	    {"Date", "d"},
	    {"Content-Type", "ct"},
	    {"Content-MD5", "md5"},
	    {"Content-Length", "7"},
	    {"Content-Language", "cl"},
	    {"Content-Encoding", "ce"},
	};
	char *s = az_auth_string_to_sign(&conn_host, "DELETE", "/x", "", h, NH(h));

	assert_non_null(s);
	assert_string_equal(s, "DELETE\nce\ncl\n7\nmd5\nct\nd\nims\nim\ninm\nius\nr\n/myacct/x");
	free(s);
}

static void test_canonical_headers(void **state)
{
	const struct az_hdr h[] = {
	    {"x-ms-meta-b", "2"},	 {"x-ms-meta-fold", " line one\r\n   line two "},
	    {"X-Ms-Meta-A", "\t1\t"},	 {"x-ms-meta-dup", "first"},
	    {"x-ms-meta-dup", "second"}, {"x-ms-empty", ""},
	    {"x-ms-null", NULL},	 {"Accept", "*/*"},
	};
	char *s = az_auth_string_to_sign(&conn_host, "GET", "/x", NULL, h, NH(h));

	assert_non_null(s);
	assert_string_equal(s, "GET\n\n\n\n\n\n\n\n\n\n\n\n"
			       "x-ms-empty:\n"
			       "x-ms-meta-a:1\n"
			       "x-ms-meta-b:2\n"
			       "x-ms-meta-dup:first,second\n"
			       "x-ms-meta-fold:line one line two\n"
			       "x-ms-null:\n"
			       "/myacct/x");
	free(s);
}

static void test_canonical_query(void **state)
{
	char *s =
	    az_auth_string_to_sign(&conn_host, "GET", "/share",
				   "b=x%20y&A=2&a=1&c&&prefix=a%2Bb+c&Comp=List&d=%zz", NULL, 0);

	assert_non_null(s);
	assert_string_equal(s, "GET\n\n\n\n\n\n\n\n\n\n\n\n/myacct/share"
			       "\na:1,2"	  /* names lowercased, values sorted */
			       "\nb:x y"	  /* decoded */
			       "\nc:"		  /* no value */
			       "\ncomp:List"	  /* values keep their case */
			       "\nd:%zz"	  /* a bad escape stays literal */
			       "\nprefix:a+b c"); /* %2B is '+', a bare '+' a space */
	free(s);
}

/* The service root (List Shares): the resource is "/account/". */
static void test_root_path(void **state)
{
	char *a = az_auth_string_to_sign(&conn_host, "GET", "/", "comp=list", NULL, 0);
	char *b = az_auth_string_to_sign(&conn_host, "GET", "", "comp=list", NULL, 0);
	char *c = az_auth_string_to_sign(&conn_host, "GET", NULL, "comp=list", NULL, 0);

	assert_string_equal(a, "GET\n\n\n\n\n\n\n\n\n\n\n\n/myacct/\ncomp:list");
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	free(a);
	free(b);
	free(c);
}

static void test_sign_errors(void **state)
{
	struct az_conn sas;
	char err[128], out[128];

	assert_int_equal(az_conn_parse(&sas, "AccountName=acct;SharedAccessSignature=sv=1&sig=x",
				       err, sizeof(err)),
			 0);
	assert_int_equal(az_auth_sign(&sas, "GET", "/s", NULL, NULL, 0, out, sizeof(out)), -EINVAL);
	az_conn_release(&sas);
	/* "SharedKey myacct:" + 44 characters + NUL needs 62 bytes */
	assert_int_equal(az_auth_sign(&conn_host, "GET", "/s", NULL, NULL, 0, out, 61), -ERANGE);
	assert_int_equal(az_auth_sign(&conn_host, "GET", "/s", NULL, NULL, 0, out, 62), 0);
	assert_int_equal(strlen(out), 61);
	assert_int_equal(az_auth_sign(&conn_host, NULL, "/s", NULL, NULL, 0, out, sizeof(out)),
			 -EINVAL);
	assert_null(az_auth_string_to_sign(&conn_host, NULL, "/s", NULL, NULL, 0));
}

static void test_hmac(void **state)
{
	char out[64];

	assert_int_equal(az_auth_hmac_b64((const unsigned char *)"Jefe", 4,
					  "what do ya want for nothing?", out, sizeof(out)),
			 0);
	assert_string_equal(out, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
	assert_int_equal(
	    az_auth_hmac_b64(conn_path.key_raw, conn_path.key_raw_len, v1_sts, out, sizeof(out)),
	    0);
	assert_string_equal(out, v1_sig);
	assert_int_equal(az_auth_hmac_b64((const unsigned char *)"Jefe", 4, "x", out, 44), -ERANGE);
	assert_int_equal(az_auth_hmac_b64((const unsigned char *)"Jefe", 4, "x", out, 45), 0);
	assert_int_equal(az_auth_hmac_b64(NULL, 0, "x", out, sizeof(out)), -EINVAL);
}

static void test_date(void **state)
{
	char d[64];
	struct timespec t;
	time_t now = time(NULL);

	az_auth_date(d);
	assert_int_equal(strlen(d), 29);
	assert_int_equal(az_time_parse_rfc1123(d, &t), 0);
	assert_true(t.tv_sec >= now - 5 && t.tv_sec <= now + 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vector_path_style),
	    cmocka_unit_test(test_vector_host_style),
	    cmocka_unit_test(test_content_length),
	    cmocka_unit_test(test_standard_header_order),
	    cmocka_unit_test(test_canonical_headers),
	    cmocka_unit_test(test_canonical_query),
	    cmocka_unit_test(test_root_path),
	    cmocka_unit_test(test_sign_errors),
	    cmocka_unit_test(test_hmac),
	    cmocka_unit_test(test_date),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
