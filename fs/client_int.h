/* client_int.h: what client.c and client_file.c share (fs/ internal). */
#ifndef AZSF_CLIENT_INT_H
#define AZSF_CLIENT_INT_H

#include "azsharefs/client.h"
#include "conn.h"
#include "http.h"

struct az_client {
	struct az_conn conn; /* read-only after init */
	char *share;
	struct az_http *http; /* thread-safe */
};

/* Formatted SMB property headers for one request (values live here). */
struct az_smb_vals {
	char attrs[200];
	char mtime[40];
	char btime[40];
	char ctime[40];
};

/* Adds x-ms-file-permission(-key), -attributes and the times to r.
 * create: defaults inherit/None|Directory/now; else preserve. */
int az_smb_headers(struct az_req *r, const struct az_smb *smb, int create, int is_dir,
		   struct az_smb_vals *v);

/* The reply headers of r into out: filled afresh (az_stat_from_hdrs with
 * is_dir, size_from_cl) or, with update, updated in place
 * (az_stat_update_from_hdrs). A malformed header is logged, naming r's
 * operation and path, and gives -EPROTO. */
int az_client_stat(const struct az_req *r, const struct az_resp *resp, int update, int is_dir,
		   int size_from_cl, struct az_stat *out);

/* Runs r; on success and when out != NULL fills it from the reply headers. */
int az_client_run(struct az_client *c, struct az_req *r, int is_dir, int size_from_cl,
		  struct az_stat *out);

/* Runs r (a file operation); on success updates out (may be NULL) in place
 * with the x-ms-file-* / ETag headers the reply carries, keeping the
 * caller's value of every other field (see az_stat_update_from_hdrs). */
int az_client_run_update(struct az_client *c, struct az_req *r, struct az_stat *out);

/* HEAD of a file or directory. */
int az_client_head(struct az_client *c, const char *path, int is_dir, struct az_stat *out);

/* x-ms-meta-<name>: value for each pair of kv (NULL-terminated, alternating
 * names and values); the built names live in *store until az_meta_free. */
int az_meta_headers(struct az_req *r, const char *const *kv, char ***store);
void az_meta_free(char **store);

/* A random lease id (UUID v4 text). */
void az_lease_id_new(char out[AZ_LEASE_ID_MAX]);

#endif
