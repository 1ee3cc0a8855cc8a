/*
 * server_park.c - requests that wait without holding a thread.
 *
 * A long poll (GET /v1/jobs/{id}?wait=N) or an event stream with nothing to
 * send suspends its connection (libmicrohttpd's MHD_suspend_connection) and
 * is resumed by its waker: the event hub when the job finishes or an event
 * arrives, the watchdog when its deadline passes or the server stops. MHD
 * allows suspending only from its own callbacks and resuming from any
 * thread; a wake may come before the handler got to suspend, so each waker
 * has a state under the server's pmu: a wake while the request runs is kept
 * (pending) and the next park returns at once instead of suspending. MHD
 * must not be stopped with a connection suspended: once closing is set
 * nothing is suspended any more and every parked connection is resumed.
 *
 * While a connection is suspended MHD does not watch its socket, so a
 * client that went away would only be noticed at the next write (a stream's
 * ping, 15 s on). The watchdog peeks at the parked sockets every second
 * (server__check_parked) and resumes those whose peer closed or reset: a
 * long poll answers (the write fails and MHD closes the connection), a
 * stream ends with an error (server__waker_gone), freeing their places.
 *
 * Lock order: pmu, then MHD's own mutexes (inside suspend/resume). MHD
 * calls our callbacks without holding its mutexes, so no cycle.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <microhttpd.h>

#include "service/core/mem.h"
#include "service/core/service.h"
#include "service/http/server_internal.h"

enum { WAKER_RUNNING = 0, WAKER_SUSPENDED };

struct http_waker {
    struct server *srv;
    struct MHD_Connection *conn;
    atomic_int refs;
    int state;             /* under pmu */
    int pending;           /* a wake came while running */
    int done;              /* the request ended */
    int fd;                /* the connection's socket (MHD keeps it open while suspended) */
    atomic_int gone;       /* its client closed or reset the connection */
    long long deadline_ns; /* 0: none */
    struct http_waker *prev, *next; /* in srv->parked while suspended */
};

struct http_waker *http_req_waker(struct http_req *req)
{
    struct req_state *st = req->impl;
    if (!st->waker) {
        struct http_waker *w = xcalloc(1, sizeof *w);
        w->srv = st->srv;
        w->conn = st->conn;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(st->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        w->fd = ci ? ci->connect_fd : -1;
        atomic_init(&w->refs, 1);
        st->waker = w;
    }
    return st->waker;
}

void http_waker_ref(struct http_waker *w)
{
    atomic_fetch_add(&w->refs, 1);
}

void http_waker_unref(struct http_waker *w)
{
    if (w && atomic_fetch_sub(&w->refs, 1) == 1)
        free(w);
}

static void unlink_parked(struct server *srv, struct http_waker *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        srv->parked = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = 0;
    atomic_fetch_sub(&srv->nparked, 1);
}

/* Under pmu: resumes w's connection, or keeps the wake for its next park. */
static void wake_locked(struct server *srv, struct http_waker *w)
{
    if (w->done)
        return;
    if (w->state == WAKER_SUSPENDED) {
        unlink_parked(srv, w);
        w->state = WAKER_RUNNING;
        MHD_resume_connection(w->conn);
    } else {
        w->pending = 1;
    }
}

void http_waker_wake(struct http_waker *w)
{
    pthread_mutex_lock(&w->srv->pmu);
    wake_locked(w->srv, w);
    pthread_mutex_unlock(&w->srv->pmu);
}

void http_waker_deadline(struct http_waker *w, int timeout_ms)
{
    pthread_mutex_lock(&w->srv->pmu);
    w->deadline_ns = timeout_ms > 0 ? clock_mono_ns() + (long long)timeout_ms * 1000000LL : 0;
    pthread_mutex_unlock(&w->srv->pmu);
}

void http_req_park(struct http_req *req, int timeout_ms, http_park_fn *fn, void *ud)
{
    struct req_state *st = req->impl;
    http_waker_deadline(http_req_waker(req), timeout_ms);
    st->park_fn = fn;
    st->park_ud = ud;
}

int http_req_closing(struct http_req *req)
{
    struct req_state *st = req->impl;
    /* A parked request whose client left answers at once too: the watchdog resumed it for that,
     * and one that parked again kept its place (a long poll's, per token) until its deadline. */
    return atomic_load(&st->svc->shutting_down) != 0 || server__waker_gone(st->waker);
}

void http_req_on_done(struct http_req *req, http_done_fn *fn, void *ud)
{
    struct req_state *st = req->impl;
    if (st->ndone < REQ_DONE_MAX) {
        st->done[st->ndone].fn = fn;
        st->done[st->ndone].ud = ud;
        st->ndone++;
    }
}

/* Under pmu: suspends w's connection unless a wake is pending or the server closes. */
static int suspend_locked(struct server *srv, struct http_waker *w)
{
    if (w->pending || srv->closing) {
        w->pending = 0;
        return 0;
    }
    MHD_suspend_connection(w->conn);
    w->state = WAKER_SUSPENDED;
    w->next = srv->parked;
    if (srv->parked)
        srv->parked->prev = w;
    srv->parked = w;
    atomic_fetch_add(&srv->nparked, 1);
    return 1;
}

int server__park(struct req_state *st)
{
    struct http_waker *w = http_req_waker(&st->req);
    pthread_mutex_lock(&st->srv->pmu);
    int rc = suspend_locked(st->srv, w);
    pthread_mutex_unlock(&st->srv->pmu);
    return rc;
}

void server__park_stream(struct http_waker *w)
{
    pthread_mutex_lock(&w->srv->pmu);
    suspend_locked(w->srv, w);
    pthread_mutex_unlock(&w->srv->pmu);
}

void server__waker_done(struct http_waker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->srv->pmu);
    if (w->state == WAKER_SUSPENDED) /* cannot happen: MHD ends only running requests */
        unlink_parked(w->srv, w);
    w->done = 1;
    pthread_mutex_unlock(&w->srv->pmu);
    http_waker_unref(w);
}

void server__wake_due(struct server *srv, long long now_ns, int all)
{
    pthread_mutex_lock(&srv->pmu);
    struct http_waker *w = srv->parked;
    while (w) {
        struct http_waker *next = w->next;
        if (all || (w->deadline_ns && now_ns >= w->deadline_ns))
            wake_locked(srv, w);
        w = next;
    }
    pthread_mutex_unlock(&srv->pmu);
}

/* 1 when the peer of a parked connection has closed or reset it (a peek, nothing read). */
static int peer_gone(int fd)
{
    char c;
    if (fd < 0)
        return 0;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void server__check_parked(struct server *srv)
{
    pthread_mutex_lock(&srv->pmu);
    struct http_waker *w = srv->parked;
    while (w) {
        struct http_waker *next = w->next;
        if (peer_gone(w->fd)) {
            atomic_store(&w->gone, 1);
            wake_locked(srv, w);
        }
        w = next;
    }
    pthread_mutex_unlock(&srv->pmu);
}

int server__waker_gone(struct http_waker *w)
{
    return w && atomic_load(&w->gone);
}

void server__close_parking(struct server *srv)
{
    pthread_mutex_lock(&srv->pmu);
    srv->closing = 1;
    pthread_mutex_unlock(&srv->pmu);
    server__wake_due(srv, 0, 1);
}
