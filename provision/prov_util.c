/* prov_util.c: helpers every provisioner module uses.
 *
 * Owns no state. Single-threaded like the whole provisioner. Invariants:
 * files we write appear atomically (temp file + fsync + rename in the same
 * directory) and are created with their final mode, so a secret is never
 * readable by others even for a moment; nothing here prints file contents.
 */
#include "prov_util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void prov_buf_init(struct prov_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void prov_buf_release(struct prov_buf *b)
{
	free(b->data);
	prov_buf_init(b);
}

void prov_buf_reset(struct prov_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int buf_reserve(struct prov_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int prov_buf_addn(struct prov_buf *b, const char *s, size_t n)
{
	int rc = buf_reserve(b, n);

	if (rc)
		return rc;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int prov_buf_add(struct prov_buf *b, const char *s)
{
	return prov_buf_addn(b, s, strlen(s));
}

int prov_buf_addf(struct prov_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	int rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	rc = buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *prov_buf_str(const struct prov_buf *b)
{
	return b->data ? b->data : "";
}

int prov_root_path(const char *root, const char *path, char *out, size_t outlen)
{
	size_t rl;
	int n;

	if (!root)
		root = "";
	rl = strlen(root);
	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	n = snprintf(out, outlen, "%.*s%s", (int)rl, root, path);
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

int prov_path_join(char *out, size_t outlen, const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	int n;

	if (dl && dir[dl - 1] == '/')
		n = snprintf(out, outlen, "%s%s", dir, name);
	else
		n = snprintf(out, outlen, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

int prov_read_fd(int fd, struct prov_buf *out, size_t max)
{
	char chunk[4096];
	size_t total = 0;
	ssize_t n;
	int rc;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > max)
			return -EFBIG;
		rc = prov_buf_addn(out, chunk, (size_t)n);
		if (rc)
			return rc;
	}
	return out->data ? 0 : prov_buf_addn(out, "", 0);
}

int prov_read_file(const char *path, struct prov_buf *out, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	rc = prov_read_fd(fd, out, max);
	close(fd);
	return rc;
}

int prov_write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int prov_write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	char tmp[PROV_PATH_MAX];
	int fd = -1;
	int rc;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	rc = prov_write_all(fd, data, len);
	if (!rc && fchmod(fd, mode) < 0)
		rc = -errno;
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

int prov_install_file(const char *path, const char *data, size_t len, mode_t mode, int *changed)
{
	struct prov_buf old;
	struct stat st;
	int rc;

	*changed = 0;
	prov_buf_init(&old);
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			rc = -EEXIST;
			goto out;
		}
		rc = prov_read_file(path, &old, 1 << 20);
		if (rc && rc != -EFBIG)
			goto out;
		if (!rc && old.len == len && memcmp(old.data, data, len) == 0 &&
		    (st.st_mode & 07777) == mode && st.st_uid == geteuid()) {
			rc = 0;
			goto out;
		}
	} else if (errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	rc = prov_write_file(path, data, len, mode);
	if (!rc)
		*changed = 1;
out:
	if (old.data)
		explicit_bzero(old.data, old.cap); /* may have been a secret */
	prov_buf_release(&old);
	return rc;
}

int prov_mkdir_p(const char *path, mode_t mode, int *created)
{
	char tmp[PROV_PATH_MAX];
	size_t len = strlen(path);
	size_t i;
	int last = 0;

	if (created)
		*created = 0;
	if (len == 0 || len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	while (len > 1 && tmp[len - 1] == '/')
		tmp[--len] = '\0';
	for (i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		last = (i == len);
		if (mkdir(tmp, mode) == 0) {
			if (last && created)
				*created = 1;
		} else if (errno != EEXIST) {
			return -errno;
		}
		if (!last)
			tmp[i] = '/';
	}
	return 0;
}

int prov_run(const char *const argv[])
{
	pid_t pid;
	int status;
	int fd;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 0);
			close(fd);
		}
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "azsharefs-provision: error: cannot run '%s': %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -ECHILD;
}

int prov_parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end = NULL;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int prov_valid_username(const char *name)
{
	size_t i;
	size_t len = strlen(name);

	if (len == 0 || len > 32)
		return 0;
	if (!(islower((unsigned char)name[0]) || name[0] == '_'))
		return 0;
	for (i = 1; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!(islower(c) || isdigit(c) || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int prov_valid_plain_path(const char *path)
{
	const char *p;

	if (!path || path[0] != '/' || strstr(path, "..") || strstr(path, "//"))
		return 0;
	for (p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (!(isalnum(c) || strchr("._/@+-", c)))
			return 0;
	}
	return 1;
}

void prov_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}
