/* log.c: the one logging sink (see include/azsharefs/log.h).
 *
 * Threads: any; each message is written with one fprintf/syslog call, which
 * both serialise. State (foreground flag, level) is set at start-up and read
 * without locks afterwards; atomics keep the sanitizers quiet.
 */
#include "azsharefs/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

static atomic_int log_foreground = 1;
static atomic_int log_level = AZ_LOG_INFO;
static char log_ident[32] = "azsharefs";

void az_log_init(const char *ident, int foreground, enum az_log_level level)
{
	if (ident)
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	atomic_store(&log_level, level);
	az_log_set_foreground(foreground);
}

void az_log_set_foreground(int foreground)
{
	atomic_store(&log_foreground, foreground);
	if (!foreground)
		openlog(log_ident, LOG_PID, LOG_DAEMON);
}

enum az_log_level az_log_level_get(void)
{
	return (enum az_log_level)atomic_load(&log_level);
}

static int syslog_prio(enum az_log_level level)
{
	switch (level) {
	case AZ_LOG_ERR:
		return LOG_ERR;
	case AZ_LOG_WARN:
		return LOG_WARNING;
	case AZ_LOG_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

void az_log(enum az_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char msg[2048];
	char safe[2048];
	va_list ap;

	if ((int)level > atomic_load(&log_level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	az_log_redact(msg, safe, sizeof(safe));
	if (atomic_load(&log_foreground))
		fprintf(stderr, "%s: %s: %s\n", log_ident, names[level], safe);
	else
		syslog(syslog_prio(level), "%s", safe);
}

/* Keys whose values are secrets, matched case-insensitively. */
static const char *const secret_keys[] = {
    "sig=",	      "accountkey=",	"sharedaccesssignature=",
    "authorization:", "authorization=", "x-ms-copy-source-authorization:",
};

static size_t secret_at(const char *p)
{
	size_t i;

	for (i = 0; i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++) {
		size_t n = strlen(secret_keys[i]);

		if (strncasecmp(p, secret_keys[i], n) == 0)
			return n;
	}
	return 0;
}

/* A secret value ends at a separator of the syntax it lives in. */
static int value_end(char c, int header)
{
	if (c == '\0' || c == '\n' || c == '\r')
		return 1;
	if (header)
		return 0;
	return c == '&' || c == ';' || c == ' ' || c == '"' || c == '\'';
}

char *az_log_redact(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = in;

	if (outlen == 0)
		return out;
	while (*p && o + 1 < outlen) {
		size_t k = secret_at(p);

		if (k == 0) {
			out[o++] = *p++;
			continue;
		}
		int header = p[k - 1] == ':';
		size_t n = k < outlen - 1 - o ? k : outlen - 1 - o;

		memcpy(out + o, p, n);
		o += n;
		p += k;
		while (*p == ' ' && header)
			p++;
		if (header && o + 1 < outlen)
			out[o++] = ' ';
		while (!value_end(*p, header))
			p++;
		n = strlen("REDACTED");
		if (n > outlen - 1 - o)
			n = outlen - 1 - o;
		memcpy(out + o, "REDACTED", n);
		o += n;
	}
	out[o] = '\0';
	return out;
}
