/* journal.h: durable records of dirty files in cache_dir/journal (journal.c). */
#ifndef AZSF_CACHE_JOURNAL_H
#define AZSF_CACHE_JOURNAL_H

#include <stdint.h>

#include "vfs_int.h"

/* One dirty file: where it goes, what it is based on, what to set. An
 * attributes-only record (attrs != 0) is a deferred setattr of a clean
 * file (attrdefer.c): no data; mode/uid/gid/mtime are the values to set,
 * attrs the VFS_SET_* fields among them, base the version they apply to. */
struct jn_rec {
	uint64_t id;	 /* data/<id> holds the bytes */
	char path[4096]; /* share-relative target */
	uint64_t size;
	struct mc_base base; /* valid_at is not stored (0 after a restart) */
	int has_owner;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec mtime;
	unsigned attrs; /* 0 = data record */
};
/* attrs of a directory record: a directory made in write-back mode and not
 * yet on the share (pendir.c); mode/uid/gid/mtime are its attributes. */
#define JN_DIR 0x8000u

/* Writes journal/<id>: fdatasync(data_fd), temp file, fsync, rename, fsync
 * of the directories; with group commit (jn_async) the same without the
 * syncs, then jn_sync_mark. No v->lock held. 0 or -errno. */
int jn_write(struct vfs *v, const struct jn_rec *r, int data_fd);
/* Removes journal/<id> (durably: the directory is fsynced). */
void jn_remove(struct vfs *v, uint64_t id);
/* Calls cb for every readable record; unreadable ones are logged and kept.
 * Stray temp files are removed. Returns 0 or the first cb error. */
int jn_scan(struct vfs *v, int (*cb)(struct vfs *v, const struct jn_rec *r, void *arg), void *arg);
/* Journals f (caller holds f->up_lock, not v->lock): builds the record from
 * f under v->lock, writes it, sets f->journaled. 0 if f is clean/orphaned. */
int jn_file(struct vfs *v, struct mc_file *f);
/* Journals f's deferred attribute change f->pend (caller holds
 * f->up_lock, not v->lock): an attributes-only record; sets f->journaled.
 * 0 if there is nothing to journal. */
int jn_attrs(struct vfs *v, struct mc_file *f);
/* Parses one record (exposed for tests). 0 or -EINVAL. */
int jn_parse(const char *text, size_t len, struct jn_rec *r);
/* Formats one record into buf; returns its length or -ENAMETOOLONG. */
int jn_format(const struct jn_rec *r, char *buf, size_t len);

/* ---- the log, cache_dir/journal/log (jnlog.c) ---- */
/* At vfs_init (cache dir locked): reads the log (live records kept) and
 * writes it afresh without the dead ones. 0 or -errno. */
int jl_open(struct vfs *v);
/* Appends a record (text of jn_format) for id; it supersedes earlier ones. */
int jl_append(struct vfs *v, uint64_t id, const char *text, size_t len);
/* fdatasync of the log. */
int jl_sync(struct vfs *v);
/* Retires id's record (appends a done line, or truncates an all-dead log). */
void jl_done(struct vfs *v, uint64_t id);
/* A snapshot of the live records: ids, texts (malloc'd each), lengths. */
int jl_live(struct vfs *v, uint64_t **ids, char ***texts, size_t **lens, size_t *n);
/* The largest live id, 0 if none. */
uint64_t jl_max_id(struct vfs *v);
/* Syncs and closes the log; frees the table. */
void jl_close(struct vfs *v);

/* ---- group commit (jnsync.c) ---- */
/* At vfs_init, before anything can fail: the lock and condition. */
void jn_sync_init(struct vfs *v);
/* Starts the syncer if journal_sync_ms > 0. 0 or -errno. */
int jn_sync_start(struct vfs *v);
/* 1 when records are written without syncs (the syncer runs). */
int jn_async(const struct vfs *v);
/* A record or data file was written: sync within journal_sync_ms. */
void jn_sync_mark(struct vfs *v);
/* Waits until everything written so far is synced (no-op when sync). */
void jn_sync_now(struct vfs *v);
/* Stops the syncer after a last sync; closes the directory. */
void jn_sync_stop(struct vfs *v);

#endif
