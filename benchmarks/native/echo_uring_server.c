/*
 * echo_uring_server: single-threaded io_uring TCP echo server, the second
 * ceiling reference (beside the epoll one in echo_server.c).
 *
 * Usage: echo_uring_server [PORT]      (PORT 0 or omitted: pick a free port)
 *
 * Listens on 127.0.0.1, prints the bound port as one line on stdout once the
 * socket is listening, then echoes every byte back until killed.
 *
 * It is what an io_uring event loop could do at best, with no interpreter:
 *   - one multishot ACCEPT on the listener;
 *   - one multishot RECV per connection, selecting buffers from a provided-
 *     buffer ring (the kernel picks a buffer only when data arrives, so idle
 *     connections hold no memory);
 *   - received buffers are sent back as they are (no copy: one SENDMSG
 *     gathers every buffer a connection has queued) and returned to the
 *     ring when that send completes;
 *   - every SEND and re-arm prepared while handling one batch of completions
 *     goes to the kernel in the next io_uring_submit_and_wait: one
 *     io_uring_enter per loop iteration for all connections (epoll needs a
 *     recv and a send system call per message).
 * The ring runs SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them
 * (completion work runs when we ask for events, not per packet), as dxpy's
 * reactor does.
 *
 * Per connection at most one SEND is in flight (two sends on one stream
 * socket may complete out of order); buffers received meanwhile wait in a
 * FIFO threaded through next_bid[].  If the buffer ring runs dry the kernel
 * ends the multishot RECV with -ENOBUFS; the connection re-arms once buffers
 * come back, which bounds memory like the epoll server's stop-reading rule.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE (64 * 1024) /* the epoll server's read size */
#define NBUFS 1024           /* power of two (a buffer ring requirement) */
#define BGID 0
#define SQ_ENTRIES 4096
#define CQ_ENTRIES 16384
#define NO_BID 0xFFFF
#define MAX_IOV 64           /* buffers gathered into one SENDMSG */

/* user_data: a conn pointer (8-byte aligned) with the operation in the low bits */
enum op { OP_ACCEPT = 0, OP_RECV = 1, OP_SEND = 2 };
#define OP_MASK 3u

struct conn {
    int fd;
    int recv_armed;    /* a multishot RECV may still post completions */
    int send_inflight; /* one SEND at a time per socket keeps the bytes in order */
    int dead;          /* EOF or error seen: release once nothing is in flight */
    int starved;       /* RECV ended with ENOBUFS: re-arm when buffers return */
    unsigned head_bid, tail_bid; /* FIFO of received buffers not yet fully sent */
    unsigned sent;     /* bytes of the head buffer already sent */
    struct conn *next_starved;
    struct msghdr msg; /* the in-flight SENDMSG's, alive until it completes */
    struct iovec iov[MAX_IOV];
};

static struct io_uring g_ring;
static struct io_uring_buf_ring *g_br;
static unsigned char *g_bufs;
static unsigned g_buf_len[NBUFS];  /* bytes received into each buffer */
static unsigned g_next_bid[NBUFS]; /* FIFO link of a connection's pending buffers */
static int g_recycled;             /* buffers added to the ring since the last advance */
static struct conn *g_starved;     /* connections waiting for free buffers */
static int g_lfd;

static void fail(const char *what, int err) {
    fprintf(stderr, "%s: %s\n", what, strerror(err));
    exit(1);
}

static unsigned char *buf_addr(unsigned bid) { return g_bufs + (size_t)bid * BUF_SIZE; }

/* An SQE, flushing the submission queue first if it is full (rare: the
   queue holds SQ_ENTRIES and one iteration prepares about two per conn). */
static struct io_uring_sqe *get_sqe(void) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&g_ring);
    while (sqe == NULL) {
        int ret = io_uring_submit(&g_ring);
        if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
            fail("io_uring_submit", -ret);
        sqe = io_uring_get_sqe(&g_ring);
    }
    return sqe;
}

static void recycle(unsigned bid) {
    io_uring_buf_ring_add(g_br, buf_addr(bid), BUF_SIZE, (unsigned short)bid,
                          io_uring_buf_ring_mask(NBUFS), g_recycled++);
}

static void arm_accept(void) {
    struct io_uring_sqe *sqe = get_sqe();
    io_uring_prep_multishot_accept(sqe, g_lfd, NULL, NULL, 0);
    io_uring_sqe_set_data64(sqe, OP_ACCEPT);
}

static void arm_recv(struct conn *c) {
    struct io_uring_sqe *sqe = get_sqe();
    io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BGID;
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | OP_RECV);
    c->recv_armed = 1;
}

/* Send every buffer queued on the connection in one SENDMSG (an iovec per
   buffer, the head one from where the last send stopped).  MSG_WAITALL makes
   the kernel retry a short send itself; a short result is still handled. */
static void start_send(struct conn *c) {
    int n = 0;
    for (unsigned bid = c->head_bid; bid != NO_BID && n < MAX_IOV; bid = g_next_bid[bid], n++) {
        unsigned skip = n == 0 ? c->sent : 0;
        c->iov[n].iov_base = buf_addr(bid) + skip;
        c->iov[n].iov_len = g_buf_len[bid] - skip;
    }
    memset(&c->msg, 0, sizeof c->msg);
    c->msg.msg_iov = c->iov;
    c->msg.msg_iovlen = (size_t)n;
    struct io_uring_sqe *sqe = get_sqe();
    io_uring_prep_sendmsg(sqe, c->fd, &c->msg, MSG_WAITALL | MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | OP_SEND);
    c->send_inflight = 1;
}

/* Return every pending buffer; free the connection when the kernel holds
   nothing of it any more (no RECV armed, no SEND in flight). */
static void maybe_release(struct conn *c) {
    if (!c->dead || c->recv_armed || c->send_inflight)
        return;
    for (unsigned bid = c->head_bid; bid != NO_BID; bid = g_next_bid[bid])
        recycle(bid);
    if (c->starved) { /* unlink from the starved list */
        struct conn **p = &g_starved;
        while (*p != c)
            p = &(*p)->next_starved;
        *p = c->next_starved;
    }
    close(c->fd);
    free(c);
}

/* EOF or an error: stop receiving (shutdown ends an armed multishot RECV). */
static void kill_conn(struct conn *c) {
    if (!c->dead) {
        c->dead = 1;
        shutdown(c->fd, SHUT_RDWR);
    }
    maybe_release(c);
}

static void on_accept(int res, unsigned flags) {
    if (!(flags & IORING_CQE_F_MORE))
        arm_accept();
    if (res < 0) {
        if (res == -EINTR || res == -ECONNABORTED || res == -EAGAIN)
            return;
        fail("accept", -res);
    }
    int one = 1;
    setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        fail("calloc", ENOMEM);
    c->fd = res;
    c->head_bid = c->tail_bid = NO_BID;
    arm_recv(c);
}

static void on_recv(struct conn *c, int res, unsigned flags) {
    if (!(flags & IORING_CQE_F_MORE))
        c->recv_armed = 0;
    if (res > 0) {
        unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
        if (c->dead) {
            recycle(bid);
            maybe_release(c);
            return;
        }
        g_buf_len[bid] = (unsigned)res;
        g_next_bid[bid] = NO_BID;
        if (c->tail_bid == NO_BID)
            c->head_bid = bid;
        else
            g_next_bid[c->tail_bid] = bid;
        c->tail_bid = bid;
        if (!c->send_inflight)
            start_send(c);
        if (!c->recv_armed) /* the kernel ended the multishot (e.g. CQ pressure) */
            arm_recv(c);
        return;
    }
    if (res == -ENOBUFS && !c->dead) {
        if (!c->starved) {
            c->starved = 1;
            c->next_starved = g_starved;
            g_starved = c;
        }
        return;
    }
    kill_conn(c); /* 0 is EOF; anything else negative is an error */
}

static void on_send(struct conn *c, int res) {
    c->send_inflight = 0;
    if (res < 0 || c->dead) {
        kill_conn(c);
        return;
    }
    unsigned left = (unsigned)res;
    while (left > 0) { /* retire the buffers this send covered */
        unsigned bid = c->head_bid;
        unsigned chunk = g_buf_len[bid] - c->sent;
        if (left < chunk) {
            c->sent += left;
            break;
        }
        left -= chunk;
        c->sent = 0;
        c->head_bid = g_next_bid[bid];
        if (c->head_bid == NO_BID)
            c->tail_bid = NO_BID;
        recycle(bid);
    }
    if (c->head_bid != NO_BID)
        start_send(c);
}

/* Make recycled buffers visible to the kernel, then re-arm starved receivers. */
static void publish_buffers(void) {
    if (g_recycled == 0)
        return;
    io_uring_buf_ring_advance(g_br, g_recycled);
    g_recycled = 0;
    while (g_starved) {
        struct conn *c = g_starved;
        g_starved = c->next_starved;
        c->starved = 0;
        if (!c->recv_armed)
            arm_recv(c);
    }
}

static void dispatch(struct io_uring_cqe *cqe) {
    uint64_t data = io_uring_cqe_get_data64(cqe);
    struct conn *c = (struct conn *)(uintptr_t)(data & ~(uint64_t)OP_MASK);
    switch (data & OP_MASK) {
    case OP_ACCEPT:
        on_accept(cqe->res, cqe->flags);
        break;
    case OP_RECV:
        on_recv(c, cqe->res, cqe->flags);
        break;
    case OP_SEND:
        on_send(c, cqe->res);
        break;
    }
}

static int listen_on(int port) {
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0)
        fail("socket", errno);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0)
        fail("bind", errno);
    if (listen(lfd, 1024) < 0)
        fail("listen", errno);
    socklen_t len = sizeof addr;
    if (getsockname(lfd, (struct sockaddr *)&addr, &len) < 0)
        fail("getsockname", errno);
    printf("%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    return lfd;
}

/* The fastest ring mode the kernel accepts, falling back to a plain ring. */
static void setup_ring(void) {
    static const unsigned modes[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE,
        IORING_SETUP_CQSIZE,
    };
    int ret = -EINVAL;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        struct io_uring_params p;
        memset(&p, 0, sizeof p);
        p.flags = modes[i];
        p.cq_entries = CQ_ENTRIES;
        ret = io_uring_queue_init_params(SQ_ENTRIES, &g_ring, &p);
        if (ret == 0)
            return;
        if (ret != -EINVAL)
            break;
    }
    fail("io_uring_queue_init_params", -ret);
}

static void setup_buffers(void) {
    size_t ring_bytes = NBUFS * sizeof(struct io_uring_buf);
    void *ring_mem = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    g_bufs = mmap(NULL, (size_t)NBUFS * BUF_SIZE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ring_mem == MAP_FAILED || g_bufs == MAP_FAILED)
        fail("mmap", errno);
    g_br = ring_mem;
    io_uring_buf_ring_init(g_br);
    struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)(uintptr_t)ring_mem,
                                   .ring_entries = NBUFS, .bgid = BGID};
    int ret = io_uring_register_buf_ring(&g_ring, &reg, 0);
    if (ret < 0)
        fail("io_uring_register_buf_ring", -ret);
    for (unsigned bid = 0; bid < NBUFS; bid++)
        recycle(bid);
    io_uring_buf_ring_advance(g_br, g_recycled);
    g_recycled = 0;
}

int main(int argc, char **argv) {
    g_lfd = listen_on(argc > 1 ? atoi(argv[1]) : 0);
    setup_ring();
    setup_buffers();
    arm_accept();
    for (;;) {
        /* The single system call of an iteration: submit, then wait. */
        int ret = io_uring_submit_and_wait(&g_ring, 1);
        if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
            fail("io_uring_submit_and_wait", -ret);
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&g_ring, head, cqe) {
            dispatch(cqe);
            seen++;
        }
        io_uring_cq_advance(&g_ring, seen);
        publish_buffers();
    }
}
