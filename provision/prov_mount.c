/* prov_mount.c: mount detection and the direct (systemd-less) mount.
 *
 * Owns nothing long-lived: the daemon it starts outlives the provisioner
 * (it runs in its own session; its pid goes to a pid file so whoever set it
 * up can stop it). Single-threaded. The daemon's command line carries only
 * paths and options: the secret stays in the conn_file.
 */
#include "prov_mount.h"
#include "prov_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Copies a mountinfo field (up to a space) into out, decoding \ooo. */
static const char *field_copy(const char *p, char *out, size_t outlen)
{
	size_t n = 0;

	while (*p && *p != ' ' && *p != '\n') {
		char c = *p++;

		if (c == '\\' && p[0] >= '0' && p[0] <= '3' && p[1] >= '0' && p[1] <= '7' &&
		    p[2] >= '0' && p[2] <= '7') {
			c = (char)(((p[0] - '0') << 6) | ((p[1] - '0') << 3) | (p[2] - '0'));
			p += 3;
		}
		if (n + 1 < outlen)
			out[n++] = c;
	}
	out[n] = '\0';
	return p;
}

static const char *skip_fields(const char *p, int n)
{
	while (n-- > 0) {
		while (*p && *p != ' ' && *p != '\n')
			p++;
		while (*p == ' ')
			p++;
	}
	return p;
}

/* From one mountinfo line: the mount point and the filesystem type. */
static int parse_line(const char *line, char *mp, size_t mplen, char *fstype, size_t fslen)
{
	const char *p = skip_fields(line, 4);
	const char *sep;

	p = field_copy(p, mp, mplen);
	sep = strstr(p, " - ");
	if (!sep)
		return -EINVAL;
	field_copy(sep + 3, fstype, fslen);
	return 0;
}

int prov_mount_find(const char *mountinfo, const char *path, char *fstype, size_t fstypelen)
{
	char mp[PROV_PATH_MAX];
	char fs[64];
	const char *p = mountinfo;
	int rc = -ENOENT;

	while (*p) {
		const char *nl = strchr(p, '\n');

		if (parse_line(p, mp, sizeof(mp), fs, sizeof(fs)) == 0 && strcmp(mp, path) == 0) {
			snprintf(fstype, fstypelen, "%s", fs);
			rc = 0;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return rc;
}

int prov_mount_state(const char *path, char *fstype, size_t fstypelen)
{
	char real[PROV_PATH_MAX];
	struct prov_buf text;
	const char *want = path;
	int rc;

	/* realpath() would stat a dead FUSE mount and fail; fall back to the
	 * path as given then. */
	if (realpath(path, real))
		want = real;
	prov_buf_init(&text);
	rc = prov_read_file("/proc/self/mountinfo", &text, 16 << 20);
	if (!rc)
		rc = prov_mount_find(prov_buf_str(&text), want, fstype, fstypelen);
	prov_buf_release(&text);
	return rc;
}

int prov_mount_is_dead(const char *path)
{
	struct statvfs sv;

	/* statfs always reaches the daemon; stat may be answered from the
	 * kernel's attribute cache for a while after the daemon died. */
	return statvfs(path, &sv) < 0 && errno == ENOTCONN;
}

static void child_exec(const struct prov_mount_req *req, int logfd)
{
	const char *argv[] = {req->binary, req->mnt, "-f", "-o", req->opts, NULL};
	int nullfd = open("/dev/null", O_RDONLY);

	setsid();
	if (nullfd >= 0)
		dup2(nullfd, 0);
	dup2(logfd, 1);
	dup2(logfd, 2);
	execv(req->binary, (char *const *)argv);
	dprintf(2, "azsharefs-provision: error: cannot run '%s': %s\n", req->binary,
		strerror(errno));
	_exit(127);
}

static int write_pidfile(const char *path, pid_t pid)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%ld\n", (long)pid);

	return prov_write_file(path, text, (size_t)n, 0644);
}

/* Polls until the mount shows up, the child dies or time runs out. */
static int wait_mounted(const struct prov_mount_req *req, pid_t pid, char *err, size_t errlen)
{
	time_t deadline = time(NULL) + (time_t)req->timeout;
	char fstype[64];
	int status;

	for (;;) {
		if (prov_mount_state(req->mnt, fstype, sizeof(fstype)) == 0 &&
		    strncmp(fstype, "fuse", 4) == 0)
			return 0;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			snprintf(err, errlen, "'%s' exited with %s %d before mounting; see '%s'",
				 req->binary, WIFEXITED(status) ? "status" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				 req->log);
			return -EIO;
		}
		if (time(NULL) >= deadline)
			break;
		usleep(100000);
	}
	kill(pid, SIGTERM);
	snprintf(err, errlen, "'%s' did not mount within %lus (stopped it); see '%s'", req->mnt,
		 req->timeout, req->log);
	return -ETIMEDOUT;
}

int prov_mount_spawn(const struct prov_mount_req *req, pid_t *pid, char *err, size_t errlen)
{
	int logfd;
	int rc;

	logfd = open(req->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (logfd < 0) {
		snprintf(err, errlen, "cannot open log '%s': %s", req->log, strerror(errno));
		return -errno;
	}
	fflush(stdout);
	fflush(stderr);
	*pid = fork();
	if (*pid < 0) {
		rc = -errno;
		close(logfd);
		snprintf(err, errlen, "fork: %s", strerror(-rc));
		return rc;
	}
	if (*pid == 0)
		child_exec(req, logfd);
	close(logfd);
	rc = write_pidfile(req->pidfile, *pid);
	if (rc) {
		snprintf(err, errlen, "cannot write pid file '%s': %s", req->pidfile,
			 strerror(-rc));
		kill(*pid, SIGTERM);
		return rc;
	}
	return wait_mounted(req, *pid, err, errlen);
}
