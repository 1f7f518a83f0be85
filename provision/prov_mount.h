/* prov_mount.h: finding and starting the azsharefs mount directly, for
 * nodes where systemd is not running (containers, tests). */
#ifndef PROV_MOUNT_H
#define PROV_MOUNT_H

#include <stddef.h>
#include <sys/types.h>

/* Looks path up in a /proc/self/mountinfo text (octal escapes decoded);
 * the last match wins, as in the kernel's view. 0 and fstype filled, or
 * -ENOENT. */
int prov_mount_find(const char *mountinfo, const char *path, char *fstype, size_t fstypelen);

/* The same for the live /proc/self/mountinfo. */
int prov_mount_state(const char *path, char *fstype, size_t fstypelen);

/* 1 when path is a FUSE mount whose daemon is gone (statfs: ENOTCONN). */
int prov_mount_is_dead(const char *path);

struct prov_mount_req {
	const char *binary;  /* the azsharefs executable */
	const char *mnt;     /* mountpoint (host path) */
	const char *opts;    /* -o list: holds conn_file=, never a secret */
	const char *log;     /* stdout/stderr of the daemon go here (0600) */
	const char *pidfile; /* its pid is written here */
	unsigned long timeout;
};

/* Starts `binary MNT -f -o OPTS` in its own session in the background and
 * waits until MNT is a FUSE mount. On failure err names the exit status or
 * the timeout and the log file. *pid gets the daemon's pid. */
int prov_mount_spawn(const struct prov_mount_req *req, pid_t *pid, char *err, size_t errlen);

#endif
