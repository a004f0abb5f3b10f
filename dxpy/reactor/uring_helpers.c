/* C side of the io_uring reactor (compiled by cffi in API mode).
 *
 * Why C: each Python-level call into cffi costs ~100 ns, so everything done
 * per operation or per completion is folded into one call here: getting an
 * SQE (submitting when the SQ is full), preparing it, mapping registered
 * files, and reaping every CQE into a flat array that Python unpacks with
 * struct.iter_unpack in one go.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <liburing.h>

#define DX_IGNORE 0ULL /* user_data of our own cancel requests: not reported */

typedef struct dx_cqe {
    uint64_t token;
    int32_t res;
    uint32_t flags;
} dx_cqe;

typedef struct dx_msg {
    struct msghdr hdr;
    struct iovec iov;
    struct sockaddr_storage addr;
} dx_msg;

typedef struct dx_ring {
    struct io_uring ring;
    unsigned setup_flags;
    unsigned features;
    int disabled; /* created with R_DISABLED: enabled by the first submitter */
    /* provided-buffer ring for multishot recv */
    struct io_uring_buf_ring *br;
    size_t br_bytes;
    char *bufs;
    unsigned nbufs, bufsize;
    int bgid;
    /* registered (fixed) files: fd -> slot, slot free list */
    int *slot_of_fd;
    int *free_slots;
    unsigned nslots, nfree, fd_cap;
    unsigned batch_files; /* read_files chains not yet finished */
} dx_ring;

static int try_init(dx_ring *r, unsigned entries, unsigned cq_entries, unsigned flags)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = flags | IORING_SETUP_CQSIZE;
    p.cq_entries = cq_entries;
    if (flags & IORING_SETUP_SQPOLL)
        p.sq_thread_idle = 50; /* ms before the kernel thread sleeps */
    int ret = io_uring_queue_init_params(entries, &r->ring, &p);
    if (ret == 0) {
        r->setup_flags = p.flags;
        r->features = p.features;
    }
    return ret;
}

/* Create a ring.  Newer setup flags are tried first and dropped one by one
 * when the kernel refuses them (EINVAL); SQPOLL falls back to plain mode
 * when it is not permitted (EPERM).  SINGLE_ISSUER + DEFER_TASKRUN (the
 * fastest mode: completion work runs only when we ask for events, not on
 * every incoming packet) is tried first when `single_issuer` is set. */
dx_ring *dx_open(unsigned entries, unsigned cq_entries, int sqpoll, int single_issuer, int *err)
{
    /* TASKRUN_FLAG: the kernel flags pending completion work in the SQ ring,
     * so dx_needs_enter can tell when an io_uring_enter would find nothing. */
    static const unsigned optional[] = {
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
            IORING_SETUP_R_DISABLED | IORING_SETUP_TASKRUN_FLAG,
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
            IORING_SETUP_R_DISABLED,
        /* shared mode (any thread may submit) starts here: SHARED_FIRST */
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
        IORING_SETUP_SUBMIT_ALL,
        0,
    };
    enum { SHARED_FIRST = 2 };
    dx_ring *r = calloc(1, sizeof *r);
    if (!r) {
        *err = -ENOMEM;
        return NULL;
    }
    int ret = -EINVAL;
    for (int want_sqpoll = sqpoll ? 1 : 0; want_sqpoll >= 0; want_sqpoll--) {
        for (unsigned i = single_issuer ? 0 : SHARED_FIRST; i < sizeof optional / sizeof optional[0]; i++) {
            unsigned flags = optional[i] | (want_sqpoll ? IORING_SETUP_SQPOLL : 0);
            if (want_sqpoll) /* neither is valid with SQPOLL */
                flags &= ~(IORING_SETUP_COOP_TASKRUN | IORING_SETUP_DEFER_TASKRUN);
            ret = try_init(r, entries, cq_entries, flags);
            if (ret != -EINVAL)
                break;
        }
        if (ret == 0)
            break;
    }
    if (ret < 0) {
        free(r);
        *err = ret;
        return NULL;
    }
    r->bgid = -1;
    r->disabled = (r->setup_flags & IORING_SETUP_R_DISABLED) != 0;
    *err = 0;
    return r;
}

unsigned dx_setup_flags(dx_ring *r) { return r->setup_flags; }
unsigned dx_features(dx_ring *r) { return r->features; }
int dx_ring_fd(dx_ring *r) { return r->ring.ring_fd; }

int dx_opcode_supported(dx_ring *r, int op)
{
    struct io_uring_probe *probe = io_uring_get_probe_ring(&r->ring);
    if (!probe)
        return 0;
    int ok = io_uring_opcode_supported(probe, op);
    io_uring_free_probe(probe);
    return ok;
}

/* ---- provided buffers ------------------------------------------------ */

void dx_recycle(dx_ring *r, unsigned bid)
{
    io_uring_buf_ring_add(r->br, r->bufs + (size_t)bid * r->bufsize, r->bufsize, bid,
                          io_uring_buf_ring_mask(r->nbufs), 0);
    io_uring_buf_ring_advance(r->br, 1);
}

int dx_setup_buffers(dx_ring *r, unsigned nbufs, unsigned bufsize, int bgid)
{
    struct io_uring_buf_reg reg;
    size_t bytes = (size_t)nbufs * sizeof(struct io_uring_buf);
    void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return -errno;
    char *bufs = malloc((size_t)nbufs * bufsize);
    if (!bufs) {
        munmap(mem, bytes);
        return -ENOMEM;
    }
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (unsigned long)mem;
    reg.ring_entries = nbufs;
    reg.bgid = bgid;
    int ret = io_uring_register_buf_ring(&r->ring, &reg, 0);
    if (ret < 0) {
        free(bufs);
        munmap(mem, bytes);
        return ret;
    }
    r->br = mem;
    r->br_bytes = bytes;
    r->bufs = bufs;
    r->nbufs = nbufs;
    r->bufsize = bufsize;
    r->bgid = bgid;
    io_uring_buf_ring_init(r->br);
    for (unsigned bid = 0; bid < nbufs; bid++)
        dx_recycle(r, bid);
    return 0;
}

char *dx_buffer(dx_ring *r, unsigned bid) { return r->bufs + (size_t)bid * r->bufsize; }

/* ---- registered files ------------------------------------------------- */

int dx_setup_files(dx_ring *r, unsigned nslots, unsigned fd_cap)
{
    int ret = io_uring_register_files_sparse(&r->ring, nslots);
    if (ret < 0)
        return ret;
    r->slot_of_fd = malloc(sizeof(int) * fd_cap);
    r->free_slots = malloc(sizeof(int) * nslots);
    if (!r->slot_of_fd || !r->free_slots)
        return -ENOMEM;
    for (unsigned i = 0; i < fd_cap; i++)
        r->slot_of_fd[i] = -1;
    for (unsigned i = 0; i < nslots; i++)
        r->free_slots[i] = nslots - 1 - i;
    r->nslots = nslots;
    r->nfree = nslots;
    r->fd_cap = fd_cap;
    return 0;
}

/* Register fd in a free slot; returns the slot, or -errno (-ENFILE: full). */
int dx_register_fd(dx_ring *r, int fd)
{
    if (fd < 0 || (unsigned)fd >= r->fd_cap)
        return -EBADF;
    if (r->slot_of_fd[fd] >= 0)
        return r->slot_of_fd[fd];
    if (r->nfree == 0)
        return -ENFILE;
    int slot = r->free_slots[r->nfree - 1];
    int ret = io_uring_register_files_update(&r->ring, slot, &fd, 1);
    if (ret < 0)
        return ret;
    r->nfree--;
    r->slot_of_fd[fd] = slot;
    return slot;
}

int dx_unregister_fd(dx_ring *r, int fd)
{
    if (fd < 0 || (unsigned)fd >= r->fd_cap || r->slot_of_fd[fd] < 0)
        return 0;
    int slot = r->slot_of_fd[fd];
    int none = -1;
    int ret = io_uring_register_files_update(&r->ring, slot, &none, 1);
    r->slot_of_fd[fd] = -1;
    r->free_slots[r->nfree++] = slot;
    return ret < 0 ? ret : 0;
}

/* ---- preparing operations -------------------------------------------- */

/* With SINGLE_ISSUER the ring belongs to the thread that enables it: the
 * thread that first submits (the one running the loop), not the one that
 * happened to create the loop. */
static int enable(dx_ring *r)
{
    if (!r->disabled)
        return 0;
    /* Debian's liburing 2.3 declares io_uring_enable_rings but does not
     * export it: register the opcode directly. */
    int ret = syscall(__NR_io_uring_register, r->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
    if (ret < 0)
        ret = -errno;
    if (ret == 0)
        r->disabled = 0;
    return ret;
}

/* Whether an io_uring_enter now could do anything: SQEs to submit, CQEs
 * or kernel completion work waiting, or a CQ overflow to flush.  Without
 * TASKRUN_FLAG the kernel does not say whether work is pending, so the
 * answer is always yes.  The compiled loop core asks before a zero-timeout
 * iteration: a loop busy with callbacks and idle sockets then makes no
 * system call at all. */
int dx_needs_enter(dx_ring *r)
{
    if (r->disabled || !(r->setup_flags & IORING_SETUP_TASKRUN_FLAG))
        return 1;
    if (io_uring_sq_ready(&r->ring) || io_uring_cq_ready(&r->ring))
        return 1;
    unsigned kflags = IO_URING_READ_ONCE(*r->ring.sq.kflags);
    return (kflags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) != 0;
}

int dx_submit(dx_ring *r)
{
    int ret = enable(r);
    return ret < 0 ? ret : io_uring_submit(&r->ring);
}

static struct io_uring_sqe *get_sqe(dx_ring *r)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) {
        dx_submit(r);
        /* SQPOLL: submitting only wakes the kernel thread; wait for room */
        if (r->setup_flags & IORING_SETUP_SQPOLL)
            io_uring_sqring_wait(&r->ring);
        sqe = io_uring_get_sqe(&r->ring);
    }
    return sqe;
}

unsigned dx_free_slots(dx_ring *r) { return r->free_slots ? r->nfree : 0; }

/* After prep: use the registered slot for fd if it has one. */
static void use_fixed(dx_ring *r, struct io_uring_sqe *sqe, int fd)
{
    if (fd >= 0 && (unsigned)fd < r->fd_cap && r->slot_of_fd && r->slot_of_fd[fd] >= 0) {
        sqe->fd = r->slot_of_fd[fd];
        sqe->flags |= IOSQE_FIXED_FILE;
    }
}

#define PREP(r, token, fd, call)                         \
    do {                                                 \
        struct io_uring_sqe *sqe = get_sqe(r);           \
        if (!sqe)                                        \
            return -EBUSY;                               \
        call;                                            \
        use_fixed(r, sqe, fd);                           \
        io_uring_sqe_set_data64(sqe, token);             \
        return 0;                                        \
    } while (0)

int dx_recv(dx_ring *r, uint64_t token, int fd, void *buf, size_t len, int flags)
{
    PREP(r, token, fd, io_uring_prep_recv(sqe, fd, buf, len, flags));
}

int dx_recv_multishot(dx_ring *r, uint64_t token, int fd)
{
    if (r->bgid < 0)
        return -EOPNOTSUPP;
    PREP(r, token, fd, {
        io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = r->bgid;
    });
}

int dx_send(dx_ring *r, uint64_t token, int fd, const void *buf, size_t len, int flags)
{
    PREP(r, token, fd, io_uring_prep_send(sqe, fd, buf, len, flags | MSG_NOSIGNAL));
}

int dx_send_zc(dx_ring *r, uint64_t token, int fd, const void *buf, size_t len)
{
    PREP(r, token, fd, io_uring_prep_send_zc(sqe, fd, buf, len, MSG_NOSIGNAL, 0));
}

int dx_read(dx_ring *r, uint64_t token, int fd, void *buf, unsigned len, int64_t offset)
{
    PREP(r, token, fd, io_uring_prep_read(sqe, fd, buf, len, (uint64_t)offset));
}

int dx_write(dx_ring *r, uint64_t token, int fd, const void *buf, unsigned len, int64_t offset)
{
    PREP(r, token, fd, io_uring_prep_write(sqe, fd, buf, len, (uint64_t)offset));
}

void dx_msg_init(dx_msg *m, void *buf, size_t len, const void *addr, unsigned addrlen)
{
    memset(&m->hdr, 0, sizeof m->hdr);
    m->iov.iov_base = buf;
    m->iov.iov_len = len;
    m->hdr.msg_iov = &m->iov;
    m->hdr.msg_iovlen = 1;
    if (addr && addrlen) {
        memcpy(&m->addr, addr, addrlen < sizeof m->addr ? addrlen : sizeof m->addr);
        m->hdr.msg_name = &m->addr;
        m->hdr.msg_namelen = addrlen;
    } else if (!addr) { /* receiving: room for the sender's address */
        m->hdr.msg_name = &m->addr;
        m->hdr.msg_namelen = sizeof m->addr;
    }
}

unsigned dx_msg_namelen(dx_msg *m) { return m->hdr.msg_name ? m->hdr.msg_namelen : 0; }
char *dx_msg_name(dx_msg *m) { return (char *)&m->addr; }

int dx_recvmsg(dx_ring *r, uint64_t token, int fd, dx_msg *m, int flags)
{
    PREP(r, token, fd, io_uring_prep_recvmsg(sqe, fd, &m->hdr, flags));
}

int dx_sendmsg(dx_ring *r, uint64_t token, int fd, dx_msg *m, int flags)
{
    PREP(r, token, fd, io_uring_prep_sendmsg(sqe, fd, &m->hdr, flags | MSG_NOSIGNAL));
}

int dx_accept(dx_ring *r, uint64_t token, int fd, int multishot)
{
    int flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    if (multishot)
        PREP(r, token, fd, io_uring_prep_multishot_accept(sqe, fd, NULL, NULL, flags));
    PREP(r, token, fd, io_uring_prep_accept(sqe, fd, NULL, NULL, flags));
}

int dx_connect(dx_ring *r, uint64_t token, int fd, const void *addr, unsigned addrlen)
{
    PREP(r, token, fd, io_uring_prep_connect(sqe, fd, (const struct sockaddr *)addr, addrlen));
}

int dx_poll_add(dx_ring *r, uint64_t token, int fd, unsigned mask, int multishot)
{
    if (multishot)
        PREP(r, token, fd, io_uring_prep_poll_multishot(sqe, fd, mask));
    PREP(r, token, fd, io_uring_prep_poll_add(sqe, fd, mask));
}

int dx_timeout(dx_ring *r, uint64_t token, struct __kernel_timespec *ts)
{
    PREP(r, token, -1, io_uring_prep_timeout(sqe, ts, 0, 0));
}

int dx_close_fd(dx_ring *r, uint64_t token, int fd)
{
    dx_unregister_fd(r, fd); /* a registered slot would keep the file open */
    PREP(r, token, -1, io_uring_prep_close(sqe, fd));
}

int dx_openat(dx_ring *r, uint64_t token, int dirfd, const char *path, int flags, unsigned mode)
{
    PREP(r, token, -1, io_uring_prep_openat(sqe, dirfd, path, flags, mode));
}

int dx_fsync(dx_ring *r, uint64_t token, int fd, int datasync)
{
    PREP(r, token, fd, io_uring_prep_fsync(sqe, fd, datasync ? IORING_FSYNC_DATASYNC : 0));
}

int dx_statx(dx_ring *r, uint64_t token, int dirfd, const char *path, int flags,
             struct statx *buf)
{
    PREP(r, token, -1, io_uring_prep_statx(sqe, dirfd, path, flags, STATX_BASIC_STATS, buf));
}

/* ---- path operations (dxpy.aio.os) -------------------------------------
 * The kernel copies the paths when it prepares the request (at submit), and
 * runs these on an io-wq worker; the caller keeps the path buffers alive
 * until the completion anyway. */

int dx_renameat(dx_ring *r, uint64_t token, int olddfd, const char *oldpath, int newdfd,
                const char *newpath, unsigned flags)
{
    PREP(r, token, -1, io_uring_prep_renameat(sqe, olddfd, oldpath, newdfd, newpath, flags));
}

int dx_unlinkat(dx_ring *r, uint64_t token, int dfd, const char *path, int flags)
{
    PREP(r, token, -1, io_uring_prep_unlinkat(sqe, dfd, path, flags));
}

int dx_mkdirat(dx_ring *r, uint64_t token, int dfd, const char *path, unsigned mode)
{
    PREP(r, token, -1, io_uring_prep_mkdirat(sqe, dfd, path, mode));
}

int dx_symlinkat(dx_ring *r, uint64_t token, const char *target, int newdfd,
                 const char *linkpath)
{
    PREP(r, token, -1, io_uring_prep_symlinkat(sqe, target, newdfd, linkpath));
}

int dx_linkat(dx_ring *r, uint64_t token, int olddfd, const char *oldpath, int newdfd,
              const char *newpath, int flags)
{
    PREP(r, token, -1, io_uring_prep_linkat(sqe, olddfd, oldpath, newdfd, newpath, flags));
}

/* splice(2): one end must be a pipe; an offset of -1 means "the file
 * position" (and is required for the pipe end). */
int dx_splice(dx_ring *r, uint64_t token, int fd_in, int64_t off_in, int fd_out,
              int64_t off_out, unsigned nbytes, unsigned flags)
{
    PREP(r, token, -1, io_uring_prep_splice(sqe, fd_in, off_in, fd_out, off_out, nbytes, flags));
}

/* A READ the kernel hands to an io-wq worker at once (IOSQE_ASYNC) instead
 * of copying inline in io_uring_enter: several such reads of one large
 * cached file copy in parallel on different CPUs. */
int dx_read_async(dx_ring *r, uint64_t token, int fd, void *buf, unsigned len, int64_t offset)
{
    PREP(r, token, fd, {
        io_uring_prep_read(sqe, fd, buf, len, (uint64_t)offset);
        sqe->flags |= IOSQE_ASYNC;
    });
}

int dx_cancel(dx_ring *r, uint64_t token)
{
    PREP(r, DX_IGNORE, -1, io_uring_prep_cancel64(sqe, token, 0));
}

/* Cancel every in-flight request (used by close before freeing buffers). */
int dx_cancel_all(dx_ring *r)
{
    PREP(r, DX_IGNORE, -1, io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY));
}

/* ---- batched whole-file reads ----------------------------------------------
 *
 * dx_read_files prepares, in one call, one hard-linked chain per file:
 *
 *     OPENAT (into registered slot k) -> READ slot_size bytes (file position)
 *       -> READ 1 byte (probe: 0 means EOF was reached) -> CLOSE slot k
 *
 * HARDLINK (not LINK): a short read or a failed open must not sever the
 * chain, so the CLOSE always runs and slot k is always freed (a READ on an
 * empty slot just fails with -EBADF).  The probe makes the result exact for
 * every kind of file (pipes and /proc files may return short reads before
 * EOF); a file whose probe found more data is reported with
 * DX_F_TRUNCATED.
 *
 * The chain's CQEs carry user_data = DX_BATCH_TAG | &file | stage and are
 * consumed by dx_reap: it records each stage's result and emits one
 * completion per file, (token, result, flags), when its CLOSE completes.
 * result: the open's or read's -errno, else the byte count. */

#define DX_BATCH_TAG (1ULL << 63)
#define DX_F_TRUNCATED 0x100u
enum { ST_OPEN, ST_READ, ST_PROBE, ST_CLOSE };

struct dx_batch;
typedef struct dx_file {
    struct dx_batch *batch;
    uint64_t token;
    int32_t open_res, read_res, probe_res;
    uint32_t slot;
    uint32_t stage;     /* the link now running (ST_OPEN..ST_CLOSE) */
    uint32_t cancelled;
} dx_file; /* 8-aligned, so the low 3 bits of its address are free */

typedef struct dx_batch {
    dx_ring *ring;
    char *buf;      /* n * slot_size bytes: file i lands at i * slot_size */
    char *paths;    /* copy of the NUL-terminated paths */
    char *probes;   /* one byte per file for the probe read */
    size_t slot_size;
    unsigned n, prepared, remaining;
    dx_file files[];
} dx_batch;

static inline uint64_t file_tag(dx_file *f, int stage)
{
    return DX_BATCH_TAG | (uint64_t)(uintptr_t)f | (uint64_t)stage;
}

/* Batch buffers are large (window x slot size) and short-lived: a fresh
 * malloc of that size is a fresh mmap, and the kernel's copy into it then
 * page-faults once per file.  One spare buffer is kept for the process and
 * reused (its pages stay mapped) until a ring closes; the size rides in a
 * header. */
#define BUF_HEADER 64
static char *spare_buf; /* swapped atomically: loops may run on several threads */

static char *buf_get(size_t size)
{
    char *p = __atomic_exchange_n(&spare_buf, NULL, __ATOMIC_ACQ_REL);
    if (p && *(size_t *)p < size) {
        free(p);
        p = NULL;
    }
    if (!p) {
        p = malloc(size + BUF_HEADER);
        if (!p)
            return NULL;
        *(size_t *)p = size;
    }
    return p + BUF_HEADER;
}

static void buf_put(char *data)
{
    if (!data)
        return;
    char *old = __atomic_exchange_n(&spare_buf, data - BUF_HEADER, __ATOMIC_ACQ_REL);
    free(old);
}

void dx_batch_free(dx_batch *b)
{
    if (!b)
        return;
    buf_put(b->buf);
    free(b->paths);
    free(b->probes);
    free(b);
}

/* Prepare the chains for `n` files.  `paths` holds n NUL-terminated paths
 * back to back (`paths_len` bytes).  Needs n free registered slots
 * (-ENFILE otherwise).  Returns the batch (free with dx_batch_free once
 * every file has completed), or NULL with *err = -errno. */
dx_batch *dx_read_files(dx_ring *r, const uint64_t *tokens, unsigned n, const char *paths,
                        size_t paths_len, size_t slot_size, int *err)
{
    *err = 0;
    if (!r->free_slots) {
        *err = -EOPNOTSUPP;
        return NULL;
    }
    if (n > r->nfree) {
        *err = -ENFILE;
        return NULL;
    }
    if (slot_size == 0 || slot_size > 0x7FFFF000u) {
        *err = -EINVAL;
        return NULL;
    }
    dx_batch *b = calloc(1, sizeof *b + (size_t)n * sizeof(dx_file));
    if (!b) {
        *err = -ENOMEM;
        return NULL;
    }
    b->ring = r;
    b->n = n;
    b->slot_size = slot_size;
    b->buf = buf_get(n ? (size_t)n * slot_size : 1); /* not zeroed: only filled bytes are read */
    b->paths = malloc(paths_len ? paths_len : 1);
    b->probes = malloc(n ? n : 1);
    if (!b->buf || !b->paths || !b->probes) {
        dx_batch_free(b);
        *err = -ENOMEM;
        return NULL;
    }
    memcpy(b->paths, paths, paths_len);
    int ret = enable(r);
    if (ret < 0) {
        dx_batch_free(b);
        *err = ret;
        return NULL;
    }
    const char *path = b->paths;
    for (unsigned i = 0; i < n; i++) {
        dx_file *f = &b->files[i];
        f->batch = b;
        f->token = tokens[i];
        /* A chain must not be split across two submissions. */
        for (int tries = 0; io_uring_sq_space_left(&r->ring) < 4; tries++) {
            if (tries == 3 && !(r->setup_flags & IORING_SETUP_SQPOLL))
                return b; /* b->prepared < n: the caller fails the rest */
            io_uring_submit(&r->ring);
            /* SQPOLL: the kernel thread frees SQ room as it consumes */
            if ((r->setup_flags & IORING_SETUP_SQPOLL) && io_uring_sqring_wait(&r->ring) < 0)
                return b;
        }
        struct io_uring_sqe *sqe[4];
        for (int s = 0; s < 4; s++)
            sqe[s] = io_uring_get_sqe(&r->ring); /* space checked above */
        f->slot = r->free_slots[--r->nfree];
        io_uring_prep_openat_direct(sqe[0], AT_FDCWD, path, O_RDONLY, 0, f->slot);
        io_uring_prep_read(sqe[1], f->slot, b->buf + (size_t)i * slot_size, (unsigned)slot_size,
                           (uint64_t)-1);
        io_uring_prep_read(sqe[2], f->slot, b->probes + i, 1, (uint64_t)-1);
        io_uring_prep_close_direct(sqe[3], f->slot);
        for (int s = 0; s < 4; s++) {
            if (s == ST_READ || s == ST_PROBE) /* CLOSE names its slot itself */
                sqe[s]->flags |= IOSQE_FIXED_FILE;
            if (s < 3)
                sqe[s]->flags |= IOSQE_IO_HARDLINK;
            io_uring_sqe_set_data64(sqe[s], file_tag(f, s));
        }
        path += strlen(path) + 1;
        b->prepared++;
        b->remaining++;
        r->batch_files++;
    }
    return b;
}

/* Cancel the link of file f now running, if it is one that may wait. */
static int cancel_stage(dx_ring *r, dx_file *f)
{
    if (f->stage > ST_PROBE)
        return 0; /* the CLOSE always runs: it frees the slot */
    struct io_uring_sqe *sqe = get_sqe(r);
    if (!sqe)
        return -EBUSY;
    io_uring_prep_cancel64(sqe, file_tag(f, f->stage), 0);
    io_uring_sqe_set_data64(sqe, DX_IGNORE);
    return 0;
}

/* Ask the kernel to cancel file i's open and reads (its CLOSE still runs).
 * A link is only issued once the previous one completed, so each later
 * link is cancelled in turn as it starts (see batch_cqe). */
int dx_batch_cancel(dx_ring *r, dx_batch *b, unsigned i)
{
    if (i >= b->prepared)
        return 0;
    dx_file *f = &b->files[i];
    f->cancelled = 1;
    return cancel_stage(r, f);
}

char *dx_batch_data(dx_batch *b, unsigned i) { return b->buf + (size_t)i * b->slot_size; }
unsigned dx_batch_prepared(dx_batch *b) { return b->prepared; }
unsigned dx_batch_remaining(dx_batch *b) { return b->remaining; }

/* One CQE of a batch chain; returns 1 (and fills *out) when the file is done. */
static int batch_cqe(dx_ring *r, uint64_t user_data, int32_t res, dx_cqe *out)
{
    dx_file *f = (dx_file *)(uintptr_t)(user_data & ~(DX_BATCH_TAG | 7ULL));
    int stage = (int)(user_data & 7);
    if (stage != ST_CLOSE) {
        if (stage == ST_OPEN)
            f->open_res = res;
        else if (stage == ST_READ)
            f->read_res = res;
        else
            f->probe_res = res;
        f->stage = stage + 1;
        if (f->cancelled)
            cancel_stage(r, f);
        return 0;
    }
    /* CLOSE: the slot is free again, the file is finished. */
    r->free_slots[r->nfree++] = f->slot;
    f->batch->remaining--;
    r->batch_files--;
    out->token = f->token;
    out->flags = 0;
    if (f->open_res < 0)
        out->res = f->open_res;
    else if (f->read_res < 0)
        out->res = f->read_res;
    else if (f->probe_res < 0)
        out->res = f->probe_res;
    else {
        out->res = f->read_res;
        if (f->probe_res > 0)
            out->flags = DX_F_TRUNCATED;
    }
    return 1;
}

/* ---- driving ------------------------------------------------------------ */

/* Submit queued SQEs; if `wait`, block until a completion arrives or
 * `timeout_ns` passes (< 0: no limit).  Then copy up to `max` CQEs into
 * `out`, skipping our own cancel requests.  Returns the number copied, or
 * -errno for a failure that is not a timeout or a signal. */
int dx_reap(dx_ring *r, dx_cqe *out, unsigned max, int wait, int64_t timeout_ns)
{
    struct io_uring *ring = &r->ring;
    struct io_uring_cqe *cqe;
    int ret = enable(r);
    if (ret < 0)
        return ret;
    if (wait && !io_uring_cq_ready(ring)) {
        if (timeout_ns < 0) {
            ret = io_uring_submit_and_wait(ring, 1);
        } else {
            struct __kernel_timespec ts = {
                .tv_sec = timeout_ns / 1000000000LL,
                .tv_nsec = timeout_ns % 1000000000LL,
            };
            ret = io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, NULL);
        }
    } else if (r->setup_flags & IORING_SETUP_DEFER_TASKRUN) {
        ret = io_uring_submit_and_get_events(ring); /* completions wait for us */
    } else {
        ret = io_uring_submit(ring);
    }
    if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN)
        return ret;
    unsigned head, seen, n = 0;
    /* read_files chains advance one link per task-work run, and the kernel
     * runs a bounded amount of task work per io_uring_enter: while chains
     * are in flight and progressing, ask for more events here rather than
     * return to Python for every few completions. */
    for (int round = 0;; round++) {
        seen = 0;
        io_uring_for_each_cqe(ring, head, cqe) {
            if (n == max)
                break;
            seen++;
            if (cqe->user_data == DX_IGNORE)
                continue;
            if (cqe->user_data & DX_BATCH_TAG) {
                if (batch_cqe(r, cqe->user_data, cqe->res, &out[n]))
                    n++;
                continue;
            }
            out[n].token = cqe->user_data;
            out[n].res = cqe->res;
            out[n].flags = cqe->flags;
            n++;
        }
        io_uring_cq_advance(ring, seen);
        if (!r->batch_files || n == max || round == 256)
            break;
        io_uring_get_events(ring);
        if (!io_uring_cq_ready(ring))
            break; /* the rest is on io-wq workers: the next wait gets it */
    }
    return (int)n;
}

void dx_close(dx_ring *r)
{
    io_uring_queue_exit(&r->ring);
    free(__atomic_exchange_n(&spare_buf, NULL, __ATOMIC_ACQ_REL)); /* keep no idle memory */
    if (r->br) {
        munmap(r->br, r->br_bytes);
        free(r->bufs);
    }
    free(r->slot_of_fd);
    free(r->free_slots);
    free(r);
}
