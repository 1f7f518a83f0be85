/* client_fmt.c: the value formats the file service uses alike in reply
 * headers and in listings, so one parser serves both: times (ISO 8601 with
 * 7 fraction digits, RFC 1123) and file attributes ("ReadOnly | Archive").
 *
 * Owns no state; every function is pure and reentrant (gmtime_r, timegm).
 * Invariants: parsers are strict (a time with a field out of range, a
 * missing part or trailing text is -EINVAL) except where the service is
 * loose itself (attribute names: any case, unknown names ignored);
 * formatters always write a NUL-terminated string of the documented form.
 * Unit-tested in tests/unit/test_client_fmt.c.
 */
#include "client_fmt.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "azsharefs/stat.h"

/* ---- times ---- */

/* Reads exactly ndig digits. */
static int time_num(const char **p, int ndig, int *out)
{
	int v = 0, i;

	for (i = 0; i < ndig; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += ndig;
	*out = v;
	return 0;
}

static int time_expect(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

static int time_days_in(int mon, int year)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 2 && leap ? 29 : days[mon - 1];
}

/* Checks the fields of tm (tm_mon 0-based) and converts to seconds. */
static int time_make(struct tm *tm, long nsec, struct timespec *out)
{
	int year = tm->tm_year + 1900, mon = tm->tm_mon + 1;

	if (mon < 1 || mon > 12 || tm->tm_mday < 1 || tm->tm_mday > time_days_in(mon, year) ||
	    tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
		return -EINVAL;
	out->tv_sec = timegm(tm);
	out->tv_nsec = nsec;
	return 0;
}

/* ".1234567" -> nanoseconds (1 or more digits, beyond 9 ignored). */
static int time_fraction(const char **p, long *nsec)
{
	long v = 0;
	int n = 0;

	*nsec = 0;
	if (**p != '.')
		return 0;
	(*p)++;
	while (isdigit((unsigned char)**p)) {
		if (n < 9) {
			v = v * 10 + (**p - '0');
			n++;
		}
		(*p)++;
	}
	if (n == 0)
		return -1;
	for (; n < 9; n++)
		v *= 10;
	*nsec = v;
	return 0;
}

int az_time_parse_iso(const char *s, struct timespec *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec;
	long nsec;
	const char *p = s;

	memset(&tm, 0, sizeof(tm));
	if (!s || time_num(&p, 4, &y) || time_expect(&p, '-') || time_num(&p, 2, &mo) ||
	    time_expect(&p, '-') || time_num(&p, 2, &d) || time_expect(&p, 'T') ||
	    time_num(&p, 2, &h) || time_expect(&p, ':') || time_num(&p, 2, &mi) ||
	    time_expect(&p, ':') || time_num(&p, 2, &sec) || time_fraction(&p, &nsec) ||
	    time_expect(&p, 'Z') || *p)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return time_make(&tm, nsec, out);
}

static const char *const time_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const time_mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int time_word(const char **p, const char *const *words, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strncmp(*p, words[i], 3) == 0) {
			*p += 3;
			return i;
		}
	}
	return -1;
}

int az_time_parse_rfc1123(const char *s, struct timespec *out)
{
	struct tm tm;
	int d, y, h, mi, sec;
	const char *p = s;

	memset(&tm, 0, sizeof(tm));
	if (!s || time_word(&p, time_days, 7) < 0 || time_expect(&p, ',') || time_expect(&p, ' '))
		return -EINVAL;
	if (time_num(&p, isdigit((unsigned char)p[1]) ? 2 : 1, &d) || time_expect(&p, ' '))
		return -EINVAL;
	tm.tm_mon = time_word(&p, time_mons, 12);
	if (tm.tm_mon < 0 || time_expect(&p, ' ') || time_num(&p, 4, &y) || time_expect(&p, ' ') ||
	    time_num(&p, 2, &h) || time_expect(&p, ':') || time_num(&p, 2, &mi) ||
	    time_expect(&p, ':') || time_num(&p, 2, &sec) || strcmp(p, " GMT") != 0)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return time_make(&tm, 0, out);
}

void az_time_format_rfc1123(time_t t, char out[40])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(out, 40, "Thu, 01 Jan 1970 00:00:00 GMT");
		return;
	}
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", time_days[tm.tm_wday], tm.tm_mday,
		 time_mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void az_time_format_iso(const struct timespec *t, char out[40])
{
	time_t sec = t->tv_sec;
	long nsec = t->tv_nsec;
	char tmp[128];
	struct tm tm;

	while (nsec < 0) {
		nsec += 1000000000L;
		sec--;
	}
	while (nsec >= 1000000000L) {
		nsec -= 1000000000L;
		sec++;
	}
	if (!gmtime_r(&sec, &tm)) {
		snprintf(out, 40, "1970-01-01T00:00:00.0000000Z");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%07ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec / 100);
	snprintf(out, 40, "%.39s", tmp);
}

/* ---- file attributes ---- */

static const struct {
	const char *name;
	uint32_t bit;
} attr_names[] = {
    {"ReadOnly", AZ_FATTR_READONLY},
    {"Hidden", AZ_FATTR_HIDDEN},
    {"System", AZ_FATTR_SYSTEM},
    {"Directory", AZ_FATTR_DIRECTORY},
    {"Archive", AZ_FATTR_ARCHIVE},
    {"Temporary", AZ_FATTR_TEMPORARY},
    {"Offline", AZ_FATTR_OFFLINE},
    {"NotContentIndexed", AZ_FATTR_NOT_CONTENT_INDEXED},
    {"NoScrubData", AZ_FATTR_NO_SCRUB_DATA},
};
#define NATTR (sizeof(attr_names) / sizeof(attr_names[0]))

uint32_t az_attrs_parse(const char *s)
{
	uint32_t bits = 0;

	while (s && *s) {
		size_t n, i;

		while (*s == ' ' || *s == '|')
			s++;
		n = strcspn(s, " |");
		for (i = 0; n && i < NATTR; i++) {
			if (strlen(attr_names[i].name) == n &&
			    strncasecmp(s, attr_names[i].name, n) == 0)
				bits |= attr_names[i].bit;
		}
		s += n;
	}
	return bits; /* "None" and unknown names add nothing */
}

int az_attrs_format(uint32_t attrs, char *out, size_t outlen)
{
	size_t i, o = 0;
	int n;

	if (outlen == 0)
		return -ENAMETOOLONG;
	out[0] = '\0';
	for (i = 0; i < NATTR; i++) {
		if (!(attrs & attr_names[i].bit))
			continue;
		n = snprintf(out + o, outlen - o, "%s%s", o ? " | " : "", attr_names[i].name);
		if (n < 0 || (size_t)n >= outlen - o)
			return -ENAMETOOLONG;
		o += (size_t)n;
	}
	if (o == 0) {
		n = snprintf(out, outlen, "None");
		if (n < 0 || (size_t)n >= outlen)
			return -ENAMETOOLONG;
	}
	return 0;
}
