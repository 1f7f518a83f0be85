/* prov_util.h: small helpers shared by the provisioner's modules (growable
 * text buffer, root-relative paths, whole-file read and compare-then-write,
 * mkdir -p, running a system tool, name checks, progress output). */
#ifndef PROV_UTIL_H
#define PROV_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#define PROV_PATH_MAX 4096

/* A NUL-terminated growable string. data is NULL until the first append. */
struct prov_buf {
	char *data;
	size_t len;
	size_t cap;
};

void prov_buf_init(struct prov_buf *b);
void prov_buf_release(struct prov_buf *b);
/* Empties b, keeping its memory. */
void prov_buf_reset(struct prov_buf *b);
int prov_buf_addn(struct prov_buf *b, const char *s, size_t n);
int prov_buf_add(struct prov_buf *b, const char *s);
int prov_buf_addf(struct prov_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns data, or "" when nothing was appended yet. */
const char *prov_buf_str(const struct prov_buf *b);

/* out = root + path ("/" or "" as root gives path itself). path is absolute. */
int prov_root_path(const char *root, const char *path, char *out, size_t outlen);
/* out = dir + "/" + name. */
int prov_path_join(char *out, size_t outlen, const char *dir, const char *name);

/* Reads a whole regular file (at most max bytes) into out (appended).
 * -ENOENT when missing, -EFBIG when larger than max. */
int prov_read_file(const char *path, struct prov_buf *out, size_t max);
/* The same from an open fd, to its end; out->data is set even when empty. */
int prov_read_fd(int fd, struct prov_buf *out, size_t max);

/* Writes all of data to fd (EINTR retried): 0 or -errno. */
int prov_write_all(int fd, const char *data, size_t len);

/* Writes data to path through a temp file in the same directory (fsync,
 * rename), created with mode from the start, so no reader sees a partial
 * file or a wider mode. */
int prov_write_file(const char *path, const char *data, size_t len, mode_t mode);

/* Writes path only when its content or mode differs. *changed = 1 when
 * written, 0 when already identical. Refuses to follow a symlink at path. */
int prov_install_file(const char *path, const char *data, size_t len, mode_t mode, int *changed);

/* mkdir -p with mode for the directories it creates. *created (may be NULL)
 * is set to 1 when the last component was created. */
int prov_mkdir_p(const char *path, mode_t mode, int *created);

/* Runs argv[0] (absolute path or found in PATH) with stdin from /dev/null
 * and waits. Returns its exit status (0..255), or -errno when it could not
 * run, or -EINTR-style -ECHILD when killed by a signal. */
int prov_run(const char *const argv[]);

/* Parses a decimal unsigned integer <= max (whole string). */
int prov_parse_ulong(const char *s, unsigned long max, unsigned long *out);

/* Local account names: [a-z_][a-z0-9_-]{0,31}. Lowercase only because the
 * share is case-insensitive and notebooks/NAME must not collide. */
int prov_valid_username(const char *name);
/* Absolute path of safe characters [A-Za-z0-9._/@+-], no "..": usable
 * unquoted in a systemd unit, an fstab line and a -o option list. */
int prov_valid_plain_path(const char *path);

/* A progress or result line for the person running the command (stdout). */
void prov_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
