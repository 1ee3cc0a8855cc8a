/*
 * main.c - the fleetwarden binary: subcommands, start-up and shutdown.
 *
 *   serve [--no-workers]   the API (and, by default, workers and scheduler)
 *   worker                 workers and scheduler only
 *   token create --scope S --name N   print a new API token once
 *   check                  validate configuration, reach Redis and AWS
 *   check --fleet NAME     verify a fleet as a device would
 *
 * Exit codes: 0 success, 1 runtime failure, 2 bad configuration or usage.
 * Signals are blocked in every thread and taken by sigwait() in main, so
 * shutdown runs in ordinary code, not in a signal handler.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "aws/check.h"
#include "aws/retry.h"
#include "jobs/event_hub.h"
#include "jobs/handlers/register.h"
#include "jobs/handlers/verify_cli.h"
#include "jobs/handlers/watch_cycle.h"
#include "jobs/ratelimit.h"
#include "jobs/runtime.h"
#include "service/core/clock.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/core/metrics.h"
#include "service/domain/seal.h"
#include "routes/routes.h"
#include "service/core/service.h"
#include "service/domain/store.h"
#include "service/domain/store_claim_index.h"
#include "service/domain/store_rate.h"
#include "service/domain/token_watch.h"
#include "service/http/route.h"
#include "service/http/server.h"
#include "service/redis/store_conn.h"

static const char s_usage[] =
    "usage: fleetwarden <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve [--no-workers]                 run the HTTP API (and workers unless --no-workers)\n"
    "  worker                               run job workers and the scheduler only\n"
    "  token create --scope SCOPE --name N  print a new API token (scope: read, operate, admin)\n"
    "  check                                validate configuration, reach Redis and AWS\n"
    "  check --fleet NAME [--claim ID] [--parameters JSON]\n"
    "                                       verify the fleet as a device would; prints the steps "
    "(exit 0 passed, 1 failed)\n"
    "  --help, --version\n"
    "\n"
    "configuration (environment):\n"
    "  FLEETWARDEN_LISTEN         HOST:PORT to listen on (default 127.0.0.1:8080)\n"
    "  FLEETWARDEN_REDIS_URL      redis://[[user]:password@]host[:port][/db] (default "
    "redis://127.0.0.1:6379/0)\n"
    "  FLEETWARDEN_REDIS_PASSWORD_FILE  file with the Redis password (instead of the URL's)\n"
    "  FLEETWARDEN_PREFIX         Redis key prefix (default fw:)\n"
    "  FLEETWARDEN_LOG_LEVEL      debug, info, warn, error (default info)\n"
    "  FLEETWARDEN_CORS_ORIGINS   comma-separated origins allowed from browsers\n"
    "  FLEETWARDEN_WORKERS        job worker threads per process (default 4)\n"
    "  FLEETWARDEN_HEALTH_LISTEN  worker only: HOST:PORT for /healthz /readyz /metrics (default: "
    "none)\n"
    "  FLEETWARDEN_KEK_FILE       key-encryption key file (32 bytes raw, hex or base64); required "
    "by serve/worker\n"
    "  FLEETWARDEN_CLAIM_KEY_TTL  seconds an undownloaded claim key is kept (default 86400)\n"
    "  FLEETWARDEN_MAX_CONNECTIONS, FLEETWARDEN_MAX_CONNECTIONS_PER_ADDRESS, "
    "FLEETWARDEN_HTTP_THREADS,\n"
    "  FLEETWARDEN_IDLE_TIMEOUT, FLEETWARDEN_CONN_TIMEOUT, FLEETWARDEN_SHUTDOWN_GRACE,\n"
    "  FLEETWARDEN_MAX_STREAMS[_PER_TOKEN], FLEETWARDEN_MAX_LONG_POLLS[_PER_TOKEN],\n"
    "  FLEETWARDEN_RATE_LIMIT_ADDRESS, FLEETWARDEN_RATE_LIMIT_TOKEN (N[/SECONDS]),\n"
    "  FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS, FLEETWARDEN_WEBHOOK_ALLOW_ADDRESSES,\n"
    "  FLEETWARDEN_SHUTDOWN_DELAY,\n"
    "  FLEETWARDEN_METRICS_PUBLIC, FLEETWARDEN_AUDIT_MAX, FLEETWARDEN_IDEM_TTL\n"
    "  FLEETWARDEN_TRUSTED_PROXIES  proxies whose X-Forwarded-For names the client (addresses or "
    "CIDR blocks)\n"
    "  FLEETWARDEN_IAM_ROLES      managed (default) or precreated; FLEETWARDEN_IAM_TES_BOUNDARY,\n"
    "  FLEETWARDEN_IAM_PROVISIONING_BOUNDARY  permissions boundaries of the roles fleets create\n"
    "  FLEETWARDEN_IOT_MQTT_PORT, FLEETWARDEN_IOT_CREDENTIALS_PORT  the IoT data plane's ports "
    "(8883, 443)\n"
    "  FLEETWARDEN_IOT_ENDPOINT_HOSTS, FLEETWARDEN_IOT_ALLOW_ADDRESSES  other endpoint names, "
    "internal addresses\n"
    "  AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ... as in the AWS SDKs\n";

/* The FLEETWARDEN_RATE_<FAMILY> families: the job runtime's table (config.c knows no job). */
static void give_rate_families(void)
{
    static char names[CONFIG_MAX_RATES][CONFIG_RATE_FAMILY_MAX];
    static const char *list[CONFIG_MAX_RATES + 1];
    size_t n = 0;
    for (const struct ratelimit_default *d = ratelimit_defaults; d->family && n < CONFIG_MAX_RATES;
         d++, n++) {
        ratelimit_family_var(d->family, names[n], sizeof names[n]);
        list[n] = names[n];
    }
    list[n] = 0;
    config_set_rate_families(list);
}

/* AWS_MAX_ATTEMPTS and AWS_RETRY_MODE, which aws/ reads itself when a job makes its client: a
 * bad one used to pass start-up and `check`, then fail every AWS job (critical disables too). */
static int check_aws_retry(struct aws_retry_settings *out)
{
    const char *bad = 0;
    if (!aws_retry_settings_from_env(out, 0, 0, &bad))
        return 0;
    fprintf(stderr, "fleetwarden: %s: %s\n", bad,
            !strcmp(bad, "AWS_RETRY_MODE") ? "must be standard, legacy or adaptive"
                                           : "must be a whole number of attempts from 1 to 100");
    return 2;
}

/* The root CA that claim bundles carry and verifications trust, read whole once: a set file
 * that is missing, unreadable, too big or not certificates stops start-up (exit 2); the default
 * one missing is a warning (bundles carry rootCaPem null). */
static int load_root_ca(struct fw_config *cfg)
{
    char err[600], *pem = 0;
    int rc = config_read_root_ca(cfg, &pem, err, sizeof err);
    if (rc == FW_ENOTFOUND) {
        log_msg(LOG_WARN, "%s; claim bundles carry rootCaPem null", err);
        return 0;
    }
    if (rc) {
        fprintf(stderr, "fleetwarden: %s\n", err);
        return 2;
    }
    cfg->root_ca_pem = pem; /* kept for the process's life */
    return 0;
}

enum { NO_ROOT_CA = 0, WITH_ROOT_CA = 1 };

static int load_config(struct fw_service *svc, int root_ca)
{
    char err[800];
    struct aws_retry_settings retry;
    give_rate_families();
    if (config_load(&svc->cfg, 0, 0, err, sizeof err)) {
        fprintf(stderr, "fleetwarden: %s\n", err);
        return 2;
    }
    if (check_aws_retry(&retry))
        return 2;
    log_set_level(svc->cfg.log_level);
    if (root_ca && load_root_ca(&svc->cfg))
        return 2;
    config_publish(&svc->cfg); /* before any thread: modules read it with config_get() */
    store_conn_configure(&svc->cfg);
    return 0;
}

static void block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, 0);
    signal(SIGPIPE, SIG_IGN);
}

static int wait_for_signal(const sigset_t *set)
{
    int sig = 0;
    sigwait(set, &sig);
    return sig;
}

/* FLEETWARDEN_SHUTDOWN_DELAY: /readyz already answers 503, everything else is still served, so
 * a load balancer that polls readiness (rather than being told, as Kubernetes' endpoints are)
 * takes this instance out before its listener closes. A second signal cuts the wait short. */
static void shutdown_delay(const struct fw_service *svc, const sigset_t *set)
{
    if (svc->cfg.shutdown_delay_s <= 0)
        return;
    log_event(LOG_INFO, "shutting down: /readyz is 503, still serving for the shutdown delay",
              LOG_INT("seconds", svc->cfg.shutdown_delay_s));
    struct timespec ts = {svc->cfg.shutdown_delay_s, 0};
    while (sigtimedwait(set, NULL, &ts) < 0 && errno == EINTR) {
    }
}

/* Drains the HTTP side (after the shutdown delay, when set): the listener closes, the requests
 * in flight get the grace. Answers when the grace ends (clock_mono_ms): one grace from the
 * listener's close, shared by those requests and the running jobs, which go on meanwhile. */
static long long drain_http(struct fw_service *svc, struct server *srv, const sigset_t *set)
{
    atomic_store(&svc->shutting_down, 1);
    if (srv)
        shutdown_delay(svc, set);
    log_msg(LOG_INFO, "shutting down: no new connections, finishing in-flight work");
    if (srv)
        server_quiesce(srv);
    long long grace_end = clock_mono_ms() + svc->cfg.shutdown_grace_s * 1000LL;
    if (srv && !server_wait_idle(srv, svc->cfg.shutdown_grace_s))
        log_msg(LOG_WARN, "grace period over with requests still running");
    return grace_end;
}

/* serve and worker need the key-encryption key that seals claim private
 * keys (service/domain/seal.h): without it no claim could be created, so a
 * missing or bad file stops start-up with exit 2. */
static int load_kek(const struct fw_service *svc)
{
    char err[300];
    if (!svc->cfg.kek_file[0]) {
        fprintf(stderr,
                "fleetwarden: FLEETWARDEN_KEK_FILE is required: the key-encryption key that seals "
                "claim "
                "private keys (create one: openssl rand -hex 32 > FILE && chmod 600 FILE)\n");
        return 2;
    }
    if (seal_kek_load(svc->cfg.kek_file, err, sizeof err)) {
        fprintf(stderr, "fleetwarden: %s\n", err);
        return 2;
    }
    char why[400];
    if (config_kek_mode_warning(svc->cfg.kek_file, why, sizeof why))
        log_msg(LOG_WARN, "%s",
                why); /* a warning, not a refusal: some platforms mount secrets 0644 */
    return 0;
}

/* The KEK must be the one this Redis's data was sealed with: a process with another one would
 * seal claim keys and webhook secrets that no other process can open (and open none of
 * theirs). Its check value (seal_kek_check_value) is kept in Redis, written by the first
 * process that finds none (a new Redis, or the first start after an upgrade from a version that
 * kept none); every process that loads the KEK compares. The message names the setting, never
 * the key or the check value. */
static void kek_differs_message(char *out, size_t outlen)
{
    const struct fw_config *c = config_get();
    char url[300];
    config_redis_url_redacted(c, url, sizeof url);
    snprintf(out, outlen,
             "FLEETWARDEN_KEK_FILE: the key in %s differs from the one the data in this Redis "
             "(%s, prefix %s) was sealed with; claim keys and webhook secrets sealed by one "
             "would not open in the other. Give every process the same KEK file "
             "(docs/OPERATIONS.md, Rotating the KEK)",
             c->kek_file, url, c->prefix);
}

/* 0 (the same KEK, or its check value just written), FW_ECONFLICT (another KEK), or the Redis
 * error. write 0: compare only (FW_ENOTFOUND when Redis keeps none). */
static int kek_compare(int write)
{
    char check[SEAL_CHECK_HEX + 1];
    int written = 0;
    int rc = seal_kek_check_value(check);
    if (!rc)
        rc = store_kek_check(check, write, &written);
    xwipe(check, sizeof check);
    if (written)
        log_msg(LOG_INFO, "this Redis kept no key-encryption key check value (a new Redis, or the "
                          "first start after an upgrade): wrote the one of this process's KEK");
    return rc;
}

/* Wrong Redis credentials (or a database the user may not select) are a configuration error:
 * exit 2 at start-up rather than a process that answers 503 for ever. An unreachable Redis is
 * not: it may be starting too, and the API answers 503 until it is there. */
static int check_redis_credentials(void)
{
    char why[320];
    int rc = store_conn_check(why, sizeof why);
    if (rc == FW_EUNAUTH) {
        fprintf(stderr, "fleetwarden: FLEETWARDEN_REDIS_URL: %s\n", why);
        return 2;
    }
    if (rc) {
        log_event(LOG_WARN, "redis is not reachable yet; answering 503 until it is",
                  LOG_STR("reason", why));
    }
    return 0;
}

/* check_redis_credentials can take a connect timeout, a command timeout and a name lookup that no
 * timeout bounds (a container's DNS while its network comes up): it runs on a thread of its own
 * while main waits for it or for SIGTERM/SIGINT, so a stop asked for during start-up is taken at
 * once. Static: on a signal the thread is left running to the process's end. */
static struct {
    atomic_int done;
    int rc;
    int kek_pending; /* Redis did not answer: the KEK is compared once it does (kek_watch) */
} s_redis_check;

/* Redis's credentials, then the KEK against its check value (exit 2 when it differs). */
static int check_redis_and_kek(void)
{
    int rc = check_redis_credentials();
    if (rc || !seal_kek_loaded())
        return rc;
    rc = kek_compare(1);
    if (rc == FW_ECONFLICT) {
        char msg[1024];
        kek_differs_message(msg, sizeof msg);
        fprintf(stderr, "fleetwarden: %s\n", msg);
        return 2;
    }
    s_redis_check.kek_pending = rc != 0;
    store_conn_close();
    return 0;
}

static void *redis_check_main(void *arg)
{
    (void)arg;
    s_redis_check.rc = check_redis_and_kek();
    atomic_store(&s_redis_check.done, 1);
    return 0;
}

/* check_redis_credentials's answer, or 0 with *sig set when a signal came first. */
static int check_redis_or_signal(const sigset_t *set, int *sig)
{
    pthread_t t;
    *sig = 0;
    if (pthread_create(&t, 0, redis_check_main, 0))
        return check_redis_and_kek();
    struct timespec tick = {0, 50 * 1000000L};
    while (!atomic_load(&s_redis_check.done)) {
        int got = sigtimedwait(set, NULL, &tick);
        if (got > 0) {
            pthread_detach(t);
            *sig = got;
            return 0;
        }
    }
    pthread_join(t, 0);
    return s_redis_check.rc;
}

/* Workers and the scheduler/reaper (safe in every process: ticks and
 * reaper runs are claimed atomically in Redis). */
/* The audit trail of the HTTP server, kept by the domain's store. */
static int app_audit_append(const struct http_audit_entry *a, int maxlen)
{
    struct audit_entry e = {a->token_id, a->method, a->path, a->status, a->request_id, a->client};
    return store_audit_append(&e, maxlen);
}

/* The request rate limits, counted in the domain's store (Redis, shared by every process). */
static int app_rate_take(const struct http_rate *r, int *retry_after_s, int *by_token)
{
    struct store_rate_req q = {r->addr, r->addr_n, r->addr_s, r->token_id, r->token_n, r->token_s};
    return store_rate_take(&q, retry_after_s, by_token);
}

/* The token lookup that counts the request in the same Redis script. */
static int app_lookup_rated(const char *hash, const struct http_rate *r, struct auth_token *out,
                            int *throttled, int *retry_after_s, int *by_token)
{
    struct store_rate_req q = {r->addr, r->addr_n, r->addr_s, 0, r->token_n, r->token_s};
    return store_token_lookup_rated(hash, &q, out, throttled, retry_after_s, by_token);
}

/* The sampled record of requests answered 401 (never the audit trail). */
static int app_authfail(const struct http_authfail *a)
{
    struct authfail_entry e = {a->addr, a->method, a->path, a->request_id, a->reason, a->skipped};
    return store_authfail_append(&e);
}

/* What the HTTP server serves: every route table, or only the ops table for a `worker`
 * answering its probes. Tokens, the audit trail and the rate limits come from the
 * domain's store. */
static struct http_app make_app(int ops_only)
{
    struct http_app app = {0};
    app.tables = ops_only ? routes_ops_only(&app.ntables) : routes_all(&app.ntables);
    app.token_lookup = store_token_lookup;
    app.audit_append = app_audit_append;
    app.rate_take = app_rate_take;
    app.token_lookup_rated = app_lookup_rated;
    app.authfail_record = app_authfail;
    return app;
}

/* Claims stored by a version without the state indexes get them in the background
 * (store_claim_index.h); the list is right meanwhile, only slower. Retried while Redis
 * is away. */
/* A background thread of serve/worker that runs until asked to stop: the claim indexer and the
 * KEK watch. fn reads t->stop. */
struct bg_thread {
    pthread_t thread;
    int started;
    atomic_int stop;
};

static void bg_start(struct bg_thread *t, void *(*fn)(void *))
{
    atomic_store(&t->stop, 0);
    t->started = pthread_create(&t->thread, 0, fn, t) == 0;
}

static void bg_signal_stop(struct bg_thread *t)
{
    atomic_store(&t->stop, 1);
}

static void bg_stop(struct bg_thread *t)
{
    bg_signal_stop(t);
    if (t->started)
        pthread_join(t->thread, 0);
    t->started = 0;
}

static void *index_claims(void *arg)
{
    struct bg_thread *ix = arg;
    while (!atomic_load(&ix->stop)) {
        int rc = store_claim_index_ready();
        if (rc == 0)
            rc = store_claim_index_migrate(500, &ix->stop) == 0 ? 1 : 0;
        if (rc == 1)
            break;
        for (int i = 0; i < 20 && !atomic_load(&ix->stop); i++) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, 0);
        }
    }
    store_conn_close();
    return 0;
}

/* When Redis did not answer at start-up, the KEK is compared once it does; until then nothing
 * is sealed or opened (seal_kek_hold). Another KEK stops the process: exit 2, as at start-up. */
static atomic_int s_exit_code;

static void *kek_watch_main(void *arg)
{
    struct bg_thread *w = arg;
    while (!atomic_load(&w->stop)) {
        int rc = kek_compare(1);
        if (!rc) {
            seal_kek_hold(0);
            log_msg(LOG_INFO, "the key-encryption key matches this Redis's check value");
            break;
        }
        if (rc == FW_ECONFLICT) {
            char msg[1024];
            kek_differs_message(msg, sizeof msg);
            log_event(LOG_ERROR, "stopping: wrong key-encryption key", LOG_STR("reason", msg));
            atomic_store(&s_exit_code, 2);
            kill(getpid(), SIGTERM);
            break;
        }
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, 0);
    }
    store_conn_close();
    return 0;
}

static void kek_watch_start(struct bg_thread *w)
{
    seal_kek_hold(1);
    bg_start(w, kek_watch_main);
}

static int start_jobs(struct fw_service *svc)
{
    if (svc->cfg.workers == 0)
        return 0;
    svc->jobs = jobs_runtime_start(svc, svc->cfg.workers, 1);
    svc->jobs_ready = jobs_runtime_ready;
    return 0;
}

/* No core dumps: a dump would hold the key-encryption key and any
 * claim private key being handed out at that moment. Set by the process
 * itself, so it holds under any supervisor or container runtime (the systemd
 * units also say LimitCORE=0). Before any key is loaded. */
static void no_core_dumps(void)
{
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none))
        log_msg(LOG_WARN, "could not turn core dumps off (setrlimit RLIMIT_CORE): %s",
                strerror(errno));
}

static int cmd_serve(int argc, char **argv, int api)
{
    /* Signals first: a SIGTERM that comes while the configuration loads (a slow start under
     * load) waits in the mask and ends the process cleanly once it is up, instead of killing it
     * half-started. */
    sigset_t set;
    block_signals(&set);
    no_core_dumps();
    int workers = 1;
    for (int i = 2; i < argc; i++) {
        if (api && !strcmp(argv[i], "--no-workers")) {
            workers = 0;
        } else {
            fprintf(stderr, "fleetwarden: unknown option %s\n%s", argv[i], s_usage);
            return 2;
        }
    }
    struct fw_service svc = {0};
    int rc = load_config(&svc, WITH_ROOT_CA);
    if (!rc)
        rc = load_kek(&svc);
    int sig = 0;
    if (!rc)
        rc = check_redis_or_signal(&set, &sig);
    if (rc || sig) {
        if (sig) /* nothing has started yet: nothing to finish */
            log_event(LOG_INFO, "signal received", LOG_INT("signal", sig),
                      LOG_STR("during", "start-up"));
        seal_kek_wipe();
        return rc;
    }
    struct bg_thread kw = {0};
    if (s_redis_check.kek_pending)
        seal_kek_hold(1); /* before any thread that seals starts */
    if (handlers_register_all()) {
        fprintf(stderr, "fleetwarden: could not register the job types\n");
        return 1;
    }
    svc.started_at = time(0);
    svc.metrics = metrics_new();
    watch_metrics_register(svc.metrics); /* misuse watch counters */
    struct server *srv = 0;
    char err[300];
    if (workers && start_jobs(&svc)) {
        fprintf(stderr, "fleetwarden: could not start the job workers\n");
        metrics_free(svc.metrics);
        return 1;
    }
    int ops_only = 0;
    if (!api && svc.cfg.health_listen) {
        /* A worker answers its probes (liveness, readiness: Redis and its workers) and
         * /metrics on its own address, nothing else. */
        ops_only = 1;
        memcpy(svc.cfg.listen_host, svc.cfg.health_host, sizeof svc.cfg.listen_host);
        svc.cfg.listen_port = svc.cfg.health_port;
    }
    struct http_app app = make_app(ops_only);
    /* one reader of the event log feeds every event stream and long poll of the API */
    if (api && event_hub_start(TOKEN_WATCH_KEY))
        log_msg(LOG_WARN, "could not start the event hub: event streams answer 503");
    if ((api || ops_only) && server_start(&svc, &app, &srv, err, sizeof err)) {
        fprintf(stderr, "fleetwarden: %s\n", err);
        event_hub_stop();
        jobs_runtime_stop(svc.jobs, 0);
        metrics_free(svc.metrics);
        return 2;
    }
    struct bg_thread ix = {0};
    if (api)
        bg_start(&ix, index_claims);
    if (s_redis_check.kek_pending)
        kek_watch_start(&kw);
    char listen[96];
    snprintf(listen, sizeof listen, "%s:%d", svc.cfg.listen_host, srv ? server_port(srv) : 0);
    log_event(LOG_INFO, api ? "fleetwarden serving" : "fleetwarden worker running",
              LOG_STR("listen", listen), LOG_INT("workers", workers ? svc.cfg.workers : 0),
              LOG_STR("version", FW_VERSION));
    sig = wait_for_signal(&set);
    log_event(LOG_INFO, "signal received", LOG_INT("signal", sig));
    jobs_runtime_begin_stop(svc.jobs); /* no new job from now on; the running ones go on */
    long long grace_end = drain_http(&svc, srv, &set);
    /* The threads end side by side: against a Redis that does not answer, each may wait out
     * a command timeout, and one after another they would outlast a supervisor's patience. */
    event_hub_signal_stop();
    bg_signal_stop(&ix);
    bg_signal_stop(&kw);
    long long stop_start = clock_mono_ms();
    server_stop(srv);                         /* waits for request handlers still in a Redis call */
    if (clock_mono_ms() - stop_start >= 1000) /* a stop that takes long says where */
        log_event(LOG_INFO, "shutting down: the HTTP server took long to stop",
                  LOG_INT("ms", clock_mono_ms() - stop_start));
    long long left = grace_end - clock_mono_ms();
    jobs_runtime_stop(svc.jobs, left > 0 ? left : 0);
    event_hub_stop();
    bg_stop(&ix);
    bg_stop(&kw);
    store_conn_close();
    metrics_free(svc.metrics);
    seal_kek_wipe();
    log_msg(LOG_INFO, "stopped");
    return atomic_load(&s_exit_code);
}

static int token_args(int argc, char **argv, const char **scope, const char **name)
{
    for (int i = 3; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--scope"))
            *scope = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--name"))
            *name = argv[++i];
        else
            return 2;
    }
    return 0;
}

static int cmd_token(int argc, char **argv)
{
    const char *scope = "admin", *name = 0;
    if (argc < 3 || strcmp(argv[2], "create") || token_args(argc, argv, &scope, &name) || !name) {
        fprintf(stderr, "usage: fleetwarden token create --scope read|operate|admin --name NAME\n");
        return 2;
    }
    struct auth_token t = {0};
    t.scope = auth_scope_parse(scope);
    if (t.scope == SCOPE_NONE || !auth_name_valid(name)) {
        fprintf(stderr, "fleetwarden: --scope must be read, operate or admin; --name 1-64 of "
                        "[A-Za-z0-9 ._-]\n");
        return 2;
    }
    snprintf(t.name, sizeof t.name, "%s", name);
    struct fw_service svc = {0};
    int rc = load_config(&svc, NO_ROOT_CA);
    if (rc)
        return rc;
    char secret[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_HEX_LEN + 1];
    if (auth_token_generate(secret, t.id))
        return 1;
    auth_token_hash(secret, hash);
    rc = store_token_create(hash, &t);
    if (rc) {
        char url[300];
        config_redis_url_redacted(&svc.cfg, url, sizeof url);
        fprintf(stderr, "fleetwarden: cannot store the token in Redis (%s): %s\n", url,
                rc == FW_EUNAVAILABLE ? store_conn_last_error() : fw_strerror(rc));
        xwipe(secret, sizeof secret);
        return 1;
    }
    printf("%s\n", secret);
    fprintf(stderr, "created token %s (%s scope, name \"%s\"); it is shown only this once\n", t.id,
            auth_scope_name(t.scope), t.name);
    xwipe(secret, sizeof secret);
    store_conn_close();
    return 0;
}

struct check_args {
    const char *fleet, *claim, *parameters;
};

static int check_args(int argc, char **argv, struct check_args *a)
{
    for (int i = 2; i < argc; i++) {
        const char **dst = !strcmp(argv[i], "--fleet")        ? &a->fleet
                           : !strcmp(argv[i], "--claim")      ? &a->claim
                           : !strcmp(argv[i], "--parameters") ? &a->parameters
                                                              : 0;
        if (!dst || i + 1 >= argc)
            return 2;
        *dst = argv[++i];
    }
    return (a->claim || a->parameters) && !a->fleet ? 2 : 0;
}

/* check --fleet: the verification in this process (the KEK only opens a named claim's key). */
static int cmd_verify(const struct check_args *a)
{
    struct fw_service svc = {0};
    int rc = load_config(&svc, WITH_ROOT_CA);
    if (rc)
        return rc;
    if (a->claim && load_kek(&svc))
        return 2;
    if (a->claim && kek_compare(0) == FW_ECONFLICT) {
        char msg[1024];
        kek_differs_message(msg, sizeof msg);
        fprintf(stderr, "fleetwarden: %s\n", msg);
        seal_kek_wipe();
        return 2;
    }
    json_t *params = a->parameters ? json_loads(a->parameters, 0, 0) : 0;
    if (a->parameters && !json_is_object(params)) {
        fprintf(stderr, "fleetwarden: --parameters must be a JSON object of strings\n");
        json_decref(params);
        return 2;
    }
    rc = verify_cli_run(&svc.cfg, a->fleet, a->claim, params, stdout);
    json_decref(params);
    store_conn_close();
    seal_kek_wipe();
    return rc;
}

/* check: the KEK (when one is set) against the check value this Redis keeps; 1 when it
 * differs. Writes nothing. */
static int check_kek(const struct fw_service *svc)
{
    char err[300];
    if (!svc->cfg.kek_file[0] || seal_kek_load(svc->cfg.kek_file, err, sizeof err))
        return 0; /* none set (serve and worker say so), or a bad one (config_load said so) */
    int rc = kek_compare(0);
    seal_kek_wipe();
    int tty = isatty(STDOUT_FILENO);
    if (rc == FW_ECONFLICT) {
        char msg[1024];
        kek_differs_message(msg, sizeof msg);
        printf("%skek: FAILED: %s%s\n", tty ? "\033[31m" : "", msg, tty ? "\033[0m" : "");
        return 1;
    }
    if (rc == FW_ENOTFOUND)
        printf("kek: no check value in this Redis yet (the next serve or worker writes it)\n");
    else if (rc)
        printf("kek: not compared: %s\n", fw_strerror(rc));
    else
        printf("kek: the one this Redis's data was sealed with\n");
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    struct check_args a = {0};
    if (check_args(argc, argv, &a)) {
        fprintf(stderr,
                "usage: fleetwarden check [--fleet NAME [--claim ID] [--parameters JSON]]\n");
        return 2;
    }
    if (a.fleet)
        return cmd_verify(&a);
    struct fw_service svc = {0};
    int rc = load_config(&svc, WITH_ROOT_CA);
    if (rc)
        return rc;
    char url[300];
    config_redis_url_redacted(&svc.cfg, url, sizeof url);
    printf("configuration: ok (listen %s:%d, redis %s, prefix %s, workers %d)\n",
           svc.cfg.listen_host, svc.cfg.listen_port, url, svc.cfg.prefix, svc.cfg.workers);
    config_show(&svc.cfg, stdout);
    struct aws_retry_settings retry;
    check_aws_retry(&retry); /* load_config checked it */
    if (svc.cfg.root_ca_pem)
        printf("root CA: %s (%zu bytes)\n",
               svc.cfg.root_ca_file[0] ? svc.cfg.root_ca_file : CONFIG_ROOT_CA_DEFAULT,
               strlen(svc.cfg.root_ca_pem));
    else
        printf("root CA: none: %s not readable (claim bundles carry rootCaPem null)\n",
               CONFIG_ROOT_CA_DEFAULT);
    static const char *const modes[] = {"standard", "legacy", "adaptive"};
    printf("AWS_MAX_ATTEMPTS=%d\nAWS_RETRY_MODE=%s\n", retry.max_attempts, modes[retry.mode]);
    char why[320];
    int bad = 0;
    if (store_conn_check(why, sizeof why) || store_ping(why, sizeof why)) {
        /* red on a terminal: the line an operator must not miss */
        int tty = isatty(STDOUT_FILENO);
        printf("%sredis: FAILED: %s%s\n", tty ? "\033[31m" : "", why, tty ? "\033[0m" : "");
        bad = 1;
    } else {
        printf("redis: ok\n");
    }
    int kek_bad = !bad && check_kek(&svc);
    if (aws_check_run(0, stdout))
        bad = 1;
    store_conn_close();
    return kek_bad ? 2 : bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(s_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("fleetwarden %s\n", FW_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "serve"))
        return cmd_serve(argc, argv, 1);
    if (!strcmp(argv[1], "worker"))
        return cmd_serve(argc, argv, 0);
    if (!strcmp(argv[1], "token"))
        return cmd_token(argc, argv);
    if (!strcmp(argv[1], "check"))
        return cmd_check(argc, argv);
    fprintf(stderr, "fleetwarden: unknown command '%s'\n%s", argv[1], s_usage);
    return 2;
}
