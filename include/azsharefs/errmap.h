/* errmap.h: the one table from (HTTP status, x-ms-error-code) to errno. */
#ifndef AZSHAREFS_ERRMAP_H
#define AZSHAREFS_ERRMAP_H

#include <stddef.h>

/* Returns a negative errno; 0 for 2xx. code may be NULL or "" (HEAD replies
 * carry only the x-ms-error-code header, or nothing). A known code decides
 * whatever the status; unknown codes fall back on the status class (400 EINVAL,
 * 401/403 EACCES, 404 ENOENT, 409 EEXIST, 412 EBUSY, 413 EFBIG, 416 EINVAL,
 * 5xx EIO; also 405 EOPNOTSUPP, 408 ETIMEDOUT, 411 EINVAL, 429 EAGAIN, any
 * other status EIO). */
int az_errmap(long status, const char *code);

/* 1 when a failure with this status/code (or curl transport error, pass
 * status 0) is worth retrying: 408, 429, 500, 502, 503, 504, ServerBusy,
 * OperationTimedOut, InternalError. */
int az_err_retryable(long status, const char *code);

/* The table itself (fs/errmap.c), exposed for the row-by-row unit test. */
struct az_errmap_row {
	long status;	  /* the documented status of this code */
	const char *code; /* x-ms-error-code, exact case */
	int err;	  /* positive errno */
};
extern const struct az_errmap_row az_errmap_table[];
extern const size_t az_errmap_table_len;

#endif
