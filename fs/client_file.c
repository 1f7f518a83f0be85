/* client_file.c: file operations, rename and leases of the REST client
 * (include/azsharefs/client.h). Stateless: every function may run on any
 * thread; see client.c for the object and http.c for retries.
 *
 * Lost replies (an earlier attempt may have been applied by the service):
 * - create file, put range, clear range, set properties/metadata replace
 *   state with the same values: plainly idempotent, retried as they are;
 * - delete file accepts 404 ResourceNotFound;
 * - rename accepts 404 ResourceNotFound on the source when the destination
 *   now exists (HEAD), and 409 ResourceAlreadyExists (no replace) when the
 *   source is gone and the destination exists;
 * - lease acquire always proposes an id (a fresh UUID when the caller gives
 *   none), so a retried acquire that meets 409 LeaseAlreadyPresent is taken
 *   as ours; release and break accept 409 LeaseNotPresentWithLeaseOperation;
 *   change accepts 409 LeaseIdMismatchWithLeaseOperation (the id already
 *   moved to the proposed one).
 * One user-visible call is one request: replies that lack the size (Put
 * Range, Set File Properties, Rename) fill the out-struct from their
 * headers and leave the size to the caller, who knows it; only a lost
 * reply costs the HEADs that establish what happened.
 * Bodies carry Content-MD5, so a damaged upload is refused, not stored.
 * A whole-file download that fails mid-way is retried from byte 0 (pwrite
 * from offset 0, ftruncate to the final length), so the fd and *out always
 * describe one version of the file.
 */
#include "client_int.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "xmlparse.h"

static int md5_b64(const void *buf, size_t len, char out[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(buf, len, md, &mdlen, EVP_md5(), NULL) || mdlen != 16)
		return -EIO;
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	return 0;
}

static void range_value(char *out, size_t outlen, uint64_t off, uint64_t len)
{
	snprintf(out, outlen, "bytes=%llu-%llu", (unsigned long long)off,
		 (unsigned long long)(off + len - 1));
}

int az_file_create(struct az_client *c, const char *path, uint64_t size, const void *body,
		   size_t body_len, const struct az_smb *smb, const char *lease_id,
		   struct az_stat *out)
{
	struct az_req r;
	struct az_smb_vals v;
	char clen[32], md5[32];
	int rc;

	if (body_len > 0 && (body_len != size || body_len > AZ_MAX_RANGE || !body))
		return -EINVAL;
	az_req_init(&r, "PUT", "create file", path);
	snprintf(clen, sizeof(clen), "%llu", (unsigned long long)size);
	az_req_hdr(&r, "x-ms-type", "file");
	az_req_hdr(&r, "x-ms-content-length", clen);
	if (lease_id)
		az_req_hdr(&r, "x-ms-lease-id", lease_id);
	if (body_len > 0) {
		rc = md5_b64(body, body_len, md5);
		if (rc < 0)
			return rc;
		az_req_hdr(&r, "Content-MD5", md5);
		r.body = body;
		r.body_len = body_len;
	}
	rc = az_smb_headers(&r, smb, 1, 0, &v);
	if (rc < 0)
		return rc;
	rc = az_client_run(c, &r, 0, 0, out);
	if (rc == 0 && out)
		out->size = size;
	return rc;
}

int az_file_get_props(struct az_client *c, const char *path, struct az_stat *out)
{
	return az_client_head(c, path, 0, out);
}

int az_file_read(struct az_client *c, const char *path, uint64_t off, size_t len, void *buf,
		 size_t *got, struct az_stat *out)
{
	struct az_req r;
	struct az_resp resp;
	char range[64];
	int rc;

	*got = 0;
	if (len == 0)
		return out ? az_client_head(c, path, 0, out) : 0;
	az_req_init(&r, "GET", "read file", path);
	range_value(range, sizeof(range), off, len);
	az_req_hdr(&r, "x-ms-range", range);
	r.dst = AZ_DST_BUF;
	r.out_buf = buf;
	r.out_cap = len;
	r.accept_status = 416; /* at or past EOF: nothing to read */
	rc = az_http_do(c->http, &r, &resp);
	if (rc < 0)
		goto out;
	if (resp.status == 416) {
		rc = out ? az_client_head(c, path, 0, out) : 0;
		goto out;
	}
	*got = (size_t)resp.written;
	if (out)
		rc = az_client_stat(&r, &resp, 0, 0, 0, out);
out:
	az_resp_release(&resp);
	return rc;
}

int az_file_download(struct az_client *c, const char *path, int fd, struct az_stat *out)
{
	struct az_req r;
	struct az_resp resp;
	struct az_stat st;
	int rc;

	az_req_init(&r, "GET", "download file", path);
	r.dst = AZ_DST_FD;
	r.out_fd = fd;
	rc = az_http_do(c->http, &r, &resp);
	if (rc < 0)
		goto out;
	rc = az_client_stat(&r, &resp, 0, 0, 1, &st);
	if (rc < 0)
		goto out;
	if (st.size != resp.written) {
		az_err("download file '%s': got %llu bytes of %llu", path,
		       (unsigned long long)resp.written, (unsigned long long)st.size);
		rc = -EIO;
		goto out;
	}
	/* A longer old copy in fd must not survive past the new end. */
	if (ftruncate(fd, (off_t)resp.written) < 0 && errno != EINVAL) {
		rc = -errno;
		goto out;
	}
	if (out)
		*out = st;
out:
	az_resp_release(&resp);
	return rc;
}

int az_file_put_range_ex(struct az_client *c, const char *path, uint64_t off, const void *buf,
			 size_t len, const char *lease_id, unsigned flags, struct az_stat *out)
{
	struct az_req r;
	char range[64], md5[32];
	int rc;

	if (len == 0 || len > AZ_MAX_RANGE || !buf)
		return -EINVAL;
	rc = md5_b64(buf, len, md5);
	if (rc < 0)
		return rc;
	az_req_init(&r, "PUT", "put range", path);
	r.query = "comp=range";
	range_value(range, sizeof(range), off, len);
	az_req_hdr(&r, "x-ms-range", range);
	az_req_hdr(&r, "x-ms-write", "update");
	az_req_hdr(&r, "Content-MD5", md5);
	if (flags & AZ_PUT_KEEP_MTIME)
		az_req_hdr(&r, "x-ms-file-last-write-time", "preserve");
	if (lease_id)
		az_req_hdr(&r, "x-ms-lease-id", lease_id);
	r.body = buf;
	r.body_len = len;
	return az_client_run_update(c, &r, out);
}

int az_file_put_range(struct az_client *c, const char *path, uint64_t off, const void *buf,
		      size_t len, const char *lease_id, struct az_stat *out)
{
	return az_file_put_range_ex(c, path, off, buf, len, lease_id, 0, out);
}

int az_file_clear_range(struct az_client *c, const char *path, uint64_t off, uint64_t len,
			const char *lease_id)
{
	struct az_req r;
	char range[64];

	if (len == 0)
		return 0;
	az_req_init(&r, "PUT", "clear range", path);
	r.query = "comp=range";
	range_value(range, sizeof(range), off, len);
	az_req_hdr(&r, "x-ms-range", range);
	az_req_hdr(&r, "x-ms-write", "clear");
	if (lease_id)
		az_req_hdr(&r, "x-ms-lease-id", lease_id);
	return az_client_run(c, &r, 0, 0, NULL);
}

int az_file_set_props(struct az_client *c, const char *path, int64_t size, const struct az_smb *smb,
		      const char *lease_id, struct az_stat *out)
{
	struct az_req r;
	struct az_smb_vals v;
	char clen[32];
	uint64_t known;
	int rc;

	az_req_init(&r, "PUT", "set file properties", path);
	r.query = "comp=properties";
	if (size >= 0) {
		snprintf(clen, sizeof(clen), "%lld", (long long)size);
		az_req_hdr(&r, "x-ms-content-length", clen);
	}
	if (lease_id)
		az_req_hdr(&r, "x-ms-lease-id", lease_id);
	rc = az_smb_headers(&r, smb, 0, 0, &v);
	if (rc < 0)
		return rc;
	known = out ? out->size : 0;
	rc = az_client_run(c, &r, 0, 0, out);
	if (rc == 0 && out)
		out->size = size >= 0 ? (uint64_t)size : known;
	return rc;
}

int az_file_set_metadata(struct az_client *c, const char *path, const char *const *kv,
			 const char *lease_id)
{
	struct az_req r;
	char **store = NULL;
	int rc;

	az_req_init(&r, "PUT", "set file metadata", path);
	r.query = "comp=metadata";
	if (lease_id)
		az_req_hdr(&r, "x-ms-lease-id", lease_id);
	rc = az_meta_headers(&r, kv, &store);
	if (rc == 0)
		rc = az_client_run(c, &r, 0, 0, NULL);
	az_meta_free(store);
	return rc;
}

int az_file_delete(struct az_client *c, const char *path, const char *lease_id)
{
	struct az_req r;

	az_req_init(&r, "DELETE", "delete file", path);
	if (lease_id)
		az_req_hdr(&r, "x-ms-lease-id", lease_id);
	r.lost_ok_status = 404;
	r.lost_ok_code = "ResourceNotFound";
	return az_client_run(c, &r, 0, 0, NULL);
}

int az_file_list_ranges(struct az_client *c, const char *path, struct az_range **out, size_t *n)
{
	struct az_req r;
	struct az_resp resp;
	int rc;

	*out = NULL;
	*n = 0;
	az_req_init(&r, "GET", "list ranges", path);
	r.query = "comp=rangelist";
	rc = az_http_do(c->http, &r, &resp);
	if (rc == 0) {
		rc = az_xml_parse_ranges(resp.body ? resp.body : "", resp.body_len, out, n);
		if (rc < 0)
			az_err("list ranges '%s': malformed range list reply", path);
	}
	az_resp_release(&resp);
	return rc;
}

/* ---- rename ---- */

/* After a lost reply: the rename is done when src is gone and dst exists;
 * out (may be NULL) gets the HEAD of dst. */
static int rename_landed(struct az_client *c, const char *src, const char *dst, int is_dir,
			 struct az_stat *out)
{
	struct az_stat st;

	if (az_client_head(c, src, is_dir, &st) != -ENOENT)
		return 0;
	if (az_client_head(c, dst, is_dir, &st) != 0)
		return 0;
	if (out)
		*out = st;
	return 1;
}

static void rename_req(struct az_req *r, const char *source, const char *dst, int is_dir,
		       int replace, const char *src_lease, const char *dst_lease)
{
	az_req_init(r, "PUT", is_dir ? "rename directory" : "rename file", dst);
	r->query = is_dir ? "restype=directory&comp=rename" : "comp=rename";
	az_req_hdr(r, "x-ms-file-rename-source", source);
	az_req_hdr(r, "x-ms-source-allow-trailing-dot", "true");
	az_req_hdr(r, "x-ms-file-rename-replace-if-exists", replace ? "true" : "false");
	if (src_lease)
		az_req_hdr(r, "x-ms-source-lease-id", src_lease);
	if (dst_lease)
		az_req_hdr(r, "x-ms-destination-lease-id", dst_lease);
	r->lost_ok_status = 404;
	r->lost_ok_code = "ResourceNotFound";
}

int az_rename_ex(struct az_client *c, const char *src, const char *dst, int is_dir, int replace,
		 const char *src_lease, const char *dst_lease, struct az_stat *out)
{
	struct az_req r;
	struct az_resp resp;
	char *source = az_http_url(c->http, src, 1);
	uint64_t known = out ? out->size : 0;
	int rc;

	if (!source)
		return -ENOMEM;
	rename_req(&r, source, dst, is_dir, replace, src_lease, dst_lease);
	rc = az_http_do(c->http, &r, &resp);
	if ((rc == 0 && resp.lost_ok) || (rc == -EEXIST && resp.ambiguous && !replace)) {
		rc = rename_landed(c, src, dst, is_dir, out) ? 0 : (rc ? rc : -ENOENT);
		if (rc == 0)
			az_info("rename '%s' to '%s': reply lost, the rename is done", src, dst);
		else
			az_err("rename '%s' to '%s': %s", src, dst, strerror(-rc));
	} else if (rc == 0 && out) {
		rc = az_client_stat(&r, &resp, 0, is_dir, 0, out);
		if (rc == 0 && !is_dir)
			out->size = known;
	}
	az_resp_release(&resp);
	free(source);
	return rc;
}

int az_rename(struct az_client *c, const char *src, const char *dst, int is_dir, int replace,
	      const char *src_lease, const char *dst_lease)
{
	return az_rename_ex(c, src, dst, is_dir, replace, src_lease, dst_lease, NULL);
}

/* ---- leases ---- */

static const char *const lease_actions[] = {"acquire", "release", "change", "break"};

static void lease_lost_rule(struct az_req *r, enum az_lease_action action)
{
	r->lost_ok_status = 409;
	switch (action) {
	case AZ_LEASE_ACQUIRE:
		r->lost_ok_code = "LeaseAlreadyPresent";
		break;
	case AZ_LEASE_CHANGE:
		r->lost_ok_code = "LeaseIdMismatchWithLeaseOperation";
		break;
	default:
		r->lost_ok_code = "LeaseNotPresentWithLeaseOperation";
	}
}

int az_file_lease(struct az_client *c, const char *path, enum az_lease_action action,
		  const char *lease_id, const char *proposed, char lease_out[AZ_LEASE_ID_MAX])
{
	struct az_req r;
	struct az_resp resp;
	char fresh[AZ_LEASE_ID_MAX];
	const char *id;
	int rc;

	if ((unsigned)action > AZ_LEASE_BREAK)
		return -EINVAL;
	if ((action == AZ_LEASE_RELEASE || action == AZ_LEASE_CHANGE) && !lease_id)
		return -EINVAL;
	if (action == AZ_LEASE_CHANGE && !proposed)
		return -EINVAL;
	if (action == AZ_LEASE_ACQUIRE && !proposed) {
		az_lease_id_new(fresh);
		proposed = fresh;
	}
	az_req_init(&r, "PUT", "lease file", path);
	r.query = "comp=lease";
	az_req_hdr(&r, "x-ms-lease-action", lease_actions[action]);
	if (action == AZ_LEASE_ACQUIRE)
		az_req_hdr(&r, "x-ms-lease-duration", "-1");
	if (lease_id)
		az_req_hdr(&r, "x-ms-lease-id", lease_id);
	if (proposed && (action == AZ_LEASE_ACQUIRE || action == AZ_LEASE_CHANGE))
		az_req_hdr(&r, "x-ms-proposed-lease-id", proposed);
	lease_lost_rule(&r, action);
	rc = az_http_do(c->http, &r, &resp);
	if (rc == 0 && lease_out) {
		id = resp.lost_ok ? proposed : az_hdrs_get(&resp.hdrs, "x-ms-lease-id");
		snprintf(lease_out, AZ_LEASE_ID_MAX, "%s", id ? id : "");
	}
	az_resp_release(&resp);
	return rc;
}
