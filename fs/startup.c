/* startup.c: checks before mounting (see startup.h).
 *
 * Runs once, single-threaded, before the daemon forks. The probe client is
 * freed before returning, so nothing here survives into the FUSE process.
 * Secrets: the connection string is read into memory and handed on; it is
 * never logged, and error messages name keys, never values.
 */
#include "startup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "azsharefs/client.h"
#include "azsharefs/log.h"
#include "conn.h"

#define MNT_CONN_MAX 65536

static int read_all(int fd, char *buf, size_t cap, size_t *len)
{
	*len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + *len, cap - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		*len += (size_t)n;
		if (*len == cap)
			return -EFBIG;
	}
}

/* Joins the meaningful lines of text with ';', trimming each. */
static char *join_lines(char *text)
{
	size_t n = strlen(text);
	char *out = malloc(n + 1);
	size_t o = 0;
	char *save = NULL;

	if (!out)
		return NULL;
	for (char *line = strtok_r(text, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		char *e = line + strlen(line);

		while (*line == ' ' || *line == '\t')
			line++;
		while (e > line && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		if (o && out[o - 1] != ';')
			out[o++] = ';';
		memcpy(out + o, line, strlen(line));
		o += strlen(line);
	}
	out[o] = '\0';
	return out;
}

int mnt_read_conn_file(const char *path, char **out, char *err, size_t errlen)
{
	char *buf = NULL;
	struct stat sb;
	size_t len = 0;
	int fd = -1, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read conn_file '%s': %s", path, strerror(-rc));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "conn_file '%s' is not a regular file", path);
		goto out;
	}
	if (sb.st_mode & 077)
		az_warn("conn_file '%s' holds an account key and is readable by group or others "
			"(mode %04o); run: chmod 600 '%s'",
			path, (unsigned)(sb.st_mode & 07777), path);
	buf = malloc(MNT_CONN_MAX + 1);
	rc = buf ? read_all(fd, buf, MNT_CONN_MAX, &len) : -ENOMEM;
	if (rc) {
		snprintf(err, errlen, "cannot read conn_file '%s': %s", path,
			 rc == -EFBIG ? "file too large" : strerror(-rc));
		goto out;
	}
	buf[len] = '\0';
	*out = join_lines(buf);
	rc = *out ? 0 : -ENOMEM;
	if (rc == 0 && **out == '\0') {
		rc = -EINVAL;
		snprintf(err, errlen, "conn_file '%s' holds no connection string", path);
		free(*out);
		*out = NULL;
	}
out:
	if (buf) {
		memset(buf, 0, len);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int mnt_check_conn(const char *conn_str, char *account, size_t alen, char *err, size_t errlen)
{
	struct az_conn cn;
	char why[256] = "";
	int rc;

	memset(&cn, 0, sizeof(cn));
	rc = az_conn_parse(&cn, conn_str, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "bad connection string: %s", why[0] ? why : "unreadable");
		az_conn_release(&cn);
		return -EINVAL;
	}
	snprintf(account, alen, "%s", cn.account ? cn.account : "");
	az_conn_release(&cn);
	return 0;
}

void mnt_probe_message(int rc, const char *account, const char *share, const char *endpoint,
		       const char *conn_file, char *out, size_t outlen)
{
	switch (rc) {
	case -EACCES:
	case -EPERM:
		snprintf(out, outlen,
			 "authentication failed for account '%s' (check the key or SAS in '%s')",
			 account, conn_file);
		break;
	case -ENOENT:
		snprintf(out, outlen, "share '%s' not found in account '%s'", share, account);
		break;
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -ETIMEDOUT:
	case -ECONNRESET:
	case -EAGAIN:
	case -EHOSTDOWN:
		snprintf(out, outlen, "cannot reach endpoint '%s': %s", endpoint, strerror(-rc));
		break;
	case -EPROTO:
		snprintf(out, outlen,
			 "cannot verify the TLS certificate of endpoint '%s' (see option ca_file)",
			 endpoint);
		break;
	default:
		snprintf(out, outlen, "cannot open share '%s' at '%s': %s", share, endpoint,
			 strerror(-rc));
	}
}

int mnt_probe_share(const char *conn_str, const struct mopt *o, struct az_share_props *props,
		    char *err, size_t errlen)
{
	struct az_client_opts co = {
	    .conn_str = conn_str,
	    .share = o->share,
	    .ca_file = o->ca_file,
	    .connect_timeout_ms = 10000,
	    .op_timeout_ms = 20000,
	    .retry_budget_ms = 20000,
	    .max_conns = 1,
	    .quiet = 1, /* one clear line (below), not the client's too */
	};
	struct az_client *c = NULL;
	int rc = az_client_init(&c, &co);

	if (rc) {
		snprintf(err, errlen, "cannot set up the REST client: %s", strerror(-rc));
		return rc;
	}
	rc = az_share_get_props(c, props);
	if (rc)
		mnt_probe_message(rc, az_client_account(c), o->share, az_client_endpoint(c),
				  o->conn_file, err, errlen);
	az_client_free(c);
	return rc;
}

int mnt_mkdir_p(const char *path, mode_t last_mode)
{
	char *p = strdup(path);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s && rc == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			rc = -errno;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, last_mode) != 0 && errno != EEXIST)
		rc = -errno;
	free(p);
	return rc;
}

void mnt_vfs_opts(const struct mopt *o, const char *cache_dir, struct vfs_opts *vo)
{
	vfs_opts_defaults(vo);
	vo->cache_dir = cache_dir;
	vo->writeback_delay_ms = o->writeback_delay_ms;
	vo->attr_timeout_ms = o->attr_timeout_ms;
	vo->dir_timeout_ms = o->dir_timeout_ms;
	vo->cache_max_bytes = o->cache_size;
	vo->file_max_bytes = o->file_cache_max;
	vo->upload_threads = o->upload_threads;
	vo->conflict_slack_ms = o->conflict_slack_ms;
	vo->offline_writes = o->offline_writes;
	vo->neg_timeout_ms = o->neg_timeout_ms;
	vo->strict_excl = o->strict_excl;
	vo->nocto = o->nocto;
	vo->journal_sync_ms = o->journal_sync_ms;
	vo->default_uid = o->uid;
	vo->default_gid = o->gid;
	vo->default_file_mode = o->file_mode;
	vo->default_dir_mode = o->dir_mode;
}
