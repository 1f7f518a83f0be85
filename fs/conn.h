/* conn.h: Azure Storage connection strings (fs/ internal). */
#ifndef AZSF_CONN_H
#define AZSF_CONN_H

/* The well-known development account (Azurite's published key). */
#define AZ_DEV_ACCOUNT "devstoreaccount1"
#define AZ_DEV_KEY                                                                                 \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define AZ_DEV_FILE_ENDPOINT "http://127.0.0.1:10004/devstoreaccount1"

struct az_conn {
	char *account;		/* AccountName */
	char *key;		/* AccountKey (base64), or NULL */
	unsigned char *key_raw; /* decoded key */
	int key_raw_len;	/* its length in bytes */
	char *sas;		/* SharedAccessSignature without leading '?', or NULL */
	char *endpoint;		/* file endpoint without trailing '/', e.g.
				   https://acct.file.core.windows.net or
				   http://127.0.0.1:10004/devstoreaccount1 */
	int path_style;		/* 1 when the account is the first path segment */
};

/* Parses "Key=Value;..." (keys case-insensitive, values may contain '=').
 * Accepts AccountName, AccountKey, SharedAccessSignature, FileEndpoint,
 * DefaultEndpointsProtocol, EndpointSuffix, UseDevelopmentStorage=true
 * (other service endpoints are ignored). Needs a key or a SAS. On error
 * returns -EINVAL and writes a message naming the key that was wrong into
 * err (never a secret value). */
int az_conn_parse(struct az_conn *out, const char *text, char *err, size_t errlen);
void az_conn_release(struct az_conn *c);

#endif
