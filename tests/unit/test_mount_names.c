/* test_mount_names.c: fs/names.c - the share's naming rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "azsharefs/log.h"
#include "names.h"

static char why[160];

static int name(const char *n)
{
	why[0] = '\0';
	return nm_check_name(n, why, sizeof(why));
}

static void test_good_names(void **state)
{
	const char *good[] = {
	    "a",
	    "notebook.ipynb",
	    ".hidden",
	    ".~notebook.ipynb",
	    "with space",
	    "x-y_z+=;,[]",
	    "UPPER",
	    "caf\xc3\xa9",
	    "\xe6\x97\xa5\xe6\x9c\xac",
	    "\xf0\x9f\x98\x80",
	    "con.txt",
	    "COM10",
	    "LPT0",
	    "a.b.c",
	    "...a",
	    "#hash%pct&amp'quote",
	    "\xef\xbf\xbe",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (name(good[i]) != 0)
			fail_msg("'%s' refused: %s", good[i], why);
}

static void test_forbidden_characters(void **state)
{
	const char *bad = "\"\\/:|<>*?";
	char n[8];

	(void)state;
	for (const char *p = bad; *p; p++) {
		n[0] = 'a';
		n[1] = *p;
		n[2] = 'b';
		n[3] = '\0';
		assert_int_equal(name(n), -EINVAL);
		assert_non_null(strstr(why, "not allowed"));
	}
	for (int c = 1; c < 0x20; c++) {
		n[0] = 'a';
		n[1] = (char)c;
		n[2] = '\0';
		assert_int_equal(name(n), -EINVAL);
		assert_non_null(strstr(why, "control"));
	}
	assert_int_equal(name("a\x7f"), 0); /* DEL is not in the documented range */
	assert_int_equal(name(""), -EINVAL);
	assert_int_equal(name("."), -EINVAL);
	assert_int_equal(name(".."), -EINVAL);
}

static void test_lengths(void **state)
{
	char n[1200];

	(void)state;
	memset(n, 'x', 255);
	n[255] = '\0';
	assert_int_equal(name(n), 0);
	n[255] = 'x';
	n[256] = '\0';
	assert_int_equal(name(n), -ENAMETOOLONG);
	assert_non_null(strstr(why, "255"));

	/* 255 two-byte characters are 510 bytes but 255 characters: fine */
	for (int i = 0; i < 255; i++)
		memcpy(n + 2 * i, "\xc3\xa9", 2);
	n[510] = '\0';
	assert_int_equal(name(n), 0);
	memcpy(n + 510, "\xc3\xa9", 3);
	assert_int_equal(name(n), -ENAMETOOLONG);

	/* characters beyond U+FFFF count twice (UTF-16) */
	for (int i = 0; i < 127; i++)
		memcpy(n + 4 * i, "\xf0\x9f\x98\x80", 4);
	n[508] = 'x';
	n[509] = '\0';
	assert_int_equal(name(n), 0); /* 254 + 1 */
	memcpy(n + 508, "\xf0\x9f\x98\x80", 5);
	assert_int_equal(name(n), -ENAMETOOLONG); /* 256 */
}

static void test_invalid_utf8(void **state)
{
	const char *bad[] = {
	    "\xff", "a\xc0\xaf", "\xed\xa0\x80",	 "\xe2\x82", "\xf4\x90\x80\x80",
	    "\x80", "\xc3",	 "\xf8\x88\x80\x80\x80",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(name(bad[i]), -EINVAL);
		assert_non_null(strstr(why, "UTF-8"));
	}
}

static void test_reserved_and_trailing(void **state)
{
	const char *res[] = {"CON",  "con",  "Prn",  "aux",  "NUL",
			     "COM1", "com9", "LPT1", "lpt9", "CLOCK$"};

	(void)state;
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		assert_int_equal(name(res[i]), -EINVAL);
		assert_non_null(strstr(why, "reserved"));
	}
	assert_int_equal(name("file."), -EINVAL);
	assert_non_null(strstr(why, "'.'"));
	assert_int_equal(name("..."), -EINVAL);
	nm_set_allow_trailing_dot(1);
	assert_int_equal(name("file."), 0);
	assert_int_equal(name("..."), 0);
	nm_set_allow_trailing_dot(0);
	assert_int_equal(name("file."), -EINVAL);
}

static void test_paths(void **state)
{
	static char p[8192];
	size_t o = 0;

	(void)state;
	assert_int_equal(nm_check_path("a/b/c.txt"), 0);
	assert_int_equal(nm_check_path("notebooks/alice/Untitled.ipynb"), 0);
	assert_int_equal(nm_check_path("a/b:c/d"), -EINVAL);
	assert_int_equal(nm_check_path("a//b"), -EINVAL);
	assert_int_equal(nm_check_path("a/con"), -EINVAL);

	/* 250 directories deep plus a file is fine, one more is not */
	for (int i = 0; i < 250; i++) {
		p[o++] = 'd';
		p[o++] = '/';
	}
	p[o++] = 'f';
	p[o] = '\0';
	assert_int_equal(nm_check_path(p), 0);
	memmove(p + 2, p, o + 1);
	p[0] = 'd';
	p[1] = '/';
	assert_int_equal(nm_check_path(p), -ENAMETOOLONG);

	/* 2048 characters in all is fine, 2049 is not */
	memset(p, 'a', 2048);
	for (int i = 200; i < 2048; i += 200)
		p[i] = '/';
	p[2048] = '\0';
	assert_int_equal(nm_check_path(p), 0);
	p[2048] = 'a';
	p[2049] = '\0';
	assert_int_equal(nm_check_path(p), -ENAMETOOLONG);

	/* one long component inside a path */
	memset(p, 'b', 300);
	memcpy(p, "x/", 2);
	p[300] = '\0';
	assert_int_equal(nm_check_path(p), -ENAMETOOLONG);
	memset(p, 'b', 1500);
	memcpy(p, "x/", 2);
	p[1500] = '\0';
	assert_int_equal(nm_check_path(p), -ENAMETOOLONG);
}

static void test_lookup_lengths(void **state)
{
	static char p[4096];

	(void)state;
	assert_int_equal(nm_check_lookup(""), 0);
	assert_int_equal(nm_check_lookup("a/b:c/con."), 0); /* only lengths matter here */
	memset(p, 'x', 255);
	p[255] = '\0';
	assert_int_equal(nm_check_lookup(p), 0);
	p[255] = 'x';
	p[256] = '\0';
	assert_int_equal(nm_check_lookup(p), -ENAMETOOLONG);
	memset(p, 'x', 2100);
	for (int i = 100; i < 2100; i += 100)
		p[i] = '/';
	p[2100] = '\0';
	assert_int_equal(nm_check_lookup(p), -ENAMETOOLONG);
}

static void test_share_names(void **state)
{
	const char *good[] = {"abc", "pool-data", "a1-b2-c3", "123",
			      "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0"};
	const char *bad[] = {
	    "ab",  "Data", "a_b",
	    "-ab", "ab-",  "a--b",
	    "a b", "",	   "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01"};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (nm_check_share(good[i], why, sizeof(why)) != 0)
			fail_msg("share '%s' refused: %s", good[i], why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (nm_check_share(bad[i], why, sizeof(why)) != -EINVAL)
			fail_msg("share '%s' accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_names),
	    cmocka_unit_test(test_forbidden_characters),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_reserved_and_trailing),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_lookup_lengths),
	    cmocka_unit_test(test_share_names),
	};

	az_log_init("test", 1, AZ_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
