/* client.h: the Azure Files REST client (implementation in fs/).
 *
 * One struct az_client per (account, share). Thread-safe: any number of
 * threads may call any operation at once; each call borrows a pooled curl
 * handle so TCP/TLS connections are reused (keep-alive). Transient failures
 * (408, 500, 503, timeouts, resets) are retried with exponential backoff and
 * jitter until opts.retry_budget_ms is spent.
 *
 * Paths are share-relative, '/'-separated, without a leading '/'; "" is the
 * share root. The client percent-encodes them and the service takes them
 * literally: every file and directory request carries
 * x-ms-allow-trailing-dot: true (a rename also x-ms-source-allow-trailing-dot),
 * so a trailing '.' is kept, never trimmed. Every function returns 0 or a
 * negative errno (see errmap.h); on failure the out-structs are undefined.
 */
#ifndef AZSHAREFS_CLIENT_H
#define AZSHAREFS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "azsharefs/stat.h"

#define AZ_API_VERSION "2026-02-06"
#define AZ_MAX_RANGE (4u * 1024u * 1024u) /* put range / create body limit */
#define AZ_DEFAULT_LIST_MAX 5000

struct az_client;

struct az_client_opts {
	const char *conn_str;	 /* connection string text (required) */
	const char *share;	 /* share name (required) */
	const char *ca_file;	 /* CA bundle; NULL = system default; TLS always verified */
	long connect_timeout_ms; /* 0 = 10000 */
	long op_timeout_ms;	 /* one attempt, 0 = 60000 */
	long retry_budget_ms;	 /* all retries of one call, 0 = 60000 */
	int max_conns;		 /* pooled handles, 0 = 16 */
	int quiet;		 /* 1: failures are logged at debug level only, for
				    a caller that reports them in its own words
				    (the mount's start-up check of the share) */
};

int az_client_init(struct az_client **out, const struct az_client_opts *opts);
void az_client_free(struct az_client *c);
/* Account name and endpoint, for messages (never a secret). */
const char *az_client_account(const struct az_client *c);
const char *az_client_endpoint(const struct az_client *c);

/* Counters since init, for tests and benchmarks. */
struct az_client_stats {
	uint64_t requests; /* HTTP requests sent, retries included */
	uint64_t retries;
};
void az_client_stats_get(struct az_client *c, struct az_client_stats *out);

/* ---- SMB properties to send (create / set properties) ---- */
struct az_smb {
	const char *perm_key;  /* x-ms-file-permission-key, or NULL */
	const char *perm_sddl; /* x-ms-file-permission (inline SDDL), or NULL */
	int set_attrs;	       /* send x-ms-file-attributes = attrs */
	uint32_t attrs;
	int set_mtime; /* send x-ms-file-last-write-time */
	struct timespec mtime;
	int set_btime; /* send x-ms-file-creation-time */
	struct timespec btime;
	int set_ctime; /* send x-ms-file-change-time */
	struct timespec ctime;
};
/* Unset fields: "inherit"/"None"/"now" on create, "preserve" on set. */

/* ---- share ---- */
struct az_share_props {
	uint64_t quota_gib; /* x-ms-share-quota */
	char etag[AZ_ETAG_MAX];
};
int az_share_create(struct az_client *c, uint64_t quota_gib);
int az_share_get_props(struct az_client *c, struct az_share_props *out);
int az_share_get_usage(struct az_client *c, uint64_t *usage_bytes); /* comp=stats */
int az_share_delete(struct az_client *c);

/* Create Permission / Get Permission (share level, SDDL format). */
int az_perm_create(struct az_client *c, const char *sddl, char key[AZ_PERMKEY_MAX]);
int az_perm_get(struct az_client *c, const char *key, char **sddl_out); /* free() it */

/* ---- directories ---- */
int az_dir_create(struct az_client *c, const char *path, const struct az_smb *smb,
		  struct az_stat *out);
int az_dir_get_props(struct az_client *c, const char *path, struct az_stat *out);
int az_dir_delete(struct az_client *c, const char *path);
int az_dir_set_metadata(struct az_client *c, const char *path, const char *const *kv);
/* Set Directory Properties (permission, attributes, times; unset = preserve). */
int az_dir_set_props(struct az_client *c, const char *path, const struct az_smb *smb,
		     struct az_stat *out);

/* List Directories and Files, following NextMarker to the end.
 * include=Timestamps,ETag,Attributes,PermissionKey and extended info are
 * always requested. cb returns 0 to go on, non-zero to stop (returned as is).
 * prefix may be NULL; max_per_page 0 = AZ_DEFAULT_LIST_MAX. */
typedef int (*az_list_cb)(void *arg, const char *name, const struct az_stat *st);
int az_dir_list(struct az_client *c, const char *path, const char *prefix, int max_per_page,
		az_list_cb cb, void *arg);

/* ---- files ---- */
/* Create File with x-ms-content-length = size. When body_len > 0 the body is
 * sent in the same request (body_len == size, <= AZ_MAX_RANGE; service
 * version 2026-02-06). Replaces an existing file. lease_id may be NULL. */
int az_file_create(struct az_client *c, const char *path, uint64_t size, const void *body,
		   size_t body_len, const struct az_smb *smb, const char *lease_id,
		   struct az_stat *out);
int az_file_get_props(struct az_client *c, const char *path, struct az_stat *out);
/* Ranged Get File. *got = bytes stored; reads past EOF give *got short or 0
 * (416 is not an error here). out may be NULL. */
int az_file_read(struct az_client *c, const char *path, uint64_t off, size_t len, void *buf,
		 size_t *got, struct az_stat *out);
/* Whole-file Get File, written to fd from offset 0 (pwrite); out gets the
 * attributes of exactly the version that was read. */
int az_file_download(struct az_client *c, const char *path, int fd, struct az_stat *out);
/* Put Range (1..AZ_MAX_RANGE bytes). One request, also with out: the reply
 * carries only the ETag and the last-write time, so out (may be NULL) is
 * updated in place: those fields (and any other x-ms-file-* the reply
 * holds) replace the caller's values, every other field keeps what the
 * caller put there (typically the file's attributes from an earlier call,
 * with the size the caller knows). */
int az_file_put_range(struct az_client *c, const char *path, uint64_t off, const void *buf,
		      size_t len, const char *lease_id, struct az_stat *out);
/* Same, with flags: AZ_PUT_KEEP_MTIME sends x-ms-file-last-write-time:
 * preserve (the last-write time set at create stays). */
#define AZ_PUT_KEEP_MTIME 0x1
int az_file_put_range_ex(struct az_client *c, const char *path, uint64_t off, const void *buf,
			 size_t len, const char *lease_id, unsigned flags, struct az_stat *out);
int az_file_clear_range(struct az_client *c, const char *path, uint64_t off, uint64_t len,
			const char *lease_id);
/* Set File Properties. size < 0 keeps the size, >= 0 resizes. One request,
 * also with out: out gets the reply's ETag, times, permission key,
 * attributes and file id; the reply has no size, so out->size is the new
 * size when resizing and otherwise left as the caller set it before the
 * call (set it to the size you know; nothing asks the share). */
int az_file_set_props(struct az_client *c, const char *path, int64_t size, const struct az_smb *smb,
		      const char *lease_id, struct az_stat *out);
/* kv: NULL-terminated array of alternating names and values. */
int az_file_set_metadata(struct az_client *c, const char *path, const char *const *kv,
			 const char *lease_id);
int az_file_delete(struct az_client *c, const char *path, const char *lease_id);

struct az_range {
	uint64_t start, end; /* inclusive, as the service reports them */
};
/* Get Range List; *out is malloc()ed, free() it. */
int az_file_list_ranges(struct az_client *c, const char *path, struct az_range **out, size_t *n);

/* Rename File / Rename Directory (atomic on the service).
 * replace: x-ms-file-rename-replace-if-exists. dst_lease: lease held on an
 * existing destination, or NULL. */
int az_rename(struct az_client *c, const char *src, const char *dst, int is_dir, int replace,
	      const char *src_lease, const char *dst_lease);
/* Same, and out (may be NULL) gets the renamed entry from the reply (ETag,
 * times, permission key, attributes, file id). The reply has no size: for a
 * file out->size is left as the caller set it before the call. No extra
 * request, except after a lost reply (then out is a HEAD of dst). */
int az_rename_ex(struct az_client *c, const char *src, const char *dst, int is_dir, int replace,
		 const char *src_lease, const char *dst_lease, struct az_stat *out);

/* Lease File. acquire (infinite, proposed may be NULL), release, change
 * (new id in proposed), break. lease_out receives the id where one is returned. */
enum az_lease_action { AZ_LEASE_ACQUIRE, AZ_LEASE_RELEASE, AZ_LEASE_CHANGE, AZ_LEASE_BREAK };
int az_file_lease(struct az_client *c, const char *path, enum az_lease_action action,
		  const char *lease_id, const char *proposed, char lease_out[AZ_LEASE_ID_MAX]);

#endif
