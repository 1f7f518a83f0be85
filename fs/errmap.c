/* errmap.c: the one table from (HTTP status, x-ms-error-code) to errno.
 *
 * Owns: az_errmap_table (in the spirit of sshfs's sftp_error_to_errno) and
 * the retry policy. Read-only data, thread-safe.
 *
 * Lookup: the service's error code decides, whatever the status (the same
 * code can come with another status on another operation, e.g. LeaseIdMissing
 * is 412 on writes and 409 on lease calls); the status of each row is the
 * one the documentation gives and is only used to pick between two rows of
 * one code (ConditionNotMet 304/412). A missing or unknown code falls back on
 * the status. Codes and statuses were checked against "Azure Files error
 * codes" and "Common REST API error codes"; lease codes are the ones the
 * Azure SDKs' ShareErrorCode lists for files; ShareSizeLimitReached (share
 * quota full, sent with 403) is from the SDKs' error code lists as well.
 * Choices worth knowing:
 * - InvalidFileOrDirectoryPathName is documented as "path is too long" or
 *   "too many subdirectories", so it maps to ENAMETOOLONG, not EINVAL.
 * - InvalidRange (416) is EINVAL; az_file_read treats 416 past EOF itself.
 * - ConditionNotMet (412) means the remote changed under an If-* header:
 *   ESTALE. Lease conflicts of every kind are EBUSY, as are SMB-side locks.
 * - ShareBeingDeleted is EBUSY (documented as "try operation later").
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "azsharefs/errmap.h"

const struct az_errmap_row az_errmap_table[] = {
    /* not found */
    {404, "ResourceNotFound", ENOENT},
    {404, "ParentNotFound", ENOENT},
    {404, "ShareNotFound", ENOENT},
    /* already there, not empty, read-only */
    {409, "ResourceAlreadyExists", EEXIST},
    {409, "ShareAlreadyExists", EEXIST},
    {409, "ResourceTypeMismatch", EEXIST},
    {409, "DirectoryNotEmpty", ENOTEMPTY},
    {409, "ReadOnlyAttribute", EPERM},
    /* leases */
    {412, "LeaseIdMissing", EBUSY},
    {412, "LeaseIdMismatchWithFileOperation", EBUSY},
    {412, "LeaseNotPresentWithFileOperation", EBUSY},
    {412, "LeaseLost", EBUSY},
    {409, "LeaseAlreadyPresent", EBUSY},
    {409, "LeaseAlreadyBroken", EBUSY},
    {409, "LeaseIdMismatchWithLeaseOperation", EBUSY},
    {409, "LeaseNotPresentWithLeaseOperation", EBUSY},
    {409, "LeaseIsBreakingAndCannotBeAcquired", EBUSY},
    {409, "LeaseIsBreakingAndCannotBeChanged", EBUSY},
    {409, "LeaseIsBrokenAndCannotBeRenewed", EBUSY},
    /* SMB clients holding the file, share states */
    {409, "SharingViolation", EBUSY},
    {409, "FileLockConflict", EBUSY},
    {409, "FileOpenBySmbClient", EBUSY},
    {409, "CannotDeleteFileOrDirectory", EBUSY},
    {409, "DeletePending", EBUSY},
    {409, "ShareBeingDeleted", EBUSY},
    {409, "ShareHasSnapshots", EBUSY},
    {409, "ShareSnapshotInProgress", EBUSY},
    {500, "ClientCacheFlushDelay", EAGAIN},
    {400, "ShareSnapshotOperationNotSupported", EROFS},
    /* authorization */
    {403, "AuthenticationFailed", EACCES},
    {403, "AuthorizationFailure", EACCES},
    {403, "AuthorizationPermissionMismatch", EACCES},
    {403, "AuthorizationProtocolMismatch", EACCES},
    {403, "AuthorizationResourceTypeMismatch", EACCES},
    {403, "AuthorizationServiceMismatch", EACCES},
    {403, "AuthorizationSourceIPMismatch", EACCES},
    {403, "InsufficientAccountPermissions", EACCES},
    {403, "AccountIsDisabled", EACCES},
    {403, "ShareDisabled", EACCES},
    {400, "InvalidAuthenticationInfo", EACCES},
    {401, "NoAuthenticationInformation", EACCES},
    /* names and inputs */
    {400, "InvalidResourceName", EINVAL},
    {400, "InvalidFileOrDirectoryPathName", ENAMETOOLONG},
    {416, "InvalidRange", EINVAL},
    {400, "OutOfRangeInput", EINVAL},
    {400, "OutOfRangeQueryParameterValue", EINVAL},
    {400, "InvalidHeaderValue", EINVAL},
    {400, "InvalidQueryParameterValue", EINVAL},
    {400, "InvalidInput", EINVAL},
    {400, "InvalidUri", EINVAL},
    {400, "InvalidMarker", EINVAL},
    {400, "InvalidMetadata", EINVAL},
    {400, "EmptyMetadataKey", EINVAL},
    {400, "MetadataTooLarge", E2BIG},
    {400, "InvalidMd5", EINVAL},
    {400, "InvalidXmlDocument", EINVAL},
    {400, "InvalidXmlNodeValue", EINVAL},
    {400, "FileInvalidPermission", EINVAL},
    {400, "FileInvalidPermissionKey", EINVAL},
    {400, "MissingRequiredHeader", EINVAL},
    {400, "MissingRequiredQueryParameter", EINVAL},
    {400, "MissingRequiredXmlNode", EINVAL},
    {411, "MissingContentLengthHeader", EINVAL},
    {400, "ConditionHeadersNotSupported", EINVAL},
    {400, "MultipleConditionHeadersNotSupported", EINVAL},
    {400, "RequestUrlFailedToParse", EINVAL},
    {400, "InvalidHttpVerb", EINVAL},
    {400, "UnsupportedHeader", EINVAL},
    {400, "UnsupportedQueryParameter", EINVAL},
    {400, "UnsupportedXmlNode", EINVAL},
    {405, "UnsupportedHttpVerb", EOPNOTSUPP},
    {400, "UnsupportedRestVersion", EOPNOTSUPP},
    {412, "ConditionNotMet", ESTALE},
    {304, "ConditionNotMet", ESTALE},
    /* sizes */
    {413, "RequestBodyTooLarge", EFBIG},
    {403, "ShareSizeLimitReached", ENOSPC},
    {400, "Md5Mismatch", EIO},
    /* service side */
    {503, "ServerBusy", EAGAIN},
    {500, "OperationTimedOut", ETIMEDOUT},
    {500, "InternalError", EIO},
};

const size_t az_errmap_table_len = sizeof(az_errmap_table) / sizeof(az_errmap_table[0]);

static int errmap_by_status(long status)
{
	switch (status) {
	case 400:
	case 411:
	case 416:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 405:
		return -EOPNOTSUPP;
	case 408:
		return -ETIMEDOUT;
	case 409:
		return -EEXIST;
	case 412:
		return -EBUSY;
	case 413:
		return -EFBIG;
	case 429:
		return -EAGAIN;
	default:
		return -EIO; /* 5xx, other 4xx, 1xx/3xx, transport (0) */
	}
}

int az_errmap(long status, const char *code)
{
	const struct az_errmap_row *hit = NULL;
	size_t i;

	if (status >= 200 && status < 300)
		return 0;
	if (code && *code) {
		for (i = 0; i < az_errmap_table_len; i++) {
			const struct az_errmap_row *r = &az_errmap_table[i];

			if (strcmp(r->code, code) != 0)
				continue;
			if (r->status == status)
				return -r->err;
			if (!hit)
				hit = r;
		}
		if (hit)
			return -hit->err;
	}
	return errmap_by_status(status);
}

int az_err_retryable(long status, const char *code)
{
	static const char *const codes[] = {"ServerBusy", "OperationTimedOut", "InternalError"};
	size_t i;

	switch (status) {
	case 0:
	case 408:
	case 429:
	case 500:
	case 502:
	case 503:
	case 504:
		return 1;
	default:
		break;
	}
	for (i = 0; code && i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (strcmp(code, codes[i]) == 0)
			return 1;
	}
	return 0;
}
