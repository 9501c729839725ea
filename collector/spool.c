/*
 * spool.c
 *	  Spool entries: write (fsync'd), list in order, read back, remove.
 *
 * Entry format, little-endian:
 *	  "PGPPSPL1"
 *	  u32 profile count, then per profile:
 *	    16 bytes request_id, i64 at (Unix microseconds),
 *	    strings service, name, labels_json, label_keys (u32 length + bytes),
 *	    tenant (u32 length + bytes, or 0xffffffff for none),
 *	    data (u32 length + pprof bytes)
 *	  u32 CRC-32 of everything before it
 */
#include "spool.h"
#include "collector.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SPOOL_MAGIC "PGPPSPL1"
#define NO_STRING 0xffffffffU

static char *spool_dir;
static char *tmp_dir;
static char *rejected_dir;
static _Atomic uint64_t next_seq;
static _Atomic uint64_t total_bytes;
static _Atomic long total_entries;
static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wait_cond = PTHREAD_COND_INITIALIZER;

/* Publish the spool's size as gauges. */
static void
update_gauges(void)
{
	metrics_gauge_set(GAUGE_SPOOL_ENTRIES, atomic_load(&total_entries));
	metrics_gauge_set(GAUGE_SPOOL_BYTES, (int64_t) atomic_load(&total_bytes));
}

/* mkdir that accepts an existing folder. */
static bool
ensure_dir(const char *path, char **error)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
	{
		*error = xprintf("cannot create %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

/* mkdir -p for the spool folder itself. */
static bool
ensure_dir_tree(const char *path, char **error)
{
	char	   *copy = xstrdup(path);

	for (char *p = copy + 1; *p; p++)
	{
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST)
		{
			*error = xprintf("cannot create %s: %s", copy, strerror(errno));
			free(copy);
			return false;
		}
		*p = '/';
	}
	free(copy);
	return ensure_dir(path, error);
}

/* The sequence number of an entry's file name, or 0 if it is not one. */
static uint64_t
entry_seq(const char *name)
{
	size_t		n = strlen(name);
	char	   *end;
	unsigned long long v;

	if (n != 26 || strcmp(name + 20, ".spool") != 0)
		return 0;
	v = strtoull(name, &end, 10);
	return end == name + 20 ? (uint64_t) v : 0;
}

/* fsync a folder so that renames and unlinks in it are durable. */
static bool
fsync_dir(const char *path)
{
	int			fd = open(path, O_RDONLY | O_DIRECTORY);
	bool		ok;

	if (fd < 0)
		return false;
	ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

/* Open (and create) the spool folder, count what is in it, clean tmp/. */
bool
spool_open(char **error)
{
	DIR		   *d;
	struct dirent *de;
	uint64_t	max_seq = 0;
	long		entries = 0;
	uint64_t	bytes = 0;

	spool_dir = xstrdup(collector_config->spool_dir);
	tmp_dir = xprintf("%s/tmp", spool_dir);
	rejected_dir = xprintf("%s/rejected", spool_dir);
	if (!ensure_dir_tree(spool_dir, error) || !ensure_dir(tmp_dir, error) ||
		!ensure_dir(rejected_dir, error))
		return false;
	/* half-written entries were never acknowledged */
	if ((d = opendir(tmp_dir)) != NULL)
	{
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
			{
				char	   *path = xprintf("%s/%s", tmp_dir, de->d_name);

				unlink(path);
				free(path);
			}
		closedir(d);
	}
	if ((d = opendir(spool_dir)) == NULL)
	{
		*error = xprintf("cannot read %s: %s", spool_dir, strerror(errno));
		return false;
	}
	while ((de = readdir(d)) != NULL)
	{
		uint64_t	seq = entry_seq(de->d_name);
		struct stat st;
		char	   *path;

		if (seq == 0)
			continue;
		path = xprintf("%s/%s", spool_dir, de->d_name);
		if (stat(path, &st) == 0)
		{
			entries++;
			bytes += (uint64_t) st.st_size;
		}
		free(path);
		if (seq > max_seq)
			max_seq = seq;
	}
	closedir(d);
	atomic_store(&next_seq, max_seq + 1);
	atomic_store(&total_entries, entries);
	atomic_store(&total_bytes, bytes);
	update_gauges();
	return true;
}

/* Append a little-endian u32. */
static void
put_u32(Buf *b, uint32_t v)
{
	uint8_t		x[4] = {(uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16), (uint8_t) (v >> 24)};

	buf_append(b, x, 4);
}

/* Append a little-endian i64. */
static void
put_i64(Buf *b, int64_t v)
{
	uint64_t	u = (uint64_t) v;
	uint8_t		x[8];

	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t) (u >> (8 * i));
	buf_append(b, x, 8);
}

/* Append a length-prefixed string (NULL as NO_STRING). */
static void
put_string(Buf *b, const char *s)
{
	if (s == NULL)
	{
		put_u32(b, NO_STRING);
		return;
	}
	put_u32(b, (uint32_t) strlen(s));
	buf_append(b, s, strlen(s));
}

/* The bytes of one request's entry. */
static void
encode_entry(const Request *r, Buf *out)
{
	buf_append(out, SPOOL_MAGIC, 8);
	put_u32(out, (uint32_t) r->n_profiles);
	for (int i = 0; i < r->n_profiles; i++)
	{
		const Profile *p = &r->profiles[i];

		buf_append(out, p->request_id, 16);
		put_i64(out, p->at_us);
		put_string(out, p->service);
		put_string(out, p->name);
		put_string(out, p->labels_json ? p->labels_json : "{}");
		put_string(out, p->label_keys ? p->label_keys : "{}");
		put_string(out, p->tenant);
		put_u32(out, (uint32_t) p->len);
		buf_append(out, p->data, p->len);
	}
	put_u32(out, (uint32_t) crc32(0L, out->data, (uInt) out->len));
}

/* Write all of data to fd. */
static bool
write_all(int fd, const uint8_t *data, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t) n;
	}
	return true;
}

/* Write one entry to tmp/, fsync it and move it into place (folder not yet synced). */
static SpoolResult
write_entry(const Request *r)
{
	Buf			b;
	uint64_t	seq;
	char	   *tmp_path;
	char	   *final_path;
	int			fd;
	bool		ok;
	uint64_t	before;

	buf_init(&b);
	encode_entry(r, &b);
	/* reserve the bytes under the cap first, so concurrent writers cannot overshoot */
	before = atomic_fetch_add(&total_bytes, b.len);
	if (before + b.len > collector_config->spool_max_bytes)
	{
		atomic_fetch_sub(&total_bytes, b.len);
		buf_free(&b);
		return SPOOL_FULL;
	}
	seq = atomic_fetch_add(&next_seq, 1);
	tmp_path = xprintf("%s/%020llu.tmp", tmp_dir, (unsigned long long) seq);
	final_path = xprintf("%s/%020llu.spool", spool_dir, (unsigned long long) seq);
	fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ok = fd >= 0 && write_all(fd, b.data, b.len) && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	if (ok && rename(tmp_path, final_path) != 0)
		ok = false;
	if (!ok)
	{
		log_line(LOG_ERROR, "spool_write_failed", "path=%s error=%s", lq(tmp_path), lq(strerror(errno)));
		unlink(tmp_path);
		atomic_fetch_sub(&total_bytes, b.len);
	}
	else
		atomic_fetch_add(&total_entries, 1);
	free(tmp_path);
	free(final_path);
	buf_free(&b);
	return ok ? SPOOL_WRITTEN : SPOOL_FAILED;
}

/* Write requests[i] as one entry each; results[i] says how it went. */
void
spool_write(Request *const *requests, int n, SpoolResult *results)
{
	bool		any = false;

	for (int i = 0; i < n; i++)
	{
		results[i] = write_entry(requests[i]);
		any |= results[i] == SPOOL_WRITTEN;
	}
	/* one folder fsync makes every rename above durable; only then is a 200 due */
	if (any && !fsync_dir(spool_dir))
	{
		log_line(LOG_ERROR, "spool_fsync_failed", "path=%s error=%s", lq(spool_dir), lq(strerror(errno)));
		for (int i = 0; i < n; i++)
			if (results[i] == SPOOL_WRITTEN)
				results[i] = SPOOL_FAILED;
	}
	update_gauges();
	if (any)
	{
		pthread_mutex_lock(&wait_lock);
		pthread_cond_broadcast(&wait_cond);
		pthread_mutex_unlock(&wait_lock);
	}
}

/* Sort names in ascending order. */
static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The names of the oldest entries, up to max. */
int
spool_list(char ***names, int max)
{
	DIR		   *d = opendir(spool_dir);
	struct dirent *de;
	char	  **all = NULL;
	int			n = 0,
				cap = 0;

	*names = NULL;
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
	{
		if (entry_seq(de->d_name) == 0)
			continue;
		if (n == cap)
		{
			cap = cap ? cap * 2 : 64;
			all = xrealloc(all, sizeof(char *) * (size_t) cap);
		}
		all[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(all, (size_t) n, sizeof(char *), compare_names);
	for (int i = max; i < n; i++)
		free(all[i]);
	*names = all;
	return n < max ? n : max;
}

/* Free a name list. */
void
spool_free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* A bounds-checked reader over an entry's bytes. */
typedef struct EntryReader
{
	const uint8_t *pos;
	const uint8_t *end;
	bool		bad;
} EntryReader;

/* Read a u32 (marks the reader bad if short). */
static uint32_t
get_u32(EntryReader *r)
{
	uint32_t	v;

	if (r->end - r->pos < 4)
	{
		r->bad = true;
		return 0;
	}
	v = (uint32_t) r->pos[0] | (uint32_t) r->pos[1] << 8 | (uint32_t) r->pos[2] << 16 |
		(uint32_t) r->pos[3] << 24;
	r->pos += 4;
	return v;
}

/* Read an i64. */
static int64_t
get_i64(EntryReader *r)
{
	uint64_t	v = 0;

	if (r->end - r->pos < 8)
	{
		r->bad = true;
		return 0;
	}
	for (int i = 0; i < 8; i++)
		v |= (uint64_t) r->pos[i] << (8 * i);
	r->pos += 8;
	return (int64_t) v;
}

/* Read len raw bytes into a new buffer (NUL-terminated). */
static uint8_t *
get_bytes(EntryReader *r, uint32_t len)
{
	uint8_t    *out;

	if ((size_t) (r->end - r->pos) < len)
	{
		r->bad = true;
		return NULL;
	}
	out = xmalloc((size_t) len + 1);
	memcpy(out, r->pos, len);
	out[len] = '\0';
	r->pos += len;
	return out;
}

/* Read a length-prefixed string (NULL for NO_STRING). */
static char *
get_string(EntryReader *r)
{
	uint32_t	len = get_u32(r);

	if (r->bad || len == NO_STRING)
		return NULL;
	return (char *) get_bytes(r, len);
}

/* Read one entry; false with *error if it is unreadable or corrupt. */
bool
spool_read(const char *name, SpoolEntry *entry, char **error)
{
	char	   *path = xprintf("%s/%s", spool_dir, name);
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t    *data = NULL;
	EntryReader r;
	uint32_t	count;
	bool		ok = false;

	memset(entry, 0, sizeof(*entry));
	entry->name = xstrdup(name);
	if (fd < 0 || fstat(fd, &st) != 0)
	{
		*error = xprintf("cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	entry->bytes = (uint64_t) st.st_size;
	data = xmalloc((size_t) st.st_size + 1);
	for (off_t got = 0; got < st.st_size;)
	{
		ssize_t		n = read(fd, data + got, (size_t) (st.st_size - got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			*error = xprintf("short read of %s", path);
			goto out;
		}
		got += n;
	}
	if (st.st_size < 16 || memcmp(data, SPOOL_MAGIC, 8) != 0)
	{
		*error = xprintf("%s is not a spool entry", path);
		goto out;
	}
	r.pos = data + st.st_size - 4;
	r.end = data + st.st_size;
	r.bad = false;
	if (get_u32(&r) != (uint32_t) crc32(0L, data, (uInt) (st.st_size - 4)))
	{
		*error = xprintf("%s fails its CRC check", path);
		goto out;
	}
	r.pos = data + 8;
	r.end = data + st.st_size - 4;
	count = get_u32(&r);
	if (count > 100000)
		r.bad = true;
	entry->profiles = xcalloc(count ? count : 1, sizeof(Profile));
	for (uint32_t i = 0; i < count && !r.bad; i++)
	{
		Profile    *p = &entry->profiles[i];
		uint8_t    *id = get_bytes(&r, 16);

		if (id)
			memcpy(p->request_id, id, 16);
		free(id);
		p->at_us = get_i64(&r);
		p->service = get_string(&r);
		p->name = get_string(&r);
		p->labels_json = get_string(&r);
		p->label_keys = get_string(&r);
		p->tenant = get_string(&r);
		p->len = get_u32(&r);
		p->data = r.bad ? NULL : get_bytes(&r, (uint32_t) p->len);
		entry->n_profiles = (int) i + 1;
		if (p->service == NULL || p->name == NULL || p->data == NULL)
			r.bad = true;
	}
	if (r.bad || r.pos != r.end)
	{
		*error = xprintf("%s is malformed", path);
		goto out;
	}
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	free(data);
	free(path);
	return ok;
}

/* Free a read entry. */
void
spool_entry_free(SpoolEntry *entry)
{
	for (int i = 0; i < entry->n_profiles; i++)
	{
		Profile    *p = &entry->profiles[i];

		free(p->service);
		free(p->name);
		free(p->labels_json);
		free(p->label_keys);
		free(p->tenant);
		free(p->data);
	}
	free(entry->profiles);
	free(entry->name);
	memset(entry, 0, sizeof(*entry));
}

/* Remove replayed entries (unlink, then one fsync of the folder). */
void
spool_remove(char *const *names, const uint64_t *sizes, int n)
{
	for (int i = 0; i < n; i++)
	{
		char	   *path = xprintf("%s/%s", spool_dir, names[i]);

		if (unlink(path) == 0)
		{
			atomic_fetch_sub(&total_entries, 1);
			atomic_fetch_sub(&total_bytes, sizes[i]);
		}
		free(path);
	}
	if (n > 0)
		fsync_dir(spool_dir);
	update_gauges();
}

/* Move an entry PostgreSQL refused to rejected/, with the reason logged. */
void
spool_reject(const char *name, uint64_t size, const char *why)
{
	char	   *from = xprintf("%s/%s", spool_dir, name);
	char	   *to = xprintf("%s/%s", rejected_dir, name);

	if (rename(from, to) == 0)
	{
		atomic_fetch_sub(&total_entries, 1);
		atomic_fetch_sub(&total_bytes, size);
		fsync_dir(spool_dir);
		fsync_dir(rejected_dir);
	}
	log_line(LOG_ERROR, "spool_entry_rejected", "entry=%s moved_to=%s reason=%s", name, lq(to), lq(why));
	metrics_spool_rejected(1);
	update_gauges();
	free(from);
	free(to);
}

/* Entries waiting. */
long
spool_count(void)
{
	return atomic_load(&total_entries);
}

/* Bytes waiting. */
uint64_t
spool_bytes(void)
{
	return atomic_load(&total_bytes);
}

/* Wait until an entry is written or timeout_ms pass. */
void
spool_wait_for_entries(int timeout_ms)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L)
	{
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&wait_lock);
	if (atomic_load(&total_entries) == 0)
		pthread_cond_timedwait(&wait_cond, &wait_lock, &deadline);
	pthread_mutex_unlock(&wait_lock);
}
