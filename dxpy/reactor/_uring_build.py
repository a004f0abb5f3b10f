"""cffi build script for the io_uring reactor's C helpers (API mode).

Run by ``setup.py`` at install time (loaded by path, so the package itself
is not imported during the build).  The C source sits beside this file in
``uring_helpers.c``; liburing is linked from the system (Debian:
``liburing-dev``).
"""

from pathlib import Path

from cffi import FFI

CDEF = """
typedef struct dx_ring dx_ring;
typedef struct { uint64_t token; int32_t res; uint32_t flags; } dx_cqe;
typedef struct dx_msg { ...; } dx_msg;
struct __kernel_timespec { int64_t tv_sec; long long tv_nsec; };
struct statx_timestamp { int64_t tv_sec; uint32_t tv_nsec; ...; };
struct statx {
    uint32_t stx_mask; uint32_t stx_blksize; uint32_t stx_nlink; uint32_t stx_uid;
    uint32_t stx_gid; uint16_t stx_mode; uint64_t stx_ino; uint64_t stx_size;
    uint64_t stx_blocks; struct statx_timestamp stx_atime; struct statx_timestamp stx_ctime;
    struct statx_timestamp stx_mtime; uint32_t stx_rdev_major; uint32_t stx_rdev_minor;
    uint32_t stx_dev_major; uint32_t stx_dev_minor; ...;
};

#define IORING_OP_SEND_ZC ...
#define IORING_SETUP_SQPOLL ...
#define IORING_SETUP_COOP_TASKRUN ...
#define IORING_SETUP_SUBMIT_ALL ...
#define IORING_SETUP_DEFER_TASKRUN ...
#define IORING_FEAT_FAST_POLL ...
#define IORING_FEAT_EXT_ARG ...
#define IORING_CQE_F_NOTIF ...

dx_ring *dx_open(unsigned entries, unsigned cq_entries, int sqpoll, int single_issuer, int *err);
unsigned dx_setup_flags(dx_ring *r);
unsigned dx_features(dx_ring *r);
int dx_ring_fd(dx_ring *r);
int dx_opcode_supported(dx_ring *r, int op);

int dx_setup_buffers(dx_ring *r, unsigned nbufs, unsigned bufsize, int bgid);
char *dx_buffer(dx_ring *r, unsigned bid);
void dx_recycle(dx_ring *r, unsigned bid);

int dx_setup_files(dx_ring *r, unsigned nslots, unsigned fd_cap);
int dx_register_fd(dx_ring *r, int fd);
int dx_unregister_fd(dx_ring *r, int fd);
unsigned dx_free_slots(dx_ring *r);

int dx_recv(dx_ring *r, uint64_t token, int fd, void *buf, size_t len, int flags);
int dx_recv_multishot(dx_ring *r, uint64_t token, int fd);
int dx_send(dx_ring *r, uint64_t token, int fd, const void *buf, size_t len, int flags);
int dx_send_zc(dx_ring *r, uint64_t token, int fd, const void *buf, size_t len);
int dx_read(dx_ring *r, uint64_t token, int fd, void *buf, unsigned len, int64_t offset);
int dx_write(dx_ring *r, uint64_t token, int fd, const void *buf, unsigned len, int64_t offset);
void dx_msg_init(dx_msg *m, void *buf, size_t len, const void *addr, unsigned addrlen);
unsigned dx_msg_namelen(dx_msg *m);
char *dx_msg_name(dx_msg *m);
int dx_recvmsg(dx_ring *r, uint64_t token, int fd, dx_msg *m, int flags);
int dx_sendmsg(dx_ring *r, uint64_t token, int fd, dx_msg *m, int flags);
int dx_accept(dx_ring *r, uint64_t token, int fd, int multishot);
int dx_connect(dx_ring *r, uint64_t token, int fd, const void *addr, unsigned addrlen);
int dx_poll_add(dx_ring *r, uint64_t token, int fd, unsigned mask, int multishot);
int dx_timeout(dx_ring *r, uint64_t token, struct __kernel_timespec *ts);
int dx_close_fd(dx_ring *r, uint64_t token, int fd);
int dx_openat(dx_ring *r, uint64_t token, int dirfd, const char *path, int flags, unsigned mode);
int dx_fsync(dx_ring *r, uint64_t token, int fd, int datasync);
int dx_statx(dx_ring *r, uint64_t token, int dirfd, const char *path, int flags, struct statx *buf);
int dx_renameat(dx_ring *r, uint64_t token, int olddfd, const char *oldpath, int newdfd,
                const char *newpath, unsigned flags);
int dx_unlinkat(dx_ring *r, uint64_t token, int dfd, const char *path, int flags);
int dx_mkdirat(dx_ring *r, uint64_t token, int dfd, const char *path, unsigned mode);
int dx_symlinkat(dx_ring *r, uint64_t token, const char *target, int newdfd,
                 const char *linkpath);
int dx_linkat(dx_ring *r, uint64_t token, int olddfd, const char *oldpath, int newdfd,
              const char *newpath, int flags);
int dx_splice(dx_ring *r, uint64_t token, int fd_in, int64_t off_in, int fd_out,
              int64_t off_out, unsigned nbytes, unsigned flags);
int dx_read_async(dx_ring *r, uint64_t token, int fd, void *buf, unsigned len, int64_t offset);
int dx_cancel(dx_ring *r, uint64_t token);
int dx_cancel_all(dx_ring *r);

typedef struct dx_batch dx_batch;
#define DX_F_TRUNCATED ...
dx_batch *dx_read_files(dx_ring *r, const uint64_t *tokens, unsigned n, const char *paths,
                        size_t paths_len, size_t slot_size, int *err);
int dx_batch_cancel(dx_ring *r, dx_batch *b, unsigned i);
char *dx_batch_data(dx_batch *b, unsigned i);
unsigned dx_batch_remaining(dx_batch *b);
unsigned dx_batch_prepared(dx_batch *b);
void dx_batch_free(dx_batch *b);

int dx_submit(dx_ring *r);
int dx_needs_enter(dx_ring *r);
int dx_reap(dx_ring *r, dx_cqe *out, unsigned max, int wait, int64_t timeout_ns);
void dx_close(dx_ring *r);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "dxpy.reactor._uring",
    (Path(__file__).parent / "uring_helpers.c").read_text(),
    libraries=["uring"],
    extra_compile_args=["-O2"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
