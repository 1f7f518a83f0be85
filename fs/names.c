/* names.c: checks names against the share's rules before they reach it.
 *
 * Pure functions plus one start-up flag (allow_trailing_dot, written once
 * before any thread starts, read-only after). The service would answer 400
 * for most of these; checking here gives the user a clear errno and a log
 * line naming the rule instead of a bare EINVAL from a failed request, and
 * stops names the service would silently change (a trailing dot trimmed)
 * from giving one remote file two local names.
 */
#include "names.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "azsharefs/log.h"

static int nm_allow_trailing_dot;

void nm_set_allow_trailing_dot(int allow)
{
	nm_allow_trailing_dot = allow;
}

static const char *const nm_reserved[] = {
    "CON",  "PRN",  "AUX",  "NUL",  "CLOCK$", "COM1", "COM2", "COM3",
    "COM4", "COM5", "COM6", "COM7", "COM8",   "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7",   "LPT8", "LPT9",
};

static void setwhy(char *why, size_t whylen, const char *msg)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", msg);
}

/* Decodes one UTF-8 sequence at s; returns its length or 0 when invalid
 * (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c = s[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* UTF-16 length of s, or -1 when s is not valid UTF-8. */
static long utf16_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long units = 0;

	while (*p) {
		uint32_t cp;
		size_t n = utf8_next(p, &cp);

		if (n == 0)
			return -1;
		units += cp >= 0x10000 ? 2 : 1;
		p += n;
	}
	return units;
}

static int is_reserved(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(nm_reserved) / sizeof(nm_reserved[0]); i++)
		if (strcasecmp(name, nm_reserved[i]) == 0)
			return 1;
	return 0;
}

int nm_check_name(const char *name, char *why, size_t whylen)
{
	size_t len = strlen(name);
	long units;

	if (len == 0) {
		setwhy(why, whylen, "empty name");
		return -EINVAL;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		setwhy(why, whylen, "'.' and '..' are not names");
		return -EINVAL;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20) {
			setwhy(why, whylen, "control characters (0x00-0x1f) are not allowed");
			return -EINVAL;
		}
		if (strchr("\"\\/:|<>*?", *p)) {
			setwhy(why, whylen, "the characters \" \\ / : | < > * ? are not allowed");
			return -EINVAL;
		}
	}
	units = utf16_len(name);
	if (units < 0) {
		setwhy(why, whylen, "not valid UTF-8");
		return -EINVAL;
	}
	if (units > NM_NAME_MAX) {
		setwhy(why, whylen, "names are limited to 255 characters");
		return -ENAMETOOLONG;
	}
	if (is_reserved(name)) {
		setwhy(why, whylen,
		       "reserved device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, CLOCK$)");
		return -EINVAL;
	}
	if (!nm_allow_trailing_dot && name[len - 1] == '.') {
		setwhy(why, whylen, "names ending in '.' are not kept by the share");
		return -EINVAL;
	}
	return 0;
}

static int path_rules(const char *path, char *why, size_t whylen)
{
	char comp[1024];
	const char *p = path;
	long units = utf16_len(path);
	int depth = 0;
	int rc;

	if (units > NM_PATH_MAX) {
		setwhy(why, whylen, "paths are limited to 2048 characters");
		return -ENAMETOOLONG;
	}
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n >= sizeof(comp)) {
			setwhy(why, whylen, "names are limited to 255 characters");
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		rc = nm_check_name(comp, why, whylen);
		if (rc)
			return rc;
		if (slash && ++depth > NM_DEPTH_MAX) {
			setwhy(why, whylen, "paths are limited to 250 directory levels");
			return -ENAMETOOLONG;
		}
		p = slash ? slash + 1 : p + n;
	}
	return 0;
}

int nm_check_path(const char *path)
{
	char why[128];
	int rc = path_rules(path, why, sizeof(why));

	if (rc)
		az_warn("refusing name '%s': %s", path, why);
	return rc;
}

int nm_check_lookup(const char *path)
{
	const char *p = path;

	if (strlen(path) > NM_PATH_MAX * 3 || utf16_len(path) > NM_PATH_MAX)
		return -ENAMETOOLONG;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char comp[1024];

		if (n >= sizeof(comp))
			return -ENAMETOOLONG;
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (utf16_len(comp) > NM_NAME_MAX)
			return -ENAMETOOLONG;
		p = slash ? slash + 1 : p + n;
	}
	return 0;
}

int nm_check_share(const char *share, char *why, size_t whylen)
{
	size_t len = strlen(share);
	size_t i;

	if (len < 3 || len > 63) {
		setwhy(why, whylen, "share names are 3 to 63 characters long");
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		char c = share[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (alnum)
			continue;
		if (c != '-') {
			setwhy(why, whylen,
			       "share names hold only lowercase letters, digits and hyphens");
			return -EINVAL;
		}
		if (i == 0 || i == len - 1 || share[i - 1] == '-') {
			setwhy(why, whylen, "a hyphen must sit between letters or digits");
			return -EINVAL;
		}
	}
	return 0;
}
