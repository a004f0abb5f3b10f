/*
 * echo_server: single-threaded epoll TCP echo server, the ceiling reference.
 *
 * Usage: echo_server [PORT]      (PORT 0 or omitted: pick a free port)
 *
 * Listens on 127.0.0.1, prints the bound port as one line on stdout once the
 * socket is listening, then echoes every byte back until killed.
 *
 * It does what a Python event loop's echo server does at the syscall level
 * (read up to 64 KiB, write it back, wait for EPOLLOUT only when the socket
 * buffer is full) with no per-event interpreter work, so the Python loops'
 * numbers can be read as a percentage of what this machine's kernel allows.
 * While a connection has unsent bytes it stops reading, which bounds the
 * buffer to one chunk per connection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK (64 * 1024)
#define MAX_EVENTS 256

struct conn {
    int fd;
    size_t len;  /* bytes in buf */
    size_t off;  /* bytes of buf already written back */
    unsigned char buf[CHUNK];
};

static int g_epfd;

static void fail(const char *what) {
    perror(what);
    exit(1);
}

static void watch(struct conn *c, int op, unsigned events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(g_epfd, op, c->fd, &ev) < 0)
        fail("epoll_ctl");
}

static void drop(struct conn *c) {
    close(c->fd); /* close() also removes it from the epoll set */
    free(c);
}

/* Write pending bytes; returns 0 if the connection failed and was dropped. */
static int flush(struct conn *c) {
    while (c->off < c->len) {
        ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                watch(c, EPOLL_CTL_MOD, EPOLLOUT);
                return 1;
            }
            drop(c);
            return 0;
        }
        c->off += (size_t)n;
    }
    c->off = c->len = 0;
    return 1;
}

/* Echo what is readable; switches interest back to EPOLLIN after a flush.
   Like libuv, it reads again only after a full chunk: a short read means the
   socket is drained, and level-triggered epoll reports any later bytes. */
static void serve(struct conn *c, unsigned events) {
    if (events & EPOLLOUT) {
        if (!flush(c))
            return;
        if (c->len)
            return;
        watch(c, EPOLL_CTL_MOD, EPOLLIN);
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->buf, CHUNK, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            drop(c);
            return;
        }
        c->len = (size_t)n;
        c->off = 0;
        if (!flush(c) || c->len || n < CHUNK)
            return;
    }
}

static void accept_all(int lfd) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            fail("accept4");
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = malloc(sizeof *c);
        if (!c)
            fail("malloc");
        c->fd = fd;
        c->len = c->off = 0;
        watch(c, EPOLL_CTL_ADD, EPOLLIN);
    }
}

static int listen_on(int port) {
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0)
        fail("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0)
        fail("bind");
    if (listen(lfd, 1024) < 0)
        fail("listen");
    socklen_t len = sizeof addr;
    if (getsockname(lfd, (struct sockaddr *)&addr, &len) < 0)
        fail("getsockname");
    printf("%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    return lfd;
}

int main(int argc, char **argv) {
    int lfd = listen_on(argc > 1 ? atoi(argv[1]) : 0);
    g_epfd = epoll_create1(0);
    if (g_epfd < 0)
        fail("epoll_create1");
    /* The listener is tagged with a NULL pointer to tell it from connections. */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, lfd, &ev) < 0)
        fail("epoll_ctl");
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(g_epfd, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL)
                accept_all(lfd);
            else
                serve(events[i].data.ptr, events[i].events);
        }
    }
}
