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
 * Every attempt (http_xfer.c) is signed afresh (new x-ms-date) and resends
 * the body from memory. Reply bodies go to a growable buffer, the caller's
 * buffer or straight to an fd; error bodies always go to a small buffer so
 * a 4xx never lands in a file.
 *
 * Retries: az_err_retryable() statuses and codes, plus transport errors
 * (timeouts, resets, empty replies), with full-jitter exponential backoff
 * (100 ms doubling, cap 4 s) or the service's Retry-After when longer, while
 * opts.retry_budget_ms lasts.
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
#include "http_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "azsharefs/log.h"
#include "conn.h"

#define AZ_BACKOFF_BASE_MS 100
#define AZ_BACKOFF_CAP_MS 4000

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
	h->quiet = o->quiet;
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
	int quiet = h->quiet || req->quiet || rc == -ENOENT || rc == -EEXIST;
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
		rc = az_http_attempt(h, &x, upath, url, &f);
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
