/* test_client_fmt.c: the value formats shared by reply headers and
 * listings (fs/client_fmt.c): ISO 8601 and RFC 1123 times, file attributes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "azsharefs/stat.h"
#include "client_fmt.h"

static void test_time_iso(void **state)
{
	struct timespec t;

	assert_int_equal(az_time_parse_iso("2023-06-07T22:52:45.1234567Z", &t), 0);
	assert_int_equal(t.tv_sec, 1686178365);
	assert_int_equal(t.tv_nsec, 123456700);
	assert_int_equal(az_time_parse_iso("2023-06-07T22:52:45Z", &t), 0);
	assert_int_equal(t.tv_sec, 1686178365);
	assert_int_equal(t.tv_nsec, 0);
	assert_int_equal(az_time_parse_iso("2023-06-07T22:52:45.5Z", &t), 0);
	assert_int_equal(t.tv_nsec, 500000000);
	assert_int_equal(az_time_parse_iso("2024-02-29T23:59:59.9999999Z", &t), 0);
	assert_int_equal(t.tv_sec, 1709251199);
	assert_int_equal(t.tv_nsec, 999999900);
	assert_int_equal(az_time_parse_iso("1601-01-01T00:00:00.0000000Z", &t), 0);
	assert_int_equal(t.tv_sec, -11644473600LL);

	assert_int_equal(az_time_parse_iso("2023-06-07T22:52:45.1234567", &t), -EINVAL);
	assert_int_equal(az_time_parse_iso("2023-06-07 22:52:45Z", &t), -EINVAL);
	assert_int_equal(az_time_parse_iso("2023-13-07T22:52:45Z", &t), -EINVAL);
	assert_int_equal(az_time_parse_iso("2023-02-29T22:52:45Z", &t), -EINVAL);
	assert_int_equal(az_time_parse_iso("2023-06-07T24:00:00Z", &t), -EINVAL);
	assert_int_equal(az_time_parse_iso("2023-06-07T22:52:45.Z", &t), -EINVAL);
	assert_int_equal(az_time_parse_iso("2023-06-07T22:52:45ZZ", &t), -EINVAL);
	assert_int_equal(az_time_parse_iso("2023-6-07T22:52:45Z", &t), -EINVAL);
	assert_int_equal(az_time_parse_iso("", &t), -EINVAL);
	assert_int_equal(az_time_parse_iso(NULL, &t), -EINVAL);
}

static void test_time_rfc1123(void **state)
{
	struct timespec t;

	assert_int_equal(az_time_parse_rfc1123("Wed, 07 Jun 2023 22:52:45 GMT", &t), 0);
	assert_int_equal(t.tv_sec, 1686178365);
	assert_int_equal(t.tv_nsec, 0);
	assert_int_equal(az_time_parse_rfc1123("Fri, 19 Aug 2022 05:39:04 GMT", &t), 0);
	assert_int_equal(t.tv_sec, 1660887544);
	assert_int_equal(az_time_parse_rfc1123("Sun, 22 Nov 2026 15:21:05 GMT", &t), 0);
	assert_int_equal(t.tv_sec, 1795360865);

	assert_int_equal(az_time_parse_rfc1123("Wed, 07 Jun 2023 22:52:45 UTC", &t), -EINVAL);
	assert_int_equal(az_time_parse_rfc1123("Wed, 07 Jnu 2023 22:52:45 GMT", &t), -EINVAL);
	assert_int_equal(az_time_parse_rfc1123("07 Jun 2023 22:52:45 GMT", &t), -EINVAL);
	assert_int_equal(az_time_parse_rfc1123("Wed, 31 Jun 2023 22:52:45 GMT", &t), -EINVAL);
	assert_int_equal(az_time_parse_rfc1123("Wed, 07 Jun 2023 22:52:45 GMT ", &t), -EINVAL);
	assert_int_equal(az_time_parse_rfc1123("Wed, 07 Jun 2023 22:52 GMT", &t), -EINVAL);
}

static void test_time_format(void **state)
{
	struct timespec t = {1686178365, 123456789}, back;
	char out[40];

	az_time_format_iso(&t, out);
	assert_string_equal(out, "2023-06-07T22:52:45.1234567Z");
	assert_int_equal(az_time_parse_iso(out, &back), 0);
	assert_int_equal(back.tv_sec, t.tv_sec);
	assert_int_equal(back.tv_nsec, 123456700); /* 100 ns resolution */

	t.tv_sec = 0;
	t.tv_nsec = 0;
	az_time_format_iso(&t, out);
	assert_string_equal(out, "1970-01-01T00:00:00.0000000Z");

	t.tv_sec = 1686178366;
	t.tv_nsec = -100; /* normalized: one tick before the second */
	az_time_format_iso(&t, out);
	assert_string_equal(out, "2023-06-07T22:52:45.9999999Z");

	az_time_format_rfc1123(1686178365, out);
	assert_string_equal(out, "Wed, 07 Jun 2023 22:52:45 GMT");
	assert_int_equal(az_time_parse_rfc1123(out, &back), 0);
	assert_int_equal(back.tv_sec, 1686178365);
	az_time_format_rfc1123(0, out);
	assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
}

static void test_attrs(void **state)
{
	char out[200];

	(void)state;
	assert_int_equal(az_attrs_parse("None"), 0);
	assert_int_equal(az_attrs_parse(NULL), 0);
	assert_int_equal(az_attrs_parse(""), 0);
	assert_int_equal(az_attrs_parse("Directory"), AZ_FATTR_DIRECTORY);
	assert_int_equal(az_attrs_parse("ReadOnly | Hidden|System  |Archive"),
			 AZ_FATTR_READONLY | AZ_FATTR_HIDDEN | AZ_FATTR_SYSTEM | AZ_FATTR_ARCHIVE);
	assert_int_equal(az_attrs_parse("NotContentIndexed | Bogus | NoScrubData"),
			 AZ_FATTR_NOT_CONTENT_INDEXED | AZ_FATTR_NO_SCRUB_DATA);
	assert_int_equal(az_attrs_parse("ReadOnlyX"), 0);
	assert_int_equal(az_attrs_format(0, out, sizeof(out)), 0);
	assert_string_equal(out, "None");
	assert_int_equal(az_attrs_format(AZ_FATTR_READONLY | AZ_FATTR_ARCHIVE, out, sizeof(out)),
			 0);
	assert_string_equal(out, "ReadOnly | Archive");
	assert_int_equal(az_attrs_parse(out), AZ_FATTR_READONLY | AZ_FATTR_ARCHIVE);
	assert_int_equal(az_attrs_format(AZ_FATTR_READONLY | AZ_FATTR_ARCHIVE, out, 10),
			 -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_iso),
	    cmocka_unit_test(test_time_rfc1123),
	    cmocka_unit_test(test_time_format),
	    cmocka_unit_test(test_attrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
