/* ofiles.c: the table of open files by path (ofiles.h).
 *
 * Why it exists: libfuse's high-level API names every node by path. An
 * open file that is unlinked (or replaced by a rename) would have no path,
 * and fstat() of it would fail with ESTALE, so the mount runs with
 * hard_remove off: libfuse renames such a node to a hidden name and tells
 * us, and later asks about that name. This table maps the hidden name
 * back to a handle, and keeps each handle's share path current through
 * renames (a directory rename moves everything below it) so the handles
 * of a file being hidden can be found by path.
 *
 * A plain list: the number of open files is small (hundreds), and every
 * operation here is a pass over it under t->lock, no I/O.
 * Threads: any FUSE thread; t->lock guards the list and every entry's
 * fields. Entries are freed by their owner when the last reference goes.
 */
#include "ofiles.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void of_init(struct of_table *t)
{
	pthread_mutex_init(&t->lock, NULL);
	t->head.prev = t->head.next = &t->head;
}

void of_release(struct of_table *t)
{
	pthread_mutex_destroy(&t->lock);
}

int of_is_hidden_name(const char *rel)
{
	const char *slash;

	if (!rel)
		return 0;
	slash = strrchr(rel, '/');
	if (slash)
		rel = slash + 1;
	return strncmp(rel, OF_HIDDEN_PREFIX, strlen(OF_HIDDEN_PREFIX)) == 0;
}

int of_add(struct of_table *t, struct of_ent *e, const char *path)
{
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	if (!e->path)
		return -ENOMEM;
	e->refs = 1;
	pthread_mutex_lock(&t->lock);
	e->next = &t->head;
	e->prev = t->head.prev;
	t->head.prev->next = e;
	t->head.prev = e;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* t->lock held */
static unsigned unref(struct of_ent *e)
{
	if (--e->refs > 0)
		return e->refs;
	free(e->path);
	free(e->hidden);
	e->path = e->hidden = NULL;
	return 0;
}

unsigned of_del(struct of_table *t, struct of_ent *e)
{
	unsigned left;

	pthread_mutex_lock(&t->lock);
	if (e->next) {
		e->prev->next = e->next;
		e->next->prev = e->prev;
		e->next = e->prev = NULL;
	}
	left = unref(e);
	pthread_mutex_unlock(&t->lock);
	return left;
}

unsigned of_put(struct of_table *t, struct of_ent *e)
{
	unsigned left;

	pthread_mutex_lock(&t->lock);
	left = unref(e);
	pthread_mutex_unlock(&t->lock);
	return left;
}

int of_hide(struct of_table *t, const char *path, const char *hidden, int unlinked)
{
	int n = 0;

	pthread_mutex_lock(&t->lock);
	for (struct of_ent *e = t->head.next; e != &t->head; e = e->next) {
		char *h;

		if (e->hidden || !e->path || strcmp(e->path, path) != 0)
			continue;
		h = strdup(hidden);
		if (!h)
			continue; /* fstat of this handle fails; the rest works */
		e->hidden = h;
		if (unlinked) {
			free(e->path);
			e->path = NULL;
		}
		n++;
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

void of_unlinked(struct of_table *t, const char *path)
{
	pthread_mutex_lock(&t->lock);
	for (struct of_ent *e = t->head.next; e != &t->head; e = e->next) {
		if (e->path && strcmp(e->path, path) == 0) {
			free(e->path);
			e->path = NULL;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

/* *s is from or below it: rewrite its prefix to to. Best effort (ENOMEM
 * keeps the old name). */
static void move_prefix(char **s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), rest;
	char *n;

	if (!*s || strncmp(*s, from, fl) != 0 || ((*s)[fl] != '\0' && (*s)[fl] != '/'))
		return;
	rest = strlen(*s + fl);
	n = malloc(tl + rest + 1);
	if (!n)
		return;
	memcpy(n, to, tl);
	memcpy(n + tl, *s + fl, rest + 1);
	free(*s);
	*s = n;
}

void of_renamed(struct of_table *t, const char *from, const char *to)
{
	pthread_mutex_lock(&t->lock);
	for (struct of_ent *e = t->head.next; e != &t->head; e = e->next) {
		if (e->path && strcmp(e->path, to) == 0) {
			free(e->path); /* replaced: the handle keeps the old data */
			e->path = NULL;
		}
	}
	for (struct of_ent *e = t->head.next; e != &t->head; e = e->next) {
		move_prefix(&e->path, from, to);
		move_prefix(&e->hidden, from, to);
	}
	pthread_mutex_unlock(&t->lock);
}

/* t->lock held */
static void copy_live(const struct of_ent *e, char *live, size_t cap)
{
	size_t n = e->path ? strlen(e->path) : 0;

	if (!cap)
		return;
	if (n >= cap)
		n = 0; /* cannot happen for share paths; be safe */
	memcpy(live, e->path ? e->path : "", n);
	live[n] = '\0';
}

struct of_ent *of_get_hidden(struct of_table *t, const char *hidden, char *live, size_t cap)
{
	struct of_ent *found = NULL;

	pthread_mutex_lock(&t->lock);
	for (struct of_ent *e = t->head.next; e != &t->head; e = e->next) {
		if (e->hidden && strcmp(e->hidden, hidden) == 0) {
			found = e;
			break;
		}
	}
	if (found) {
		found->refs++;
		copy_live(found, live, cap);
	}
	pthread_mutex_unlock(&t->lock);
	return found;
}

void of_live(struct of_table *t, struct of_ent *e, char *live, size_t cap)
{
	pthread_mutex_lock(&t->lock);
	copy_live(e, live, cap);
	pthread_mutex_unlock(&t->lock);
}

int of_count(struct of_table *t, const char *path)
{
	int n = 0;

	pthread_mutex_lock(&t->lock);
	for (struct of_ent *e = t->head.next; e != &t->head; e = e->next)
		if (!e->hidden && e->path && strcmp(e->path, path) == 0)
			n++;
	pthread_mutex_unlock(&t->lock);
	return n;
}
