/* errmap.h: the one table from (HTTP status, x-ms-error-code) to errno. */
#ifndef AZSHAREFS_ERRMAP_H
#define AZSHAREFS_ERRMAP_H

/* Returns a negative errno; 0 for 2xx. code may be NULL or "" (HEAD replies
 * carry only the x-ms-error-code header, or nothing). Unknown codes fall back
 * on the status class (400 EINVAL, 401/403 EACCES, 404 ENOENT, 409 EEXIST,
 * 412 EBUSY, 413 EFBIG, 416 EINVAL, 5xx EIO). */
int az_errmap(long status, const char *code);

/* 1 when a failure with this status/code (or curl transport error, pass
 * status 0) is worth retrying: 408, 500, 502, 503, 504, ServerBusy,
 * OperationTimedOut, InternalError. */
int az_err_retryable(long status, const char *code);

#endif
