/* Path lookups answered from the kernel's dentry cache alone (see
 * dxpy/aio/_inline.py for why and how they are used).
 *
 * openat2(2) with RESOLVE_CACHED walks a path only through dentries already
 * in memory and fails with EAGAIN where it would have to read a directory
 * from the disk (or ask a network server): the same test io_uring makes
 * before it opens a file inline instead of on a kernel worker.  The O_PATH
 * descriptor it returns is then asked for its attributes by statx(2) with
 * AT_STATX_DONT_SYNC, which never asks a remote server (local filesystems
 * ignore the flag), and closed again.
 *
 * The write calls (rename, unlink) run here too, timed (see elapsed_ns).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437 /* the same number on every architecture */
#endif
#ifndef RESOLVE_CACHED
#define RESOLVE_CACHED 0x20
#endif
#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif
#ifndef AT_STATX_DONT_SYNC
#define AT_STATX_DONT_SYNC 0x4000
#endif

/* struct open_how of <linux/openat2.h>, declared here so that old kernel
 * headers still build (the kernel then refuses the call: ENOSYS). */
struct dxl_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

/* os.stat_result's 19 fields in its order (times as os.stat computes them).
 * Every field is 8 bytes, so Python unpacks it with one struct format and
 * no padding rules. */
typedef struct dxl_entry {
    uint64_t mode, ino, dev, nlink, uid, gid;
    int64_t size, atime, mtime, ctime;
    double atime_f, mtime_f, ctime_f;
    int64_t atime_ns, mtime_ns, ctime_ns, blksize, blocks;
    uint64_t rdev;
} dxl_entry;

size_t dxl_entry_size(void)
{
    return sizeof(dxl_entry);
}

static double seconds(const struct statx_timestamp *t)
{
    /* CPython's fill_time: (double)sec + nsec * 1e-9, same operations. */
    return (double)t->tv_sec + (double)t->tv_nsec * 1e-9;
}

static int64_t nanoseconds(const struct statx_timestamp *t)
{
    return (int64_t)t->tv_sec * 1000000000LL + (int64_t)t->tv_nsec;
}

static void fill(dxl_entry *out, const struct statx *st)
{
    out->mode = st->stx_mode;
    out->ino = st->stx_ino;
    out->dev = makedev(st->stx_dev_major, st->stx_dev_minor);
    out->nlink = st->stx_nlink;
    out->uid = st->stx_uid;
    out->gid = st->stx_gid;
    out->size = (int64_t)st->stx_size;
    out->atime = st->stx_atime.tv_sec;
    out->mtime = st->stx_mtime.tv_sec;
    out->ctime = st->stx_ctime.tv_sec;
    out->atime_f = seconds(&st->stx_atime);
    out->mtime_f = seconds(&st->stx_mtime);
    out->ctime_f = seconds(&st->stx_ctime);
    out->atime_ns = nanoseconds(&st->stx_atime);
    out->mtime_ns = nanoseconds(&st->stx_mtime);
    out->ctime_ns = nanoseconds(&st->stx_ctime);
    out->blksize = st->stx_blksize;
    out->blocks = (int64_t)st->stx_blocks;
    out->rdev = makedev(st->stx_rdev_major, st->stx_rdev_minor);
}

static uint64_t mount_id(const struct statx *st)
{
    return (st->stx_mask & STATX_MNT_ID) ? st->stx_mnt_id : 0;
}

/* Open path from the dentry cache alone and read its attributes: 0, or
 * -EAGAIN where some part is not cached, or the cached failure's -errno. */
static int cached_statx(int dirfd, const char *path, int follow, struct statx *st)
{
    struct dxl_open_how how = {
        .flags = O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW),
        .mode = 0,
        .resolve = RESOLVE_CACHED,
    };
    int fd, failed;

    fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd < 0)
        return -errno;
    failed = statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
                   STATX_BASIC_STATS | STATX_MNT_ID, st) ? -errno : 0;
    close(fd);
    return failed;
}

/* stat(2) of path from the cache: 0 with out and *mnt (0: not reported)
 * filled, or -errno as cached_statx. */
int dxl_lookup(int dirfd, const char *path, int follow, dxl_entry *out, uint64_t *mnt)
{
    struct statx st;
    int failed = cached_statx(dirfd, path, follow, &st);

    if (!failed) {
        fill(out, &st);
        *mnt = mount_id(&st);
    }
    return failed;
}

/* Whether removing or replacing the entry path names (not followed) is
 * memory work: 0 (*mnt filled: the caller checks the filesystem), 1 (no:
 * a directory, whose move or replacement reads its blocks, or the last link
 * of a file with more than free_limit bytes of blocks), or -errno as
 * cached_statx (a cached ENOENT: the call fails at once). */
int dxl_probe(int dirfd, const char *path, uint64_t free_limit, uint64_t *mnt)
{
    struct statx st;
    int failed = cached_statx(dirfd, path, 0, &st);

    if (failed)
        return failed;
    if (S_ISDIR(st.stx_mode))
        return 1;
    if (S_ISREG(st.stx_mode) && st.stx_nlink <= 1 && st.stx_blocks * 512 > free_limit)
        return 1;
    *mnt = mount_id(&st);
    return 0;
}

/* A write call's wall time, read from the vDSO clock (no system call):
 * the caller tells a filesystem that blocks from a thread that was only
 * preempted by asking for two slow calls in a row (see _inline.py). */
typedef struct timespec dxl_clock;

static void clock_start(dxl_clock *c)
{
    clock_gettime(CLOCK_MONOTONIC, c);
}

static int64_t elapsed_ns(const dxl_clock *c)
{
    struct timespec end;

    clock_gettime(CLOCK_MONOTONIC, &end);
    return (int64_t)(end.tv_sec - c->tv_sec) * 1000000000LL + (end.tv_nsec - c->tv_nsec);
}

int dxl_rename(int olddirfd, const char *old, int newdirfd, const char *new_,
               int64_t *elapsed)
{
    dxl_clock c;
    int failed;

    clock_start(&c);
    failed = renameat(olddirfd, old, newdirfd, new_) ? -errno : 0;
    *elapsed = elapsed_ns(&c);
    return failed;
}

int dxl_unlink(int dirfd, const char *path, int64_t *elapsed)
{
    dxl_clock c;
    int failed;

    clock_start(&c);
    failed = unlinkat(dirfd, path, 0) ? -errno : 0;
    *elapsed = elapsed_ns(&c);
    return failed;
}
