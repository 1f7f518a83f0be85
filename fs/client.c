/* client.c: the REST client's life cycle, share, permission and directory
 * operations (include/azsharefs/client.h); file operations are in
 * client_file.c, the HTTP machinery in http.c.
 *
 * struct az_client is immutable after az_client_init (connection string,
 * share name) apart from the thread-safe struct az_http it owns, so every
 * operation may run on any thread at once. Each operation builds one
 * struct az_req (headers point at locals that outlive the call) and lets
 * az_http_do sign, send, retry and map errors.
 *
 * Non-idempotent operations and lost replies (see http.c): create directory
 * and create share accept "already exists", delete directory and delete
 * share accept "not found", when an earlier attempt of the same call may
 * have reached the service. The directory create then HEADs the directory
 * to fill the reply.
 */
#include "client_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azsharefs/log.h"
#include "client_fmt.h"
#include "xmlparse.h"

int az_client_init(struct az_client **out, const struct az_client_opts *opts)
{
	struct az_http_opts ho;
	struct az_client *c = NULL;
	char err[256] = "";
	int rc;

	*out = NULL;
	if (!opts || !opts->conn_str || !opts->share || !*opts->share) {
		az_err("client: a connection string and a share name are required");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rc = az_conn_parse(&c->conn, opts->conn_str, err, sizeof(err));
	if (rc < 0) {
		az_err("connection string: %s", err[0] ? err : "not valid");
		free(c);
		return rc;
	}
	c->share = strdup(opts->share);
	if (!c->share) {
		rc = -ENOMEM;
		goto out;
	}
	memset(&ho, 0, sizeof(ho));
	ho.conn = &c->conn;
	ho.share = c->share;
	ho.ca_file = opts->ca_file;
	ho.connect_timeout_ms = opts->connect_timeout_ms;
	ho.op_timeout_ms = opts->op_timeout_ms;
	ho.retry_budget_ms = opts->retry_budget_ms;
	ho.max_conns = opts->max_conns;
	ho.quiet = opts->quiet;
	rc = az_http_init(&c->http, &ho);
	if (rc < 0) {
		az_err("client: cannot set up http for endpoint '%s': %s", c->conn.endpoint,
		       strerror(-rc));
		goto out;
	}
	*out = c;
	c = NULL;
out:
	az_client_free(c);
	return rc;
}

void az_client_free(struct az_client *c)
{
	if (!c)
		return;
	az_http_free(c->http);
	az_conn_release(&c->conn);
	free(c->share);
	free(c);
}

const char *az_client_account(const struct az_client *c)
{
	return c->conn.account;
}

const char *az_client_endpoint(const struct az_client *c)
{
	return c->conn.endpoint;
}

void az_client_stats_get(struct az_client *c, struct az_client_stats *out)
{
	uint64_t req = 0, ret = 0;

	az_http_stats(c->http, &req, &ret);
	out->requests = req;
	out->retries = ret;
}

/* ---- shared helpers ---- */

static int add_time(struct az_req *r, const char *name, int set, const struct timespec *t,
		    const char *dflt, char buf[40])
{
	if (!set)
		return dflt ? az_req_hdr(r, name, dflt) : 0;
	az_time_format_iso(t, buf);
	return az_req_hdr(r, name, buf);
}

static int add_perm(struct az_req *r, const struct az_smb *smb, int create)
{
	if (smb && smb->perm_key && *smb->perm_key)
		return az_req_hdr(r, "x-ms-file-permission-key", smb->perm_key);
	if (smb && smb->perm_sddl && *smb->perm_sddl) {
		int rc = az_req_hdr(r, "x-ms-file-permission", smb->perm_sddl);

		return rc ? rc : az_req_hdr(r, "x-ms-file-permission-format", "sddl");
	}
	return az_req_hdr(r, "x-ms-file-permission", create ? "inherit" : "preserve");
}

int az_smb_headers(struct az_req *r, const struct az_smb *smb, int create, int is_dir,
		   struct az_smb_vals *v)
{
	const char *keep = create ? "now" : "preserve";
	const struct az_smb none = {0};
	int rc;

	if (!smb)
		smb = &none;
	rc = add_perm(r, smb, create);
	if (rc == 0 && (smb->set_attrs || create)) {
		uint32_t a = smb->set_attrs ? smb->attrs : 0;

		if (is_dir)
			a |= AZ_FATTR_DIRECTORY;
		rc = az_attrs_format(a, v->attrs, sizeof(v->attrs));
		if (rc == 0)
			rc = az_req_hdr(r, "x-ms-file-attributes", v->attrs);
	} else if (rc == 0) {
		rc = az_req_hdr(r, "x-ms-file-attributes", "preserve");
	}
	if (rc == 0)
		rc = add_time(r, "x-ms-file-creation-time", smb->set_btime, &smb->btime, keep,
			      v->btime);
	if (rc == 0)
		rc = add_time(r, "x-ms-file-last-write-time", smb->set_mtime, &smb->mtime, keep,
			      v->mtime);
	if (rc == 0)
		rc = add_time(r, "x-ms-file-change-time", smb->set_ctime, &smb->ctime, NULL,
			      v->ctime);
	return rc;
}

int az_client_stat(const struct az_req *r, const struct az_resp *resp, int update, int is_dir,
		   int size_from_cl, struct az_stat *out)
{
	int rc = update ? az_stat_update_from_hdrs(&resp->hdrs, out)
			: az_stat_from_hdrs(&resp->hdrs, is_dir, size_from_cl, out);

	if (rc < 0)
		az_err("%s '%s': malformed reply headers", r->op, r->path);
	return rc;
}

static int client_run(struct az_client *c, struct az_req *r, int update, int is_dir,
		      int size_from_cl, struct az_stat *out)
{
	struct az_resp resp;
	int rc;

	rc = az_http_do(c->http, r, &resp);
	if (rc == 0 && out)
		rc = az_client_stat(r, &resp, update, is_dir, size_from_cl, out);
	az_resp_release(&resp);
	return rc;
}

int az_client_run(struct az_client *c, struct az_req *r, int is_dir, int size_from_cl,
		  struct az_stat *out)
{
	return client_run(c, r, 0, is_dir, size_from_cl, out);
}

int az_client_run_update(struct az_client *c, struct az_req *r, struct az_stat *out)
{
	return client_run(c, r, 1, 0, 0, out);
}

int az_client_head(struct az_client *c, const char *path, int is_dir, struct az_stat *out)
{
	struct az_req r;

	az_req_init(&r, "HEAD", is_dir ? "get directory properties" : "get file properties", path);
	if (is_dir)
		r.query = "restype=directory";
	return az_client_run(c, &r, is_dir, 1, out);
}

/* ---- share ---- */

static void share_req(struct az_client *c, struct az_req *r, const char *method, const char *op,
		      const char *query)
{
	az_req_init(r, method, op, c->share);
	r->share_level = 1;
	r->query = query;
}

int az_share_create(struct az_client *c, uint64_t quota_gib)
{
	struct az_req r;
	char quota[32];

	share_req(c, &r, "PUT", "create share", "restype=share");
	if (quota_gib) {
		snprintf(quota, sizeof(quota), "%llu", (unsigned long long)quota_gib);
		az_req_hdr(&r, "x-ms-share-quota", quota);
	}
	r.lost_ok_status = 409;
	r.lost_ok_code = "ShareAlreadyExists";
	return az_client_run(c, &r, 0, 0, NULL);
}

int az_share_get_props(struct az_client *c, struct az_share_props *out)
{
	struct az_req r;
	struct az_resp resp;
	const char *q, *etag;
	int rc;

	share_req(c, &r, "GET", "get share properties", "restype=share");
	rc = az_http_do(c->http, &r, &resp);
	if (rc < 0)
		goto out;
	memset(out, 0, sizeof(*out));
	q = az_hdrs_get(&resp.hdrs, "x-ms-share-quota");
	etag = az_hdrs_get(&resp.hdrs, "ETag");
	if (q)
		out->quota_gib = strtoull(q, NULL, 10);
	if (etag)
		snprintf(out->etag, sizeof(out->etag), "%s", etag);
out:
	az_resp_release(&resp);
	return rc;
}

int az_share_get_usage(struct az_client *c, uint64_t *usage_bytes)
{
	struct az_req r;
	struct az_resp resp;
	int rc;

	share_req(c, &r, "GET", "get share stats", "restype=share&comp=stats");
	rc = az_http_do(c->http, &r, &resp);
	if (rc == 0) {
		rc = az_xml_find_u64(resp.body, resp.body_len, "ShareUsageBytes", usage_bytes);
		if (rc < 0)
			az_err("get share stats '%s': reply without a valid ShareUsageBytes",
			       c->share);
	}
	az_resp_release(&resp);
	return rc;
}

int az_share_delete(struct az_client *c)
{
	struct az_req r;

	share_req(c, &r, "DELETE", "delete share", "restype=share");
	r.lost_ok_status = 404;
	r.lost_ok_code = "ShareNotFound";
	return az_client_run(c, &r, 0, 0, NULL);
}

/* ---- permissions ---- */

int az_perm_create(struct az_client *c, const char *sddl, char key[AZ_PERMKEY_MAX])
{
	struct az_req r;
	struct az_resp resp;
	char *body = az_perm_json_build(sddl);
	const char *k;
	int rc;

	memset(&resp, 0, sizeof(resp));
	if (!body)
		return -ENOMEM;
	share_req(c, &r, "PUT", "create permission", "restype=share&comp=filepermission");
	az_req_hdr(&r, "Content-Type", "application/json");
	r.body = body;
	r.body_len = strlen(body);
	rc = az_http_do(c->http, &r, &resp);
	if (rc < 0)
		goto out;
	k = az_hdrs_get(&resp.hdrs, "x-ms-file-permission-key");
	if (!k || !*k || snprintf(key, AZ_PERMKEY_MAX, "%s", k) >= AZ_PERMKEY_MAX) {
		az_err("create permission '%s': reply without a valid permission key", c->share);
		rc = -EPROTO;
	}
out:
	az_resp_release(&resp);
	free(body);
	return rc;
}

int az_perm_get(struct az_client *c, const char *key, char **sddl_out)
{
	struct az_req r;
	struct az_resp resp;
	int rc;

	*sddl_out = NULL;
	share_req(c, &r, "GET", "get permission", "restype=share&comp=filepermission");
	az_req_hdr(&r, "x-ms-file-permission-key", key);
	az_req_hdr(&r, "x-ms-file-permission-format", "sddl");
	rc = az_http_do(c->http, &r, &resp);
	if (rc == 0) {
		rc = az_json_get_string(resp.body ? resp.body : "", resp.body_len, "permission",
					sddl_out);
		if (rc < 0) {
			az_err("get permission '%s': reply is not the expected json", c->share);
			rc = rc == -ENOMEM ? rc : -EPROTO;
		}
	}
	az_resp_release(&resp);
	return rc;
}

/* ---- directories ---- */

int az_dir_create(struct az_client *c, const char *path, const struct az_smb *smb,
		  struct az_stat *out)
{
	struct az_req r;
	struct az_resp resp;
	struct az_smb_vals v;
	int rc;

	az_req_init(&r, "PUT", "create directory", path);
	r.query = "restype=directory";
	rc = az_smb_headers(&r, smb, 1, 1, &v);
	if (rc < 0)
		return rc;
	r.lost_ok_status = 409;
	r.lost_ok_code = "ResourceAlreadyExists";
	rc = az_http_do(c->http, &r, &resp);
	if (rc == 0 && resp.lost_ok) {
		az_info("create directory '%s': reply lost, the directory exists: done", path);
		if (out)
			rc = az_client_head(c, path, 1, out);
	} else if (rc == 0 && out) {
		rc = az_client_stat(&r, &resp, 0, 1, 0, out);
	}
	az_resp_release(&resp);
	return rc;
}

int az_dir_get_props(struct az_client *c, const char *path, struct az_stat *out)
{
	return az_client_head(c, path, 1, out);
}

int az_dir_delete(struct az_client *c, const char *path)
{
	struct az_req r;

	az_req_init(&r, "DELETE", "delete directory", path);
	r.query = "restype=directory";
	r.lost_ok_status = 404;
	r.lost_ok_code = "ResourceNotFound";
	return az_client_run(c, &r, 1, 0, NULL);
}

int az_meta_headers(struct az_req *r, const char *const *kv, char ***store)
{
	size_t n = 0, i;
	int rc = 0;

	*store = NULL;
	while (kv && kv[2 * n] && kv[2 * n + 1])
		n++;
	*store = calloc(n + 1, sizeof(char *));
	if (!*store)
		return -ENOMEM;
	for (i = 0; i < n && rc == 0; i++) {
		size_t len = strlen(kv[2 * i]) + sizeof("x-ms-meta-");

		(*store)[i] = malloc(len);
		if (!(*store)[i])
			return -ENOMEM;
		snprintf((*store)[i], len, "x-ms-meta-%s", kv[2 * i]);
		rc = az_req_hdr(r, (*store)[i], kv[2 * i + 1]);
	}
	return rc;
}

void az_meta_free(char **store)
{
	size_t i;

	for (i = 0; store && store[i]; i++)
		free(store[i]);
	free(store);
}

int az_dir_set_metadata(struct az_client *c, const char *path, const char *const *kv)
{
	struct az_req r;
	char **store = NULL;
	int rc;

	az_req_init(&r, "PUT", "set directory metadata", path);
	r.query = "restype=directory&comp=metadata";
	rc = az_meta_headers(&r, kv, &store);
	if (rc == 0)
		rc = az_client_run(c, &r, 1, 0, NULL);
	az_meta_free(store);
	return rc;
}

int az_dir_set_props(struct az_client *c, const char *path, const struct az_smb *smb,
		     struct az_stat *out)
{
	struct az_req r;
	struct az_smb_vals v;
	int rc;

	az_req_init(&r, "PUT", "set directory properties", path);
	r.query = "restype=directory&comp=properties";
	rc = az_smb_headers(&r, smb, 0, 1, &v);
	if (rc < 0)
		return rc;
	return az_client_run(c, &r, 1, 0, out);
}

/* ---- listing ---- */

struct list_wrap {
	az_list_cb cb;
	void *arg;
	int stop; /* the caller's non-zero return */
};

static int list_entry(void *arg, const char *name, const struct az_stat *st)
{
	struct list_wrap *w = arg;

	w->stop = w->cb(w->arg, name, st);
	return w->stop;
}

static char *list_query(const char *prefix, int max, const char *marker)
{
	struct az_sb b;

	az_sb_init(&b);
	az_sb_addf(&b,
		   "restype=directory&comp=list&include=Timestamps,ETag,Attributes,"
		   "PermissionKey&maxresults=%d",
		   max);
	if (prefix && *prefix) {
		az_sb_add(&b, "&prefix=");
		az_sb_add_enc(&b, prefix, 0);
	}
	if (marker && *marker) {
		az_sb_add(&b, "&marker=");
		az_sb_add_enc(&b, marker, 0);
	}
	return az_sb_take(&b);
}

/* One page; *marker is replaced by the next marker (NULL at the end). */
static int list_page(struct az_client *c, const char *path, const char *prefix, int max,
		     char **marker, struct list_wrap *w)
{
	struct az_req r;
	struct az_resp resp;
	char *query = list_query(prefix, max, *marker);
	char *next = NULL;
	int rc;

	memset(&resp, 0, sizeof(resp));
	if (!query)
		return -ENOMEM;
	az_req_init(&r, "GET", "list directory", path);
	r.query = query;
	az_req_hdr(&r, "x-ms-file-extended-info", "true");
	rc = az_http_do(c->http, &r, &resp);
	if (rc < 0)
		goto out;
	rc = az_xml_parse_list(resp.body ? resp.body : "", resp.body_len, list_entry, w, &next);
	if (w->stop) {
		rc = w->stop;
		goto out;
	}
	if (rc < 0)
		az_err("list directory '%s': malformed listing reply", path);
out:
	free(*marker);
	*marker = rc == 0 ? next : NULL;
	if (rc != 0)
		free(next);
	az_resp_release(&resp);
	free(query);
	return rc;
}

int az_dir_list(struct az_client *c, const char *path, const char *prefix, int max_per_page,
		az_list_cb cb, void *arg)
{
	struct list_wrap w = {cb, arg, 0};
	char *marker = NULL;
	int rc;

	if (max_per_page <= 0)
		max_per_page = AZ_DEFAULT_LIST_MAX;
	do {
		rc = list_page(c, path, prefix, max_per_page, &marker, &w);
	} while (rc == 0 && marker);
	free(marker);
	return rc;
}
