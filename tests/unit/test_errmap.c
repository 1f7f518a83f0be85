/* test_errmap.c: the (status, x-ms-error-code) -> errno table, row by row.
 *
 * The expectations below are written out independently of fs/errmap.c (from
 * the task's list and the service's documented codes and statuses); every
 * row of the table must appear here with the same status and errno, and the
 * table must hold every row listed here, so a change to either is noticed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "azsharefs/errmap.h"

struct expect {
	long status;
	const char *code;
	int err; /* negative */
};

static const struct expect expected[] = {
    {404, "ResourceNotFound", -ENOENT},
    {404, "ParentNotFound", -ENOENT},
    {404, "ShareNotFound", -ENOENT},
    {409, "ResourceAlreadyExists", -EEXIST},
    {409, "ShareAlreadyExists", -EEXIST},
    {409, "ResourceTypeMismatch", -EEXIST},
    {409, "DirectoryNotEmpty", -ENOTEMPTY},
    {409, "ReadOnlyAttribute", -EPERM},
    {412, "LeaseIdMissing", -EBUSY},
    {412, "LeaseIdMismatchWithFileOperation", -EBUSY},
    {412, "LeaseNotPresentWithFileOperation", -EBUSY},
    {412, "LeaseLost", -EBUSY},
    {409, "LeaseAlreadyPresent", -EBUSY},
    {409, "LeaseAlreadyBroken", -EBUSY},
    {409, "LeaseIdMismatchWithLeaseOperation", -EBUSY},
    {409, "LeaseNotPresentWithLeaseOperation", -EBUSY},
    {409, "LeaseIsBreakingAndCannotBeAcquired", -EBUSY},
    {409, "LeaseIsBreakingAndCannotBeChanged", -EBUSY},
    {409, "LeaseIsBrokenAndCannotBeRenewed", -EBUSY},
    {409, "SharingViolation", -EBUSY},
    {409, "FileLockConflict", -EBUSY},
    {409, "FileOpenBySmbClient", -EBUSY},
    {409, "CannotDeleteFileOrDirectory", -EBUSY},
    {409, "DeletePending", -EBUSY},
    {409, "ShareBeingDeleted", -EBUSY},
    {409, "ShareHasSnapshots", -EBUSY},
    {409, "ShareSnapshotInProgress", -EBUSY},
    {500, "ClientCacheFlushDelay", -EAGAIN},
    {400, "ShareSnapshotOperationNotSupported", -EROFS},
    {403, "AuthenticationFailed", -EACCES},
    {403, "AuthorizationFailure", -EACCES},
    {403, "AuthorizationPermissionMismatch", -EACCES},
    {403, "AuthorizationProtocolMismatch", -EACCES},
    {403, "AuthorizationResourceTypeMismatch", -EACCES},
    {403, "AuthorizationServiceMismatch", -EACCES},
    {403, "AuthorizationSourceIPMismatch", -EACCES},
    {403, "InsufficientAccountPermissions", -EACCES},
    {403, "AccountIsDisabled", -EACCES},
    {403, "ShareDisabled", -EACCES},
    {400, "InvalidAuthenticationInfo", -EACCES},
    {401, "NoAuthenticationInformation", -EACCES},
    {400, "InvalidResourceName", -EINVAL},
    {400, "InvalidFileOrDirectoryPathName", -ENAMETOOLONG},
    {416, "InvalidRange", -EINVAL},
    {400, "OutOfRangeInput", -EINVAL},
    {400, "OutOfRangeQueryParameterValue", -EINVAL},
    {400, "InvalidHeaderValue", -EINVAL},
    {400, "InvalidQueryParameterValue", -EINVAL},
    {400, "InvalidInput", -EINVAL},
    {400, "InvalidUri", -EINVAL},
    {400, "InvalidMarker", -EINVAL},
    {400, "InvalidMetadata", -EINVAL},
    {400, "EmptyMetadataKey", -EINVAL},
    {400, "MetadataTooLarge", -E2BIG},
    {400, "InvalidMd5", -EINVAL},
    {400, "InvalidXmlDocument", -EINVAL},
    {400, "InvalidXmlNodeValue", -EINVAL},
    {400, "FileInvalidPermission", -EINVAL},
    {400, "FileInvalidPermissionKey", -EINVAL},
    {400, "MissingRequiredHeader", -EINVAL},
    {400, "MissingRequiredQueryParameter", -EINVAL},
    {400, "MissingRequiredXmlNode", -EINVAL},
    {411, "MissingContentLengthHeader", -EINVAL},
    {400, "ConditionHeadersNotSupported", -EINVAL},
    {400, "MultipleConditionHeadersNotSupported", -EINVAL},
    {400, "RequestUrlFailedToParse", -EINVAL},
    {400, "InvalidHttpVerb", -EINVAL},
    {400, "UnsupportedHeader", -EINVAL},
    {400, "UnsupportedQueryParameter", -EINVAL},
    {400, "UnsupportedXmlNode", -EINVAL},
    {405, "UnsupportedHttpVerb", -EOPNOTSUPP},
    {400, "UnsupportedRestVersion", -EOPNOTSUPP},
    {412, "ConditionNotMet", -ESTALE},
    {304, "ConditionNotMet", -ESTALE},
    {413, "RequestBodyTooLarge", -EFBIG},
    {403, "ShareSizeLimitReached", -ENOSPC},
    {400, "Md5Mismatch", -EIO},
    {503, "ServerBusy", -EAGAIN},
    {500, "OperationTimedOut", -ETIMEDOUT},
    {500, "InternalError", -EIO},
};

#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

static const struct expect *find_expected(long status, const char *code)
{
	size_t i;

	for (i = 0; i < N_EXPECTED; i++) {
		if (expected[i].status == status && strcmp(expected[i].code, code) == 0)
			return &expected[i];
	}
	return NULL;
}

/* Every table row is expected, with its status and errno, and maps so. */
static void test_every_table_row(void **state)
{
	size_t i, j;

	assert_int_equal(az_errmap_table_len, N_EXPECTED);
	for (i = 0; i < az_errmap_table_len; i++) {
		const struct az_errmap_row *r = &az_errmap_table[i];
		const struct expect *e = find_expected(r->status, r->code);

		if (!e)
			fail_msg("table row %ld %s is not expected", r->status, r->code);
		assert_true(r->err > 0);
		assert_int_equal(-r->err, e->err);
		assert_int_equal(az_errmap(r->status, r->code), e->err);
		for (j = i + 1; j < az_errmap_table_len; j++) {
			const struct az_errmap_row *o = &az_errmap_table[j];

			if (o->status == r->status && strcmp(o->code, r->code) == 0)
				fail_msg("duplicate row %ld %s", r->status, r->code);
		}
	}
}

/* Every expected row maps as expected (whatever the table holds). */
static void test_every_expected_row(void **state)
{
	size_t i;

	for (i = 0; i < N_EXPECTED; i++) {
		const struct expect *e = &expected[i];

		if (az_errmap(e->status, e->code) != e->err)
			fail_msg("%ld %s -> %d, want %d", e->status, e->code,
				 az_errmap(e->status, e->code), e->err);
	}
}

/* The code decides, whatever status it comes with. */
static void test_code_beats_status(void **state)
{
	assert_int_equal(az_errmap(409, "LeaseIdMissing"), -EBUSY);
	assert_int_equal(az_errmap(400, "ResourceNotFound"), -ENOENT);
	assert_int_equal(az_errmap(500, "DirectoryNotEmpty"), -ENOTEMPTY);
	assert_int_equal(az_errmap(404, "ShareSizeLimitReached"), -ENOSPC);
	assert_int_equal(az_errmap(409, "ServerBusy"), -EAGAIN);
}

/* Codes are matched exactly (the service's casing). */
static void test_code_case(void **state)
{
	assert_int_equal(az_errmap(409, "directorynotempty"), -EEXIST);
	assert_int_equal(az_errmap(400, "md5mismatch"), -EINVAL);
}

static void test_fallbacks(void **state)
{
	static const struct {
		long status;
		int err;
	} fb[] = {
	    {400, -EINVAL},    {401, -EACCES}, {403, -EACCES}, {404, -ENOENT}, {405, -EOPNOTSUPP},
	    {408, -ETIMEDOUT}, {409, -EEXIST}, {411, -EINVAL}, {412, -EBUSY},  {413, -EFBIG},
	    {416, -EINVAL},    {429, -EAGAIN}, {500, -EIO},    {502, -EIO},    {503, -EIO},
	    {504, -EIO},       {507, -EIO},    {418, -EIO},    {304, -EIO},    {100, -EIO},
	    {0, -EIO},
	};
	size_t i;

	for (i = 0; i < sizeof(fb) / sizeof(fb[0]); i++) {
		if (az_errmap(fb[i].status, NULL) != fb[i].err ||
		    az_errmap(fb[i].status, "") != fb[i].err ||
		    az_errmap(fb[i].status, "SomeFutureCode") != fb[i].err)
			fail_msg("fallback for %ld", fb[i].status);
	}
}

static void test_success(void **state)
{
	assert_int_equal(az_errmap(200, NULL), 0);
	assert_int_equal(az_errmap(201, ""), 0);
	assert_int_equal(az_errmap(202, "ResourceNotFound"), 0);
	assert_int_equal(az_errmap(206, NULL), 0);
	assert_int_equal(az_errmap(299, NULL), 0);
}

static void test_retryable(void **state)
{
	static const long yes[] = {0, 408, 429, 500, 502, 503, 504};
	static const long no[] = {200, 304, 400, 401, 403, 404, 409, 412, 413, 416, 501, 505};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		assert_int_equal(az_err_retryable(yes[i], NULL), 1);
		assert_int_equal(az_err_retryable(yes[i], "ResourceNotFound"), 1);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		assert_int_equal(az_err_retryable(no[i], NULL), 0);
		assert_int_equal(az_err_retryable(no[i], ""), 0);
		assert_int_equal(az_err_retryable(no[i], "ResourceNotFound"), 0);
	}
	/* these codes are transient whatever status carries them */
	assert_int_equal(az_err_retryable(400, "ServerBusy"), 1);
	assert_int_equal(az_err_retryable(409, "OperationTimedOut"), 1);
	assert_int_equal(az_err_retryable(404, "InternalError"), 1);
	assert_int_equal(az_err_retryable(409, "DirectoryNotEmpty"), 0);
	assert_int_equal(az_err_retryable(403, "AuthenticationFailed"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_table_row),   cmocka_unit_test(test_every_expected_row),
	    cmocka_unit_test(test_code_beats_status), cmocka_unit_test(test_code_case),
	    cmocka_unit_test(test_fallbacks),	      cmocka_unit_test(test_success),
	    cmocka_unit_test(test_retryable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
