/* prov_systemd.h: the units that keep a node's share mounted and its users
 * in sync across reboots:
 *   azsharefs-mount.service       runs `azsharefs MNT -f -o ...`, restarts it
 *   azsharefs-sync-users.service  one `azsharefs-provision sync-users` run
 *   azsharefs-sync-users.timer    starts the above at boot and every minute */
#ifndef PROV_SYSTEMD_H
#define PROV_SYSTEMD_H

#include "prov.h"

#define PROV_UNIT_DIR "/etc/systemd/system"
#define PROV_UNIT_MOUNT "azsharefs-mount.service"
#define PROV_UNIT_SYNC "azsharefs-sync-users.service"
#define PROV_UNIT_TIMER "azsharefs-sync-users.timer"

/* Unit texts (appended to out). prov_bin and config are target paths. */
int prov_unit_mount_text(const struct prov_config *cfg, struct prov_buf *out);
int prov_unit_sync_text(const char *prov_bin, const char *config, struct prov_buf *out);
int prov_unit_timer_text(struct prov_buf *out);

/* Writes the three units under ROOT/etc/systemd/system and enables them
 * (the symlinks `systemctl enable` makes), printing one line per file.
 * *mount_changed: the mount unit was written; *any_changed: anything was. */
int prov_systemd_install(const struct prov_ctx *ctx, const char *prov_bin, int *mount_changed,
			 int *any_changed);

/* 1 when systemd manages ROOT (ROOT/run/systemd/system exists). */
int prov_systemd_running(const struct prov_ctx *ctx);

/* daemon-reload when units changed, (re)start the mount and the timer. */
int prov_systemd_start(int any_changed, int restart_mount);

#endif
