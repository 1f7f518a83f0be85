/* vfs_int.h: the cache's internal state, shared by the modules of cache/.
 *
 * Objects:
 * - struct vfs: one mount's cache (vfs.c creates and frees it).
 * - struct mc_node: one path the cache knows something about (nodes.c):
 *   a remote entry (remote = 1, st), a local-only file (file != NULL,
 *   remote = 0), a negative entry (neither, attr_at = when the share said
 *   "absent"), or a placeholder parent (neither, attr_at = 0).
 * - struct mc_file: local content of one regular file, like an inode
 *   (filecache.c). It outlives its name: unlink/rename-over detach it from
 *   its node ("orphan") and open handles keep using it.
 * - struct vfs_file: one open handle (fileops.c).
 *
 * Locks, always taken in this order (never the other way round):
 *   v->ns_lock (rwlock)  uploads hold it shared for their whole duration;
 *                        directory renames hold it exclusive, so no upload
 *                        runs against a path that is being moved.
 *   f->up_lock (mutex)   one upload (or rename/unlink) of f at a time.
 *   f->data_lock (rwlock) f's data file: read() and uploads shared;
 *                        write(), truncate and download exclusive.
 *   v->lock (mutex)      every field marked "v->lock": the node table,
 *                        node and file metadata, LRU, queue, counters.
 * v->lock is never held across a backend call or a blocking file I/O
 * (except small journal writes), and is never held while taking another.
 */
#ifndef AZSF_CACHE_VFS_INT_H
#define AZSF_CACHE_VFS_INT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "azsharefs/cache.h"

struct mc_file;

/* While the share is down, reads retry it at most this often (ms). */
#define MC_OFFLINE_PROBE_MS 5000
/* Default vfs_opts.neg_timeout_ms (attrcache.c). */
#define MC_NEG_DEFAULT_MS 200

struct mc_node {
	char *path;		     /* v->lock; "" = root; rekeyed on rename */
	const char *name;	     /* v->lock; last component, inside path */
	struct mc_node *hnext;	     /* v->lock; hash chain */
	struct mc_node *cnext;	     /* v->lock; chain of the case index (nodes.c) */
	struct mc_node *parent;	     /* v->lock; NULL for the root */
	struct mc_node *child;	     /* v->lock; first child (directories) */
	struct mc_node *prev, *next; /* v->lock; siblings */
	int remote;		     /* v->lock; the share has it (as of attr_at) */
	struct az_stat st;	     /* v->lock; remote attributes when remote */
	int64_t attr_at;	     /* v->lock; when the share confirmed st/absence */
	int64_t removed_at;	     /* v->lock; when this node removed the name, 0 none */
	int64_t listed_at;	     /* v->lock; dirs: when listed, 0 none */
	int64_t listed_end;	     /* v->lock; dirs: when that listing's answer came */
	int listing;		     /* v->lock; a list request is in flight */
	size_t nentries;	     /* v->lock; dirs: entries in that listing */
	uint64_t seen;		     /* v->lock; listing generation that saw it */
	char *link;		     /* v->lock; cached symlink target */
	char link_etag[AZ_ETAG_MAX]; /* v->lock; version link was read from */
	struct mc_file *file;	     /* v->lock; local content or NULL */
};

/* What dirty data was taken from (for the conflict check). */
struct mc_base {
	int remote;		/* 1 = a remote version existed */
	char etag[AZ_ETAG_MAX]; /* "" = unknown (after a rename): size+mtime decide */
	uint64_t size;
	struct timespec mtime;
	int64_t valid_at; /* when the share last confirmed it, 0 = never */
};

struct mc_file {
	uint64_t id;			     /* const; data/<id>, journal/<id> */
	struct mc_node *node;		     /* v->lock; NULL when orphaned */
	int orphan;			     /* v->lock; unlinked: never uploaded */
	int refs;			     /* v->lock; node + handles + workers */
	int openers, writers;		     /* v->lock; open handles */
	int fd;				     /* data_lock; data file or -1 (see below) */
	int whole;			     /* v->lock+data_lock; fd holds the content */
	int stale;			     /* v->lock; remote moved: download again */
	struct az_stat lst;		     /* v->lock; local view */
	uint64_t gen, clean_gen;	     /* v->lock; dirty iff gen != clean_gen */
	int journaled;			     /* v->lock; journal/<id> exists */
	uint64_t jn_gen;		     /* v->lock; gen the journal record covers */
	int upload_err;			     /* v->lock; last upload error, 0 ok */
	struct mc_base base;		     /* v->lock */
	uint64_t acct;			     /* v->lock; bytes counted in v->data_bytes */
	int in_lru;			     /* v->lock */
	struct mc_file *lru_prev, *lru_next; /* v->lock */
	int queued;			     /* v->lock; on the write-back queue */
	int64_t due_at;			     /* v->lock; when the upload is due */
	int64_t wb_closed_at;		     /* v->lock; its last write-back close */
	int retries;			     /* v->lock; failed background attempts */
	struct mc_file *q_prev, *q_next;     /* v->lock */
	int64_t up_at;			     /* v->lock; when this node last uploaded it */
	/* Deferred attribute change of a clean, closed file (attrdefer.c):
	 * mask VFS_SET_MODE/UID/GID/MTIME, values final; 0 = none. Read with
	 * v->lock; set and cleared with f->up_lock held as well (except by
	 * mc_file_detach: an orphan never applies it). */
	struct vfs_want pend;
	pthread_mutex_t up_lock;
	pthread_rwlock_t data_lock;
};
/* fd and whole change under data_lock held exclusive, except in eviction,
 * which only touches files nobody else references (refs == 1). */

struct pd;
struct jl;

struct vfs {
	struct vfs_opts o;		     /* const after init */
	struct vfs_backend be;		     /* const; pendir.c's wrapper in write-back mode */
	struct vfs_backend real;	     /* const; the backend given to vfs_init */
	struct pd *pd;			     /* const; pending directories (pendir.c) */
	struct jl *jl;			     /* const; the journal's log (jnlog.c) */
	char *cache_dir, *data_dir, *jn_dir; /* const */
	char host[64];			     /* const; for conflict names */
	int lock_fd;			     /* const; flock on cache_dir/lock */
	pthread_mutex_t lock;
	pthread_cond_t list_cond; /* a listing finished (with lock) */
	int64_t pf_bytes; /* __atomic; large files' data fetched ahead, not yet read (stream.c) */
	pthread_rwlock_t ns_lock;
	struct mc_node **buckets;	     /* v->lock */
	struct mc_node **cbuckets;	     /* v->lock; by case-folded path, nbuckets */
	size_t nbuckets, nnodes;	     /* v->lock */
	struct mc_node *root;		     /* v->lock */
	uint64_t list_gen;		     /* v->lock */
	uint64_t next_id;		     /* v->lock */
	uint64_t data_bytes;		     /* v->lock; all local data */
	struct mc_file *lru_head, *lru_tail; /* v->lock; clean, unopened, oldest first */
	int offline;			     /* v->lock; last backend call failed on transport */
	int64_t offline_at;		     /* v->lock; time of the last transport failure */
	/* write-back (writeback.c) */
	pthread_cond_t wb_cond; /* with lock: queue changed or stop */
	pthread_cond_t wb_idle; /* with lock: an upload finished */
	struct mc_file *q_head; /* v->lock; sorted by due_at, earliest first */
	struct mc_file *q_tail; /* v->lock */
	int wb_stop;		/* v->lock */
	int wb_busy;		/* v->lock; uploads in flight in workers */
	int nworkers;		/* const after init */
	pthread_t *workers;	/* const after init */
	/* journal group commit (jnsync.c) */
	pthread_mutex_t jn_lock;
	pthread_cond_t jn_cond; /* with jn_lock: records written, or stop */
	int jn_fd;		/* const; cache_dir, for syncfs */
	int jn_dirty;		/* jn_lock; records written since the last sync */
	int jn_stop;		/* jn_lock */
	uint64_t jn_gen;	/* jn_lock; bumped per write */
	uint64_t jn_synced;	/* jn_lock; jn_gen covered by the last sync */
	int jn_running;		/* const after init */
	pthread_t jn_thread;	/* const after init */
};

struct vfs_file {
	struct mc_file *file; /* const; holds one ref */
	int flags;	      /* const; open(2) flags */
	int writable;	      /* const */
	int unchanged;	      /* const; for vfs_file_unchanged */
	int stream;	      /* const; large file: ranges, no local copy */
	struct mc_stream *sm; /* stream buffers (stream.c), NULL if !stream */
};

/* ---- small shared helpers (vfs.c) ---- */
/* Monotonic time in microseconds (never 0); every *_at field uses it. */
int64_t mc_now(void);
#define MC_US(ms) ((int64_t)(ms)*1000)
int mc_fresh(int64_t at, long timeout_ms);
int mc_is_net_err(int rc);
/* Records a backend result: transport errors mark the share offline (logged
 * once), success marks it back online. Takes v->lock itself. Returns rc. */
int mc_note(struct vfs *v, int rc);
int mc_note_locked(struct vfs *v, int rc);
/* v->lock held: the share failed on transport within the last few seconds;
 * reads then skip revalidation instead of waiting for it to fail again. */
int mc_offline_recent(const struct vfs *v);
/* Fills has_owner == 0 attributes with the mount defaults. */
void mc_fill_owner(const struct vfs *v, struct az_stat *st);
int mc_file_dirty(const struct mc_file *f);
void mc_realtime(struct timespec *ts);
/* The CLOCK_MONOTONIC time us microseconds from now (for timed waits on
 * the cache's condition variables, which use that clock). */
void mc_deadline(struct timespec *ts, int64_t us);
/* A condition variable whose timed waits count on CLOCK_MONOTONIC, as
 * mc_deadline's deadlines do. */
void mc_cond_init_mono(pthread_cond_t *c);
/* write() of all of buf, retrying on EINTR and short writes. 0 or -errno. */
int mc_write_all(int fd, const char *buf, size_t len);

#endif
