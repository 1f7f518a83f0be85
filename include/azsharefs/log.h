/* log.h: the one logging entry point of azsharefs.
 *
 * stderr when in the foreground, syslog(3) once daemonized. Messages are
 * lowercase, carry no trailing period and quote paths. az_log_redact() must be
 * applied to anything that may hold a URL, a header or a connection string:
 * it blanks AccountKey=, SharedAccessSignature=, sig= and Authorization values.
 */
#ifndef AZSHAREFS_LOG_H
#define AZSHAREFS_LOG_H

#include <stddef.h>

enum az_log_level {
	AZ_LOG_ERR = 0,
	AZ_LOG_WARN = 1,
	AZ_LOG_INFO = 2,
	AZ_LOG_DEBUG = 3,
};

/* ident: program name for syslog; foreground: 1 = stderr, 0 = syslog. */
void az_log_init(const char *ident, int foreground, enum az_log_level level);
void az_log_set_foreground(int foreground);
enum az_log_level az_log_level_get(void);
void az_log(enum az_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copies in to out (NUL-terminated, truncated to outlen) with secrets blanked:
 * the values of sig=, AccountKey=, SharedAccessSignature= and of an
 * "Authorization:" header become "REDACTED". Returns out. */
char *az_log_redact(const char *in, char *out, size_t outlen);

#define az_err(...) az_log(AZ_LOG_ERR, __VA_ARGS__)
#define az_warn(...) az_log(AZ_LOG_WARN, __VA_ARGS__)
#define az_info(...) az_log(AZ_LOG_INFO, __VA_ARGS__)
#define az_debug(...) az_log(AZ_LOG_DEBUG, __VA_ARGS__)

#endif
