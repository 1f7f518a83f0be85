/* backend_fmt.c: the backend's pure helpers (fs/backend.h): the symlink
 * file format (Minshall+French, as the kernel SMB client's mfsymlinks
 * writes it), hidden temp names for large uploads, zero-range detection.
 * No I/O beyond getrandom(); reentrant; unit-tested in
 * tests/unit/test_mount_backend.c.
 */
#include "backend.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int azb_all_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

int azb_temp_name(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) : 0;
	uint64_t r = 0;
	int n;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		r = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
	}
	if (slash)
		n = snprintf(out, outlen, "%.*s/%s%016llx", dirlen, path, AZB_TEMP_PREFIX,
			     (unsigned long long)r);
	else
		n = snprintf(out, outlen, "%s%016llx", AZB_TEMP_PREFIX, (unsigned long long)r);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* ---- symlinks ---- */

static void md5_hex(const char *s, size_t len, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const char hex[] = "0123456789abcdef";

	EVP_Digest(s, len, md, &n, EVP_md5(), NULL);
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
}

int azb_symlink_format(const char *target, char out[AZB_SYMLINK_SIZE])
{
	size_t len = strlen(target);
	char md5[33];
	size_t o;

	if (len == 0)
		return -EINVAL;
	if (len > AZB_SYMLINK_MAXLEN)
		return -ENAMETOOLONG;
	md5_hex(target, len, md5);
	memset(out, ' ', AZB_SYMLINK_SIZE);
	o = (size_t)snprintf(out, AZB_SYMLINK_SIZE, "XSym\n%04u\n%s\n", (unsigned)len, md5);
	memcpy(out + o, target, len);
	o += len;
	if (o < AZB_SYMLINK_SIZE)
		out[o] = '\n';
	return 0;
}

int azb_symlink_parse(const char *body, size_t len, char *buf, size_t size)
{
	char md5[33];
	unsigned tlen = 0;
	const char *target = body + 43;

	if (len != AZB_SYMLINK_SIZE || memcmp(body, "XSym\n", 5) != 0 || body[9] != '\n' ||
	    body[42] != '\n')
		return -EINVAL;
	for (int i = 5; i < 9; i++) {
		if (body[i] < '0' || body[i] > '9')
			return -EINVAL;
		tlen = tlen * 10 + (unsigned)(body[i] - '0');
	}
	if (tlen == 0 || tlen > AZB_SYMLINK_MAXLEN)
		return -EINVAL;
	md5_hex(target, tlen, md5);
	if (memcmp(md5, body + 10, 32) != 0)
		return -EINVAL;
	if (size == 0)
		return 0;
	if (tlen > size - 1)
		tlen = (unsigned)(size - 1);
	memcpy(buf, target, tlen);
	buf[tlen] = '\0';
	return 0;
}
