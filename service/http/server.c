/*
 * server.c - libmicrohttpd glue: one request from bytes to a response.
 *
 * Threads: MHD's epoll mode with a pool of cfg.http_threads event-loop
 * threads, each serving many connections (epoll has no FD_SETSIZE ceiling,
 * where select() refused descriptors past 1,024). Handlers run on those
 * threads and must not block for long: a Redis round trip is fine, a wait
 * is not. Long polls and event streams park their connection instead
 * (server_park.c: suspended, no thread held) and are resumed by the event
 * hub or the watchdog. So threads stay at a fixed few whatever clients do,
 * and memory follows what is open: a connection is MHD's state plus a pool
 * of at most 64 KiB, touched as used.
 *
 * MHD calls the access handler several times per request: first with no
 * state (we set up struct req_state), then once per body chunk, then once
 * with no data, when we route, authenticate, call the handler and queue
 * the response (or park). The request-completed callback frees the state,
 * writes the access-log line and drops the in-flight count used by
 * graceful shutdown.
 *
 * Limits: bodies over 1 MiB are refused (413) - at once when
 * Content-Length says so, else after discarding the excess; at most
 * cfg.max_connections, and cfg.max_conn_per_addr from one client address
 * (an IPv6 /64), refused at accept. A new or kept-alive connection must
 * complete its request header within cfg.idle_timeout_s, and the body then
 * arrive within cfg.conn_timeout_s: MHD's timeout is an idle timeout that
 * every byte resets, so a watchdog thread shuts down the sockets of clients
 * that trickle a byte at a time (slowloris).
 */
#include "service/http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include <openssl/rand.h>

#include "service/http/drain.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/core/metrics.h"
#include "service/http/server_internal.h"
#include "service/core/service.h"

#define BODY_MAX (1024 * 1024)
#define HANDSHAKE_WAIT_MS 1000 /* SIGTERM: the most we wait for half-done TCP handshakes */
#define WATCHDOG_TICK_MS 100   /* deadlines of parked requests are this precise */

/* One per connection (MHD's socket context): the time by which the request
 * being received must be complete; 0 while a handler runs or a response is sent. */
struct conn_watch {
    struct conn_watch *prev, *next;
    int fd;
    int fresh; /* accepted, its first request not begun: graceful shutdown waits for it */
    long long deadline_ns;
    char addr[COUNTS_KEY_MAX]; /* counted in srv->per_addr */
};

/* (Re)arms the receive deadline of conn's connection (timeout_ns from now), or disarms it (0). */
static void watch_arm(struct server *srv, struct MHD_Connection *conn, long long timeout_ns)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_watch *w = ci ? ci->socket_context : 0;
    if (!w)
        return;
    pthread_mutex_lock(&srv->wmu);
    w->deadline_ns = timeout_ns ? clock_mono_ns() + timeout_ns : 0;
    pthread_mutex_unlock(&srv->wmu);
}

/* MHD's accept policy: refuses a connection whose address holds its share already (the
 * count is taken at NOTIFY_STARTED, so accepts racing on several threads may pass a
 * few over: at most one per thread). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    struct server *srv = cls;
    int max = srv->svc->cfg.max_conn_per_addr;
    char key[COUNTS_KEY_MAX];
    if (max <= 0)
        return MHD_YES;
    counts_address_key(addr, key);
    if (counts_get(srv->per_addr, key) < max)
        return MHD_YES;
    atomic_fetch_add(&srv->limited[LIMIT_CONN_ADDRESS], 1);
    return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn_watch *w = xcalloc(1, sizeof *w);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        w->fd = ci ? ci->connect_fd : -1;
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        counts_address_key(ci ? ci->client_addr : 0, w->addr);
        counts_take(srv->per_addr, w->addr, 0);
        pthread_mutex_lock(&srv->wmu);
        w->deadline_ns = clock_mono_ns() + srv->idle_ns;
        w->fresh = 1;
        w->next = srv->watched;
        if (srv->watched)
            srv->watched->prev = w;
        srv->watched = w;
        pthread_mutex_unlock(&srv->wmu);
        *socket_context = w;
        return;
    }
    struct conn_watch *w = *socket_context;
    if (!w)
        return;
    /* MHD notifies CLOSED before it closes the socket: once unlinked here, the
     * watchdog can no longer touch this fd (or a later connection's reuse of it). */
    pthread_mutex_lock(&srv->wmu);
    if (w->prev)
        w->prev->next = w->next;
    else
        srv->watched = w->next;
    if (w->next)
        w->next->prev = w->prev;
    pthread_mutex_unlock(&srv->wmu);
    counts_put(srv->per_addr, w->addr);
    free(w);
    *socket_context = 0;
}

static void *watchdog(void *arg)
{
    struct server *srv = arg;
    for (unsigned tick = 0; !atomic_load(&srv->wstop); tick++) {
        struct timespec ts = {0, WATCHDOG_TICK_MS * 1000000L};
        nanosleep(&ts, 0);
        long long now = clock_mono_ns();
        /* parked requests: their deadline, or all of them once SIGTERM came */
        server__wake_due(srv, now, atomic_load(&srv->svc->shutting_down));
        if (tick % (1000 / WATCHDOG_TICK_MS) == 0)
            server__check_parked(srv);
        pthread_mutex_lock(&srv->wmu);
        for (struct conn_watch *w = srv->watched; w; w = w->next)
            if (w->deadline_ns && now > w->deadline_ns && w->fd >= 0) {
                shutdown(w->fd, SHUT_RDWR); /* MHD's recv sees the end and closes the connection */
                w->deadline_ns = 0;
            }
        pthread_mutex_unlock(&srv->wmu);
    }
    return 0;
}

static int request_id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

static void set_request_id(struct req_state *st)
{
    const char *given = MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "X-Request-Id");
    if (given && request_id_valid(given)) {
        snprintf(st->request_id, sizeof st->request_id, "%s", given);
        return;
    }
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1)
        memset(r, 0, sizeof r);
    for (int i = 0; i < 16; i++)
        snprintf(st->request_id + 2 * i, 3, "%02x", r[i]);
}

static struct req_state *req_begin(struct server *srv, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn_watch *w = ci ? ci->socket_context : 0;
    if (w) {
        pthread_mutex_lock(&srv->wmu);
        w->fresh = 0;
        pthread_mutex_unlock(&srv->wmu);
    }
    struct req_state *st = xcalloc(1, sizeof *st);
    st->srv = srv;
    st->svc = srv->svc;
    st->app = srv->app;
    st->conn = conn;
    snprintf(st->addr, sizeof st->addr, "%s", w ? w->addr : "?");
    st->start_ns = clock_mono_ns();
    buf_init(&st->body, BODY_MAX);
    st->req.request_id = st->request_id;
    st->req.svc = srv->svc;
    st->req.impl = st;
    atomic_fetch_add(&srv->inflight, 1);
    return st;
}

static int declared_too_big(struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return 0;
    char *end = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    return end != cl && n > BODY_MAX;
}

/* MHD's URI logger sees the raw request target before decoding; the state
 * it returns becomes the request's *con_cls, so it starts each request. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct req_state *st = req_begin(cls, conn);
    st->raw_nul = strstr(uri, "%00") != NULL;
    return st;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct req_state *st = *con_cls;
    if (!st) {
        st = req_begin(cls, conn);
        *con_cls = st;
    }
    if (!st->method) {
        /* Headers are parsed only now (the URI logger ran on the request line). */
        set_request_id(st);
        server__client(st);
        st->method = method;
        st->url = url;
        if (declared_too_big(conn)) {
            st->toobig = 1;
            watch_arm(st->srv, conn, 0);
            return server__respond(st) ? MHD_YES : MHD_NO;
        }
        watch_arm(st->srv, conn,
                  st->srv->body_ns); /* the header is in: the body has its own deadline */
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!st->toobig && buf_append(&st->body, upload_data, *upload_data_size))
            st->toobig = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->responded)
        return MHD_YES;
    if (st->park_fn) /* resumed, or woken before it could suspend */
        return server__resume(st) ? MHD_YES : MHD_NO;
    watch_arm(st->srv, conn, 0); /* the request is in; a parked one has its own deadline */
    return server__respond(st) ? MHD_YES : MHD_NO;
}

static void log_access(const struct req_state *st, double secs)
{
    log_event(LOG_INFO, "request", LOG_STR("method", st->method ? st->method : ""),
              LOG_STR("path", st->url ? st->url : ""), LOG_INT("status", st->resp.status),
              LOG_DBL("durationMs", secs * 1000.0), LOG_STR("requestId", st->request_id),
              LOG_STR("tokenId", st->req.token.id[0] ? st->req.token.id : NULL),
              LOG_STR("client", st->client));
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct server *srv = cls;
    struct req_state *st = *con_cls;
    if (!st)
        return;
    double secs = (double)(clock_mono_ns() - st->start_ns) / 1e9;
    if (st->method) { /* requests dropped before their headers ended are not logged */
        log_access(st, secs);
        metrics_observe_request(srv->svc->metrics, st->method, st->route ? st->route : "unmatched",
                                st->resp.status, secs);
    }
    server__req_free(st);
    *con_cls = 0;
    atomic_fetch_sub(&srv->inflight, 1);
    if (conn)
        watch_arm(srv, conn,
                  srv->idle_ns); /* keep-alive: the next request's header has its deadline */
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_event(LOG_DEBUG, msg, LOG_STR("component", "http"));
}

static int resolve_listen(const struct fw_config *cfg, struct sockaddr_storage *ss, char *err,
                          size_t errlen)
{
    struct addrinfo hints = {0}, *res = 0;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    char port[8];
    snprintf(port, sizeof port, "%d", cfg->listen_port);
    int gai = getaddrinfo(cfg->listen_host, port, &hints, &res);
    if (gai || !res) {
        snprintf(err, errlen, "FLEETWARDEN_LISTEN: cannot resolve %s: %s", cfg->listen_host,
                 gai_strerror(gai));
        return FW_EIO;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

static void read_bound_port(struct server *srv)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : srv->svc->cfg.listen_port;
}

static void limit_line(struct buf *out, const char *name, long long n)
{
    char line[128];
    snprintf(line, sizeof line, "fleetwarden_http_limited_total{limit=\"%s\"} %lld\n", name, n);
    buf_puts(out, line);
}

/* /metrics: what the limits refused, and what is open now. */
static void collect(struct buf *out, void *ud)
{
    struct server *srv = ud;
    static const char *const names[LIMIT_N] = {"connections_per_address",
                                               "streams_per_token",
                                               "streams",
                                               "long_polls_per_token",
                                               "long_polls",
                                               "rate_address",
                                               "rate_token"};
    buf_puts(out,
             "# HELP fleetwarden_http_limited_total Connections and requests refused by a limit.\n"
             "# TYPE fleetwarden_http_limited_total counter\n");
    for (int i = 0; i < LIMIT_N; i++)
        limit_line(out, names[i], atomic_load(&srv->limited[i]));
    struct MHD_Daemon *d = atomic_load(&srv->daemon_live);
    const union MHD_DaemonInfo *n =
        d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS) : 0;
    char text[640];
    snprintf(text, sizeof text,
             "# HELP fleetwarden_http_unauthenticated_total Requests answered 401.\n"
             "# TYPE fleetwarden_http_unauthenticated_total counter\n"
             "fleetwarden_http_unauthenticated_total %lld\n"
             "# HELP fleetwarden_http_connections Open HTTP connections.\n"
             "# TYPE fleetwarden_http_connections gauge\nfleetwarden_http_connections %u\n"
             "# HELP fleetwarden_http_streams Open event streams.\n"
             "# TYPE fleetwarden_http_streams gauge\nfleetwarden_http_streams %d\n"
             "# HELP fleetwarden_http_long_polls Long polls waiting.\n"
             "# TYPE fleetwarden_http_long_polls gauge\nfleetwarden_http_long_polls %d\n",
             (long long)atomic_load(&srv->unauthenticated), n ? n->num_connections : 0,
             atomic_load(&srv->holds[HTTP_HOLD_STREAM]),
             atomic_load(&srv->holds[HTTP_HOLD_LONG_POLL]));
    buf_puts(out, text);
}

static struct server *server_new(struct fw_service *svc, const struct http_app *app)
{
    struct server *srv = xcalloc(1, sizeof *srv);
    srv->svc = svc;
    srv->app = app;
    srv->listen_fd = -1;
    pthread_mutex_init(&srv->wmu, 0);
    pthread_mutex_init(&srv->pmu, 0);
    srv->per_addr = counts_new();
    srv->per_token = counts_new();
    const struct fw_config *c = &svc->cfg;
    int body_s = c->conn_timeout_s > 0 ? c->conn_timeout_s : 30;
    int idle_s = c->idle_timeout_s > 0 && c->idle_timeout_s < body_s ? c->idle_timeout_s : body_s;
    srv->body_ns = (long long)body_s * 1000000000LL;
    srv->idle_ns = (long long)idle_s * 1000000000LL;
    return srv;
}

static void server_free(struct server *srv)
{
    counts_free(srv->per_addr);
    counts_free(srv->per_token);
    pthread_mutex_destroy(&srv->wmu);
    pthread_mutex_destroy(&srv->pmu);
    free(srv);
}

static struct MHD_Daemon *start_daemon(struct server *srv, const struct sockaddr_storage *ss)
{
    const struct fw_config *c = &srv->svc->cfg;
    unsigned threads = (unsigned)(c->http_threads > 0 ? c->http_threads : 1);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (ss->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    return MHD_start_daemon(
        flags, 0, on_accept, srv, on_request, srv, MHD_OPTION_SOCK_ADDR,
        (const struct sockaddr *)ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(srv->body_ns / 1000000000LL), MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)c->max_connections, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
}

int server_start(struct fw_service *svc, const struct http_app *app, struct server **out, char *err,
                 size_t errlen)
{
    struct sockaddr_storage ss;
    int rc = resolve_listen(&svc->cfg, &ss, err, errlen);
    if (rc)
        return rc;
    struct server *srv = server_new(svc, app);
    if (svc->metrics)
        metrics_add_collector(svc->metrics, collect, srv);
    srv->daemon = start_daemon(srv, &ss);
    if (!srv->daemon) {
        snprintf(err, errlen,
                 "FLEETWARDEN_LISTEN: cannot listen on %s:%d (address in use or not available)",
                 svc->cfg.listen_host, svc->cfg.listen_port);
        server_free(srv);
        return FW_EIO;
    }
    atomic_store(&srv->daemon_live, srv->daemon);
    read_bound_port(srv);
    srv->wstarted = pthread_create(&srv->wthread, 0, watchdog, srv) == 0;
    *out = srv;
    return 0;
}

int server_port(const struct server *s)
{
    return s->port;
}

/* Waits, MHD still accepting, until the handshakes that began before drain_stop_syns() are
 * in the accept queue (bounded: a client that vanished mid-handshake stays half open). */
static int wait_handshakes(const struct server *s)
{
    long long deadline = clock_mono_ns() + HANDSHAKE_WAIT_MS * 1000000LL;
    int n;
    while ((n = drain_half_open(s->port)) > 0 && clock_mono_ns() < deadline) {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, 0);
    }
    if (n < 0) { /* cannot count them: allow a few round trips */
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, 0);
    }
    return n;
}

/* Accepts what is left in the quiesced listener's queue and hands it to MHD, which serves it
 * like the others before it stops; over the connection limit it gets a complete 503. */
static void accept_backlog(struct server *s, int fd, int *served, int *refused)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
        return;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int c = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
        if (c < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (c < 0)
            return; /* EAGAIN: the queue is empty */
        const union MHD_DaemonInfo *n =
            MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (n && n->num_connections >= (unsigned)s->svc->cfg.max_connections) {
            drain_refuse(c);
            ++*refused;
        } else {
            /* MHD closes c itself when it fails (no thread, no memory) */
            *served += MHD_add_connection(s->daemon, c, (struct sockaddr *)&ss, sl) == MHD_YES;
        }
    }
}

void server_quiesce(struct server *s)
{
    const union MHD_DaemonInfo *li = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    int half_open = -1, served = 0, refused = 0;
    if (li && drain_stop_syns(li->listen_fd) == 0)
        half_open = wait_handshakes(s);
    else
        log_msg(LOG_WARN,
                "cannot hold new connections back: some may be reset as the listener closes");
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd == MHD_INVALID_SOCKET)
        return;
    accept_backlog(s, fd, &served, &refused);
    /* The queue is empty and nothing new can enter it: take the socket out of LISTEN, so that
     * clients are refused from now on. MHD's thread may still hold the fd (MHD_quiesce_daemon),
     * so it is closed only after MHD_stop_daemon. */
    shutdown(fd, SHUT_RD);
    s->listen_fd = fd;
    log_event(LOG_INFO, "listener closed", LOG_INT("halfOpenLeft", half_open),
              LOG_INT("backlogServed", served), LOG_INT("backlogRefused", refused));
}

/* 1 when the client of a fresh connection has gone (closed or reset, nothing of a request left
 * unread): MHD will close it when its thread gets to it, and no request can come on it. The fd is
 * MHD's while its watch is linked (on_connection), so peeking at it under wmu is safe. */
static int peer_gone(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Connections accepted before the listener closed whose request has not begun yet: stopping
 * now would reset a client that already connected and sent its request. One whose client has
 * gone is not waited for (its close may not have reached MHD's thread yet). */
static int fresh_connections(struct server *s)
{
    int n = 0;
    pthread_mutex_lock(&s->wmu);
    for (struct conn_watch *w = s->watched; w; w = w->next)
        n += w->fresh && !(w->fd >= 0 && peer_gone(w->fd));
    pthread_mutex_unlock(&s->wmu);
    return n;
}

/* What a stop waits for, logged after its first second and then every 5 s: a stop that takes
 * long says why. */
static void log_waiting(struct server *s, long long waited_ms, long long *next_log_ms)
{
    if (waited_ms < *next_log_ms)
        return;
    *next_log_ms = waited_ms + 5000;
    log_event(LOG_INFO, "shutting down: waiting for requests",
              LOG_INT("inFlight", atomic_load(&s->inflight)),
              LOG_INT("newConnections", fresh_connections(s)), LOG_INT("waitedMs", waited_ms));
}

int server_wait_idle(struct server *s, int timeout_s)
{
    long long start = clock_mono_ns(), next_log_ms = 1000;
    long long deadline = start + (long long)timeout_s * 1000000000LL;
    while (atomic_load(&s->inflight) > 0 || fresh_connections(s) > 0) {
        long long now = clock_mono_ns();
        if (now >= deadline)
            return 0;
        log_waiting(s, (now - start) / 1000000, &next_log_ms);
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, 0);
    }
    return 1;
}

void server_stop(struct server *s)
{
    if (!s)
        return;
    atomic_store(&s->wstop, 1);
    if (s->wstarted)
        pthread_join(s->wthread, 0);
    /* MHD must not stop with a connection suspended: none may be from now on, and the parked
     * ones are resumed (MHD_stop_daemon processes pending resumes before it closes them). */
    server__close_parking(s);
    MHD_stop_daemon(s->daemon);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    server_free(s);
}
