/* http_int.h: what http.c (pool, retry loop) and http_xfer.c (one curl
 * attempt) share (fs/ internal). */
#ifndef AZSF_HTTP_INT_H
#define AZSF_HTTP_INT_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "http.h"

#define AZ_MEM_BODY_MAX (64u * 1024u * 1024u) /* listing pages, XML, JSON */
#define AZ_ERR_BODY_MAX (64u * 1024u)
#define AZ_LOW_SPEED_BPS 1024L

struct az_http {
	const struct az_conn *conn; /* read-only after init */
	char *share_enc;
	char *origin; /* scheme://host[:port] */
	char *prefix; /* "/account" for path-style endpoints, else "" */
	char *ca_file;
	long connect_ms, op_ms, budget_ms;
	int max;
	int quiet; /* failures at debug level only */
	CURLSH *sh;
	pthread_mutex_t sh_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled when a handle is returned */
	CURL **idle;	     /* protected by lock */
	int nidle;	     /* protected by lock */
	int nlive;	     /* handles created, protected by lock */
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t retries;
	atomic_int ever_replied; /* a reply (any status) was received */
};

/* State of one attempt, shared with the curl callbacks. */
struct xfer {
	CURL *cu;
	struct az_req *req;
	struct az_resp *resp;
	size_t body_pos;  /* request body read position */
	struct az_sb mem; /* AZ_DST_MEM success body */
	struct az_sb err; /* error body */
	int err_rc;	  /* a local failure inside a callback */
};

/* How an attempt failed, for the retry decision and the log line. */
struct fail {
	int retryable;
	int ambiguous;	     /* the service may have acted on it */
	long retry_after_ms; /* -1 none */
	CURLcode cc;
	char errbuf[CURL_ERROR_SIZE];
};

/* One signed attempt of x->req on x->cu: 0 on success (2xx or
 * accept_status), else -errno with f describing the failure. Counts the
 * request and notes the first reply in h. */
int az_http_attempt(struct az_http *h, struct xfer *x, const char *upath, const char *url,
		    struct fail *f);

#endif
