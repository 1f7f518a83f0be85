/* names.h: the share's naming rules (fs/ internal).
 *
 * Azure Files ("Naming and Referencing Shares, Directories, Files, and
 * Metadata"): a name is at most 255 characters, a path at most 2048 and 250
 * directories deep; " \ / : | < > * ? and control characters 0x00-0x1F are
 * forbidden, and so are the reserved device names (CON, PRN, AUX, NUL,
 * COM1-9, LPT1-9, CLOCK$) and names the service would trim (a trailing '.',
 * unless the client keeps trailing dots). Names must be valid UTF-8 (the
 * service needs valid Unicode). Lengths count UTF-16 code units, as the
 * service does.
 */
#ifndef AZSF_NAMES_H
#define AZSF_NAMES_H

#include <stddef.h>

#define NM_NAME_MAX 255
#define NM_PATH_MAX 2048
#define NM_DEPTH_MAX 250

/* Set once at start-up: 1 when the client sends x-ms-allow-trailing-dot. */
void nm_set_allow_trailing_dot(int allow);

/* One path component. 0, -EINVAL or -ENAMETOOLONG; why gets the rule broken. */
int nm_check_name(const char *name, char *why, size_t whylen);

/* A share-relative path (no leading '/') about to be created: every
 * component, the total length and the depth. Logs a line naming the path and
 * the rule when it fails. */
int nm_check_path(const char *path);

/* For lookups: -ENAMETOOLONG when a component or the path is longer than
 * the share allows (such a name cannot exist), else 0. No logging. */
int nm_check_lookup(const char *path);

/* A share name: 3-63 characters, lowercase letters, digits and single
 * hyphens, starting and ending with a letter or digit. 0 or -EINVAL. */
int nm_check_share(const char *share, char *why, size_t whylen);

#endif
