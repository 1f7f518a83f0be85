/* http_xfer.c: one signed HTTP attempt on a pooled curl handle.
 *
 * Builds the headers (x-ms-date, x-ms-version, Authorization from
 * az_auth_sign, no Expect, Content-Length on every PUT/DELETE, 0 included),
 * sets the handle's options afresh (curl_easy_reset keeps the live
 * connection), performs, and classifies the outcome for http.c's retry loop.
 * Request bodies are read from memory (READ/SEEK callbacks, so curl may
 * rewind); success bodies go to memory, the caller's buffer or an fd, error
 * bodies always to a small buffer. Runs on the calling thread; the handle and
 * struct xfer belong to this call alone.
 */
#include "http_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "azsharefs/errmap.h"
#include "conn.h"
#include "xmlparse.h"

/* ---- curl callbacks ---- */

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t left = x->req->body_len - x->body_pos;
	size_t n = size * nmemb;

	if (n > left)
		n = left;
	if (n)
		memcpy(buf, (const char *)x->req->body + x->body_pos, n);
	x->body_pos += n;
	return n;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
	struct xfer *x = ud;

	if (origin != SEEK_SET || off < 0 || (size_t)off > x->req->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->body_pos = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static int deliver(struct xfer *x, const char *ptr, size_t n)
{
	struct az_resp *r = x->resp;
	ssize_t w;
	size_t done = 0;

	switch (x->req->dst) {
	case AZ_DST_MEM:
		if (x->mem.len + n > AZ_MEM_BODY_MAX)
			return -EFBIG;
		az_sb_addn(&x->mem, ptr, n);
		return x->mem.oom ? -ENOMEM : 0;
	case AZ_DST_BUF:
		if (r->written + n > x->req->out_cap)
			return -EPROTO; /* more than the range we asked for */
		memcpy((char *)x->req->out_buf + r->written, ptr, n);
		r->written += n;
		return 0;
	case AZ_DST_FD:
		while (done < n) {
			w = pwrite(x->req->out_fd, ptr + done, n - done,
				   (off_t)(r->written + done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return w < 0 ? -errno : -EIO;
			done += (size_t)w;
		}
		r->written += n;
		return 0;
	}
	return -EINVAL;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	long status = 0;
	int rc;

	curl_easy_getinfo(x->cu, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status >= 300) {
		if (x->err.len + n <= AZ_ERR_BODY_MAX)
			az_sb_addn(&x->err, ptr, n);
		return n;
	}
	rc = deliver(x, ptr, n);
	if (rc < 0) {
		x->err_rc = rc;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	return n;
}

static size_t on_header(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		az_hdrs_clear(&x->resp->hdrs); /* a new (final or interim) reply */
		return n;
	}
	if (az_hdrs_add_line(&x->resp->hdrs, buf, n) < 0) {
		x->err_rc = -ENOMEM;
		return 0;
	}
	return n;
}

/* ---- one attempt ---- */

static struct curl_slist *slist_add(struct curl_slist *l, const char *name, const char *value,
				    int *bad)
{
	struct az_sb b;
	struct curl_slist *n;

	az_sb_init(&b);
	az_sb_add(&b, name);
	az_sb_add(&b, *value ? ": " : ";");
	az_sb_add(&b, value);
	n = b.oom ? NULL : curl_slist_append(l, b.s);
	az_sb_release(&b);
	if (!n) {
		*bad = 1;
		return l;
	}
	return n;
}

/* Date, version, trailing dots kept, Content-Length (signed, set by curl),
 * Authorization. */
static int build_headers(struct az_http *h, const struct az_req *req, const char *upath,
			 struct curl_slist **out)
{
	struct az_hdr all[AZ_REQ_MAX_HDRS + 4];
	char date[64], clen[32], auth[512];
	struct curl_slist *l = NULL;
	size_t n = 0, i;
	int bad = 0, rc;

	az_auth_date(date);
	snprintf(clen, sizeof(clen), "%zu", req->body_len);
	for (i = 0; i < req->nhdrs; i++)
		all[n++] = req->hdrs[i];
	all[n++] = (struct az_hdr){"x-ms-date", date};
	all[n++] = (struct az_hdr){"x-ms-version", AZ_API_VERSION};
	/* Names are taken literally: the service would otherwise trim a
	 * trailing '.' from every path component (version 2022-11-02 on). */
	if (!req->share_level)
		all[n++] = (struct az_hdr){"x-ms-allow-trailing-dot", "true"};
	for (i = 0; i < n; i++)
		l = slist_add(l, all[i].name, all[i].value, &bad);
	if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "DELETE") == 0)
		all[n++] = (struct az_hdr){"Content-Length", clen};
	if (h->conn->key) {
		rc = az_auth_sign(h->conn, req->method, upath, req->query, all, n, auth,
				  sizeof(auth));
		if (rc < 0) {
			curl_slist_free_all(l);
			return rc;
		}
		l = slist_add(l, "Authorization", auth, &bad);
	}
	l = slist_add(l, "Accept", "application/xml", &bad);
	/* "Name:" without a value removes a header curl would add. */
	if (!bad) {
		struct curl_slist *n = curl_slist_append(l, "Expect:");

		bad = !n;
		l = n ? n : l;
	}
	if (bad) {
		curl_slist_free_all(l);
		return -ENOMEM;
	}
	*out = l;
	return 0;
}

static void set_method(CURL *cu, struct az_req *req, struct xfer *x)
{
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(cu, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
		return;
	}
	/* PUT and DELETE always carry a Content-Length, 0 included. */
	curl_easy_setopt(cu, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(cu, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
	curl_easy_setopt(cu, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(cu, CURLOPT_READDATA, x);
	curl_easy_setopt(cu, CURLOPT_SEEKFUNCTION, on_seek);
	curl_easy_setopt(cu, CURLOPT_SEEKDATA, x);
	if (strcmp(req->method, "PUT") != 0)
		curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, req->method);
}

static void set_options(struct az_http *h, CURL *cu, struct xfer *x, const char *url,
			struct curl_slist *hl, char *errbuf)
{
	curl_easy_reset(cu);
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(cu, CURLOPT_SHARE, h->sh);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cu, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(cu, CURLOPT_USERAGENT, "azsharefs/" AZSF_VERSION);
	curl_easy_setopt(cu, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, h->connect_ms);
	curl_easy_setopt(cu, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(cu, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file)
		curl_easy_setopt(cu, CURLOPT_CAINFO, h->ca_file);
	/* Bodies are at most 4 MiB (or one listing page): one deadline per
	 * attempt. A whole-file download may be any size: it only has to keep
	 * moving (1 KiB/s over the op timeout). */
	if (x->req->dst == AZ_DST_FD) {
		curl_easy_setopt(cu, CURLOPT_LOW_SPEED_LIMIT, AZ_LOW_SPEED_BPS);
		curl_easy_setopt(cu, CURLOPT_LOW_SPEED_TIME,
				 h->op_ms / 1000 > 0 ? h->op_ms / 1000 : 1);
	} else {
		curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, h->op_ms);
	}
	set_method(cu, x->req, x);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cu, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, errbuf);
}

/* Transport errors: errno, and whether to retry / whether the request may
 * have been acted upon. */
static int classify_curl(struct az_http *h, CURLcode cc, struct fail *f)
{
	int replied = atomic_load(&h->ever_replied);

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		f->retryable = replied;
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		f->retryable = replied;
		return -EHOSTUNREACH;
	case CURLE_SSL_CONNECT_ERROR:
		f->retryable = 1;
		return -ECONNRESET;
	case CURLE_OPERATION_TIMEDOUT:
		f->retryable = 1;
		f->ambiguous = 1;
		return -ETIMEDOUT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		f->retryable = 1;
		f->ambiguous = 1;
		return -ECONNRESET;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
		return -EPROTO; /* never retried: the peer is not who we expect */
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static void error_code(struct az_resp *r, const char *body, size_t len)
{
	const char *c = az_hdrs_get(&r->hdrs, "x-ms-error-code");

	r->code[0] = '\0';
	if (c && *c) {
		snprintf(r->code, sizeof(r->code), "%s", c);
		return;
	}
	/* Only the code: the message (which may quote a signature, see
	 * AuthenticationErrorDetail) is neither needed nor logged. */
	if (len && az_xml_parse_error(body, len, r->code, sizeof(r->code), NULL, 0) < 0)
		r->code[0] = '\0';
}

/* Classifies a finished exchange with an HTTP status. */
static int classify_status(struct az_req *req, struct az_resp *resp, struct xfer *x, struct fail *f)
{
	long s = resp->status;

	if ((s >= 200 && s < 300) || (req->accept_status && s == req->accept_status)) {
		if (s < 200 || s >= 300)
			error_code(resp, x->err.s, x->err.len);
		return 0;
	}
	error_code(resp, x->err.s, x->err.len);
	f->retryable = az_err_retryable(s, resp->code);
	f->ambiguous = s == 500 || s == 502 || s == 504;
	f->retry_after_ms =
	    az_retry_after_ms(az_hdrs_get(&resp->hdrs, "Retry-After"), (long long)time(NULL));
	return az_errmap(s, resp->code);
}

static void attempt_reset(struct xfer *x, struct az_resp *resp)
{
	az_hdrs_clear(&resp->hdrs);
	resp->status = 0;
	resp->code[0] = '\0';
	resp->written = 0;
	x->body_pos = 0;
	x->err_rc = 0;
	az_sb_release(&x->mem);
	az_sb_release(&x->err);
}

int az_http_attempt(struct az_http *h, struct xfer *x, const char *upath, const char *url,
		    struct fail *f)
{
	struct curl_slist *hl = NULL;
	struct az_resp *resp = x->resp;
	int rc;

	memset(f, 0, sizeof(*f));
	f->retry_after_ms = -1;
	attempt_reset(x, resp);
	rc = build_headers(h, x->req, upath, &hl);
	if (rc < 0)
		return rc;
	set_options(h, x->cu, x, url, hl, f->errbuf);
	f->cc = curl_easy_perform(x->cu);
	atomic_fetch_add(&h->requests, 1);
	curl_easy_getinfo(x->cu, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_slist_free_all(hl);
	if (resp->status > 0)
		atomic_store(&h->ever_replied, 1);
	if (x->err_rc < 0)
		return x->err_rc; /* local failure (fd, memory): not the network's */
	if (f->cc != CURLE_OK) {
		resp->status = 0;
		return classify_curl(h, f->cc, f);
	}
	return classify_status(x->req, resp, x, f);
}
