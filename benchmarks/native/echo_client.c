/*
 * echo_client: closed-loop load generator for echo servers.
 *
 * Usage: echo_client HOST PORT CONNS SIZE WARMUP_S DURATION_S
 *
 * Opens CONNS TCP connections; on each one it sends a SIZE-byte message,
 * waits until all SIZE bytes came back, then immediately sends the next one.
 * Requests completed during the WARMUP_S seconds are discarded; the ones
 * completed during the following DURATION_S seconds are counted.  On success
 * a single JSON line is printed on stdout:
 *
 *   {"requests": N, "seconds": T, "rps": R, "conns": C, "size": S, "stalled": K}
 *
 * "stalled" is the number of connections that completed no request during
 * the measured window (a hint that the server starved or lost a connection).
 * Any error (connect failure, reset, EOF, corrupted echo) prints a message on
 * stderr and exits with status 1.
 *
 * Written in C with one epoll thread so that the client costs far less CPU
 * than any server under test and never becomes the bottleneck.  Level-
 * triggered epoll; a connection watches EPOLLOUT only while it still has
 * bytes of its request to send, and always watches EPOLLIN so that large
 * messages are read back while still being written (otherwise both sides'
 * socket buffers fill and the pair deadlocks).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECV_CHUNK (256 * 1024)
#define MAX_EVENTS 256
#define POLL_TIMEOUT_MS 50

struct conn {
    int fd;
    size_t sent;          /* bytes of the current request already sent */
    size_t received;      /* bytes of the current response already received */
    int want_out;         /* EPOLLOUT currently registered */
    unsigned long done;   /* requests completed on this connection */
    unsigned long done_at_start; /* snapshot when the measured window opened */
};

static unsigned char *g_msg;
static size_t g_size;
static int g_epfd;
static unsigned char g_rx[RECV_CHUNK];

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set_interest(struct conn *c, int want_out) {
    if (c->want_out == want_out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(g_epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl(MOD): %s", strerror(errno));
    c->want_out = want_out;
}

/* Send as much of the current request as the socket accepts. */
static void pump_send(struct conn *c) {
    while (c->sent < g_size) {
        ssize_t n = send(c->fd, g_msg + c->sent, g_size - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            die("send: %s", strerror(errno));
        }
        c->sent += (size_t)n;
    }
    set_interest(c, c->sent < g_size);
}

/* Read available bytes, verify them, and start the next request when done.
   Stops after a short read instead of probing for EAGAIN: epoll is level-
   triggered, so leftovers are reported again, and the client saves one
   syscall per request (it must stay much cheaper than the servers). */
static void pump_recv(struct conn *c) {
    for (;;) {
        size_t want = g_size - c->received;
        if (want > RECV_CHUNK)
            want = RECV_CHUNK;
        ssize_t n = recv(c->fd, g_rx, want, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            die("recv: %s", strerror(errno));
        }
        if (n == 0)
            die("recv: server closed the connection");
        if (c->received + (size_t)n > c->sent)
            die("protocol: received %zu bytes but only sent %zu", c->received + (size_t)n, c->sent);
        if (memcmp(g_rx, g_msg + c->received, (size_t)n) != 0)
            die("protocol: echoed bytes differ from sent bytes at offset %zu", c->received);
        c->received += (size_t)n;
        if (c->received == g_size) {
            c->done++;
            c->sent = c->received = 0;
            pump_send(c);
            return;
        }
        if ((size_t)n < want)
            return;
    }
}

static int connect_one(const struct addrinfo *ai) {
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        die("connect: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        die("fcntl: %s", strerror(errno));
    return fd;
}

static double parse_seconds(const char *s, const char *what) {
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || v < 0)
        die("bad %s: %s", what, s);
    return v;
}

static long parse_positive(const char *s, const char *what) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v <= 0)
        die("bad %s: %s", what, s);
    return v;
}

int main(int argc, char **argv) {
    if (argc != 7)
        die("usage: %s HOST PORT CONNS SIZE WARMUP_S DURATION_S", argv[0]);
    const char *host = argv[1], *port = argv[2];
    long nconns = parse_positive(argv[3], "CONNS");
    g_size = (size_t)parse_positive(argv[4], "SIZE");
    double warmup = parse_seconds(argv[5], "WARMUP_S");
    double duration = parse_seconds(argv[6], "DURATION_S");

    /* Position-dependent pattern so that shifted, dropped or duplicated
       bytes are caught by the memcmp in pump_recv. */
    g_msg = malloc(g_size);
    if (!g_msg)
        die("malloc(%zu) failed", g_size);
    for (size_t i = 0; i < g_size; i++)
        g_msg[i] = (unsigned char)((i * 7 + i / 251) & 0xff);

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0)
        die("getaddrinfo(%s, %s): %s", host, port, gai_strerror(rc));

    g_epfd = epoll_create1(0);
    if (g_epfd < 0)
        die("epoll_create1: %s", strerror(errno));
    struct conn *conns = calloc((size_t)nconns, sizeof *conns);
    if (!conns)
        die("calloc failed");
    /* Connect everything first so that connection setup is not measured. */
    for (long i = 0; i < nconns; i++) {
        struct conn *c = &conns[i];
        c->fd = connect_one(ai);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
            die("epoll_ctl(ADD): %s", strerror(errno));
    }
    freeaddrinfo(ai);
    for (long i = 0; i < nconns; i++)
        pump_send(&conns[i]);

    double t0 = now_s();
    double window_open = t0 + warmup, window_close = window_open + duration;
    double measured_from = 0.0, now = t0;
    unsigned long total = 0, total_at_start = 0;
    int measuring = 0;
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(g_epfd, events, MAX_EVENTS, POLL_TIMEOUT_MS);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            unsigned long before = c->done;
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                pump_recv(c);
            if (events[i].events & EPOLLOUT)
                pump_send(c);
            total += c->done - before;
        }
        now = now_s();
        if (!measuring && now >= window_open) {
            measuring = 1;
            measured_from = now;
            total_at_start = total;
            for (long i = 0; i < nconns; i++)
                conns[i].done_at_start = conns[i].done;
        }
        if (measuring && now >= window_close)
            break;
    }

    double seconds = now - measured_from;
    unsigned long requests = total - total_at_start;
    long stalled = 0;
    for (long i = 0; i < nconns; i++)
        stalled += conns[i].done == conns[i].done_at_start;
    printf("{\"requests\": %lu, \"seconds\": %.6f, \"rps\": %.1f, \"conns\": %ld, "
           "\"size\": %zu, \"stalled\": %ld}\n",
           requests, seconds, seconds > 0 ? (double)requests / seconds : 0.0, nconns, g_size,
           stalled);
    return 0;
}
