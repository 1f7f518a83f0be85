/* http.c: signed HTTP exchanges with the file service, pooled and retried.
 *
 * Owns a pool of libcurl easy handles (struct az_http.idle, at most
 * max_conns, protected by az_http.lock; az_http.cond wakes waiters). A
 * handle keeps its own HTTP/1.1 keep-alive connection between calls, so
 * each concurrent caller reuses one TCP/TLS connection; DNS and TLS
 * sessions are shared through a CURLSH with its own per-kind locks. Any
 * thread may call az_http_do; a call borrows one handle for all its attempts
 * and gives it back. Counters are atomics.
 *
 * Every attempt is signed afresh (new x-ms-date) and resends the body from
 * memory (READ/SEEK callbacks). Reply bodies go to a growable buffer, the
 * caller's buffer or straight to an fd; error bodies always go to a small
 * buffer so a 4xx never lands in a file.
 *
 * Retries: az_err_retryable() statuses
 * and codes, plus transport errors (timeouts, resets, empty replies),
 * with full-jitter exponential backoff (100 ms doubling, cap 4 s) or the
 * service's Retry-After when longer, while opts.retry_budget_ms lasts.
 * "Connection refused" and DNS failures are retried only once this client
 * has had a reply from the service: at mount time they mean a wrong
 * endpoint (fail fast, clear message); later they mean a restarting
 * front end or a network blip. TLS verification failures are never retried.
 *
 * Lost replies: an attempt that failed after the request may have reached
 * the service (timeouts, resets, empty replies, 500/502/504) marks the call
 * ambiguous; a request may declare the status+code that then means "the
 * earlier attempt did it" (create dir -> 409 ResourceAlreadyExists, delete
 * -> 404 ResourceNotFound, ...), which counts as success with
 * resp->lost_ok set so client.c can finish the job (e.g. HEAD the result).
 */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "azsharefs/errmap.h"
#include "azsharefs/log.h"
#include "conn.h"
#include "xmlparse.h"

#define AZ_BACKOFF_BASE_MS 100
#define AZ_BACKOFF_CAP_MS 4000
#define AZ_MEM_BODY_MAX (64u * 1024u * 1024u) /* listing pages, XML, JSON */
#define AZ_ERR_BODY_MAX (64u * 1024u)
#define AZ_LOW_SPEED_BPS 1024L

struct az_http {
	const struct az_conn *conn; /* read-only after init */
	char *share_enc;
	char *origin;  /* scheme://host[:port] */
	char *prefix;  /* "/account" for path-style endpoints, else "" */
	char *ca_file;
	long connect_ms, op_ms, budget_ms;
	int max;
	CURLSH *sh;
	pthread_mutex_t sh_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* signalled when a handle is returned */
	CURL **idle;             /* protected by lock */
	int nidle;               /* protected by lock */
	int nlive;               /* handles created, protected by lock */
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t retries;
	atomic_int ever_replied; /* a reply (any status) was received */
};

/* State of one attempt, shared with the curl callbacks. */
struct xfer {
	CURL *cu;
	struct az_req *req;
	struct az_resp *resp;
	size_t body_pos;   /* request body read position */
	struct az_sb mem;  /* AZ_DST_MEM success body */
	struct az_sb err;  /* error body */
	int err_rc;        /* a local failure inside a callback */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t rnd64(void)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint64_t)now_ms() * 6364136223846793005ULL + (uint64_t)getpid();
	return r;
}

/* ---- share locks ---- */

static void sh_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
	struct az_http *hp = ud;

	(void)h;
	(void)access;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&hp->sh_locks[data]);
}

static void sh_unlock(CURL *h, curl_lock_data data, void *ud)
{
	struct az_http *hp = ud;

	(void)h;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&hp->sh_locks[data]);
}

/* ---- init / free ---- */

static int split_endpoint(struct az_http *h, const char *ep)
{
	const char *p = strstr(ep, "://");
	const char *slash;

	if (!p)
		return -EINVAL;
	slash = strchr(p + 3, '/');
	if (!slash)
		slash = ep + strlen(ep);
	h->origin = strndup(ep, (size_t)(slash - ep));
	h->prefix = strdup(slash);
	if (!h->origin || !h->prefix)
		return -ENOMEM;
	while (*h->prefix && h->prefix[strlen(h->prefix) - 1] == '/')
		h->prefix[strlen(h->prefix) - 1] = '\0';
	return 0;
}

static int http_setup(struct az_http *h, const struct az_http_opts *o)
{
	struct az_sb b;
	int i;

	h->conn = o->conn;
	h->connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
	h->op_ms = o->op_timeout_ms > 0 ? o->op_timeout_ms : 60000;
	h->budget_ms = o->retry_budget_ms > 0 ? o->retry_budget_ms : 60000;
	h->max = o->max_conns > 0 ? o->max_conns : 16;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->sh_locks[i], NULL);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	h->idle = calloc((size_t)h->max, sizeof(*h->idle));
	if (!h->idle)
		return -ENOMEM;
	if (o->ca_file) {
		h->ca_file = strdup(o->ca_file);
		if (!h->ca_file)
			return -ENOMEM;
	}
	az_sb_init(&b);
	az_sb_add_enc(&b, o->share, 0);
	h->share_enc = az_sb_take(&b);
	if (!h->share_enc)
		return -ENOMEM;
	return split_endpoint(h, o->conn->endpoint);
}

int az_http_init(struct az_http **out, const struct az_http_opts *o)
{
	struct az_http *h = NULL;
	int rc;

	*out = NULL;
	if (!o || !o->conn || !o->conn->endpoint || !o->share)
		return -EINVAL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return -ENOMEM;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	rc = http_setup(h, o);
	if (rc < 0)
		goto out;
	h->sh = curl_share_init();
	if (!h->sh) {
		rc = -ENOMEM;
		goto out;
	}
	curl_share_setopt(h->sh, CURLSHOPT_LOCKFUNC, sh_lock);
	curl_share_setopt(h->sh, CURLSHOPT_UNLOCKFUNC, sh_unlock);
	curl_share_setopt(h->sh, CURLSHOPT_USERDATA, h);
	curl_share_setopt(h->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(h->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	*out = h;
	h = NULL;
out:
	az_http_free(h);
	return rc;
}

void az_http_free(struct az_http *h)
{
	int i;

	if (!h)
		return;
	for (i = 0; i < h->nidle; i++)
		curl_easy_cleanup(h->idle[i]);
	if (h->sh)
		curl_share_cleanup(h->sh);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->sh_locks[i]);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h->idle);
	free(h->share_enc);
	free(h->origin);
	free(h->prefix);
	free(h->ca_file);
	free(h);
}

void az_http_stats(struct az_http *h, uint64_t *requests, uint64_t *retries)
{
	*requests = atomic_load(&h->requests);
	*retries = atomic_load(&h->retries);
}

/* ---- pool ---- */

static CURL *pool_get(struct az_http *h)
{
	CURL *cu = NULL;
	int create = 0;

	pthread_mutex_lock(&h->lock);
	while (h->nidle == 0 && h->nlive >= h->max)
		pthread_cond_wait(&h->cond, &h->lock);
	if (h->nidle > 0) {
		cu = h->idle[--h->nidle];
	} else {
		h->nlive++;
		create = 1;
	}
	pthread_mutex_unlock(&h->lock);
	if (!create)
		return cu;
	cu = curl_easy_init();
	if (!cu) {
		pthread_mutex_lock(&h->lock);
		h->nlive--;
		pthread_cond_signal(&h->cond);
		pthread_mutex_unlock(&h->lock);
	}
	return cu;
}

static void pool_put(struct az_http *h, CURL *cu)
{
	pthread_mutex_lock(&h->lock);
	h->idle[h->nidle++] = cu;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/* ---- requests ---- */

void az_req_init(struct az_req *r, const char *method, const char *op, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->op = op;
	r->path = path ? path : "";
	r->out_fd = -1;
}

int az_req_hdr(struct az_req *r, const char *name, const char *value)
{
	if (r->nhdrs >= AZ_REQ_MAX_HDRS)
		return -E2BIG;
	r->hdrs[r->nhdrs].name = name;
	r->hdrs[r->nhdrs].value = value;
	r->nhdrs++;
	return 0;
}

void az_resp_release(struct az_resp *r)
{
	az_hdrs_release(&r->hdrs);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static char *url_path(struct az_http *h, const struct az_req *req)
{
	struct az_sb b;
	const char *p = req->path;

	az_sb_init(&b);
	az_sb_add(&b, h->prefix);
	az_sb_add(&b, "/");
	az_sb_add(&b, h->share_enc);
	while (*p == '/')
		p++;
	if (!req->share_level && *p) {
		az_sb_add(&b, "/");
		az_sb_add_enc(&b, p, 1);
	}
	return az_sb_take(&b);
}

char *az_http_url(struct az_http *h, const char *path, int with_sas)
{
	struct az_req r;
	struct az_sb b;
	char *up;

	az_req_init(&r, "GET", "url", path);
	up = url_path(h, &r);
	if (!up)
		return NULL;
	az_sb_init(&b);
	az_sb_add(&b, h->origin);
	az_sb_add(&b, up);
	if (with_sas && h->conn->sas) {
		az_sb_add(&b, "?");
		az_sb_add(&b, h->conn->sas);
	}
	free(up);
	return az_sb_take(&b);
}

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
			w = pwrite(x->req->out_fd, ptr + done, n - done, (off_t)(r->written + done));
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

/* How an attempt failed, for the retry decision and the log line. */
struct fail {
	int retryable;
	int ambiguous;       /* the service may have acted on it */
	long retry_after_ms; /* -1 none */
	CURLcode cc;
	char errbuf[CURL_ERROR_SIZE];
};

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

/* Date, version, Content-Length (signed, set by curl), Authorization. */
static int build_headers(struct az_http *h, const struct az_req *req, const char *upath,
			 struct curl_slist **out)
{
	struct az_hdr all[AZ_REQ_MAX_HDRS + 3];
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
		curl_easy_setopt(cu, CURLOPT_LOW_SPEED_TIME, h->op_ms / 1000 > 0 ? h->op_ms / 1000 : 1);
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
	char msg[256];

	r->code[0] = '\0';
	if (c && *c) {
		snprintf(r->code, sizeof(r->code), "%s", c);
		return;
	}
	if (len && az_xml_parse_error(body, len, r->code, sizeof(r->code), msg, sizeof(msg)) < 0)
		r->code[0] = '\0';
}

/* Classifies a finished exchange with an HTTP status. */
static int classify_status(struct az_req *req, struct az_resp *resp, struct xfer *x,
			   struct fail *f)
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
	f->retry_after_ms = az_retry_after_ms(az_hdrs_get(&resp->hdrs, "Retry-After"),
					      (long long)time(NULL));
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

static int one_attempt(struct az_http *h, struct xfer *x, const char *upath, const char *url,
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

static char *full_url(struct az_http *h, const char *upath, const char *query)
{
	struct az_sb b;
	int q = query && *query;

	az_sb_init(&b);
	az_sb_add(&b, h->origin);
	az_sb_add(&b, upath);
	if (q) {
		az_sb_add(&b, "?");
		az_sb_add(&b, query);
	}
	if (h->conn->sas) {
		az_sb_add(&b, q ? "&" : "?");
		az_sb_add(&b, h->conn->sas);
	}
	return az_sb_take(&b);
}

static void log_failure(struct az_http *h, const struct az_req *req, const struct az_resp *resp,
			const struct fail *f, int rc)
{
	int quiet = req->quiet || rc == -ENOENT || rc == -EEXIST;
	enum az_log_level lvl = quiet ? AZ_LOG_DEBUG : AZ_LOG_ERR;
	char tries[48] = "";

	if (resp->attempts > 1)
		snprintf(tries, sizeof(tries), " after %d attempts", resp->attempts);
	if (resp->status > 0) {
		az_log(lvl, "%s '%s': %ld %s (%s)%s", req->op, req->path, resp->status,
		       resp->code[0] ? resp->code : "without error code", strerror(-rc), tries);
		return;
	}
	if (f->cc != CURLE_OK) {
		az_log(lvl, "%s '%s': %s: %s (%s)%s", req->op, req->path, h->origin,
		       f->errbuf[0] ? f->errbuf : curl_easy_strerror(f->cc), strerror(-rc), tries);
		return;
	}
	az_log(lvl, "%s '%s': %s%s", req->op, req->path, strerror(-rc), tries);
}

static int lost_reply_done(const struct az_req *req, const struct az_resp *resp)
{
	return resp->ambiguous && req->lost_ok_status && resp->status == req->lost_ok_status &&
	       req->lost_ok_code && strcmp(resp->code, req->lost_ok_code) == 0;
}

static void finish_body(struct xfer *x, struct az_resp *resp, int ok)
{
	struct az_sb *src = ok && resp->status >= 200 && resp->status < 300 ? &x->mem : &x->err;

	resp->body_len = src->len;
	resp->body = az_sb_take(src);
}

/* Sleeps before the next attempt; returns 0, or -1 when the budget is spent. */
static int backoff(struct az_http *h, const struct az_req *req, struct az_resp *resp,
		   const struct fail *f, int attempt, long deadline)
{
	long delay = az_backoff_ms(attempt, AZ_BACKOFF_BASE_MS, AZ_BACKOFF_CAP_MS, rnd64());

	if (f->retry_after_ms > delay)
		delay = f->retry_after_ms;
	if (now_ms() + delay >= deadline)
		return -1;
	if (f->ambiguous)
		resp->ambiguous = 1;
	az_debug("%s '%s': retrying in %ld ms after %ld %s", req->op, req->path, delay,
		 resp->status, resp->status ? resp->code : curl_easy_strerror(f->cc));
	sleep_ms(delay);
	atomic_fetch_add(&h->retries, 1);
	return 0;
}

int az_http_do(struct az_http *h, struct az_req *req, struct az_resp *resp)
{
	struct xfer x;
	struct fail f;
	char *upath = NULL, *url = NULL;
	long deadline = now_ms() + h->budget_ms;
	int rc, attempt = 0;

	memset(resp, 0, sizeof(*resp));
	memset(&x, 0, sizeof(x));
	memset(&f, 0, sizeof(f));
	x.req = req;
	x.resp = resp;
	upath = url_path(h, req);
	url = upath ? full_url(h, upath, req->query) : NULL;
	x.cu = url ? pool_get(h) : NULL;
	if (!x.cu) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		rc = one_attempt(h, &x, upath, url, &f);
		resp->attempts = attempt + 1;
		if (rc < 0 && lost_reply_done(req, resp)) {
			resp->lost_ok = 1;
			rc = 0;
		}
		if (rc == 0 || !f.retryable || backoff(h, req, resp, &f, attempt, deadline) < 0)
			break;
		attempt++;
	}
	finish_body(&x, resp, rc == 0);
	if (rc < 0)
		log_failure(h, req, resp, &f, rc);
	pool_put(h, x.cu);
out:
	az_sb_release(&x.mem);
	az_sb_release(&x.err);
	free(upath);
	free(url);
	return rc;
}
