/* stream.h: large files, read and written in ranges (stream.c). */
#ifndef AZSF_CACHE_STREAM_H
#define AZSF_CACHE_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "vfs_int.h"

struct mc_stream *mc_stream_new(uint64_t remote_size);
/* Waits for reads ahead still in flight (they need v->lock to finish:
 * never call it with v->lock held, unless no read went through s). */
void mc_stream_free(struct mc_stream *s);
ssize_t mc_stream_read(struct vfs *v, struct vfs_file *fh, void *buf, size_t size, uint64_t off);
ssize_t mc_stream_write(struct vfs *v, struct vfs_file *fh, const void *buf, size_t size,
			uint64_t off);
/* Sends buffered writes (write_range; the file is resized first when they
 * go past its end). 0 or -errno. */
int mc_stream_flush(struct vfs *v, struct vfs_file *fh);
/* The file was resized through setattr: forget buffers past it. */
void mc_stream_resized(struct mc_stream *s, uint64_t size);

#endif
