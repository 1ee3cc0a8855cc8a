/*
 * jobs_probe.c - a test harness for jobs/ (not part of the product).
 *
 *   jobs-probe worker [--workers N] [--no-aux] [--grace S]
 *   jobs-probe scheduler                      scheduler + reaper only
 *   jobs-probe enqueue --type T [--payload JSON] [--lane L] [--resource R]
 *                      [--id ID] [--count N] [--delay-ms D] [--max-attempts N]
 *                      [--gap-ms G]  (G ms between two enqueues)
 *                      prints "ID EXISTED" per job, or "error NAME"
 *   jobs-probe schedule --name N --type T [--payload JSON] (--every S | --daily HH:MM)
 *   jobs-probe unschedule NAME
 *   jobs-probe get ID | cancel ID | retry ID | wait ID MS | list [STATE] [LIMIT] [CURSOR]
 *   jobs-probe group --threads T --calls N [--keep-scripts] [--wait-go] [--batch]
 *                      grouped script calls from T threads (group_probe.h)
 *
 * Configuration from the same FLEETWARDEN_* environment as the service.
 * Worker processes stop gracefully on SIGTERM/SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs/queue.h"
#include "jobs/queue_events.h"
#include "jobs/runtime.h"
#include "group_probe.h"
#include "probe_handlers.h"
#include "service/core/config.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/service.h"
#include "service/redis/store_conn.h"

static struct fw_service s_svc;

static const char *opt(int argc, char **argv, const char *name, const char *dflt)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return dflt;
}

static int flag(int argc, char **argv, const char *name)
{
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

static int run_runtime(int nworkers, int aux, int grace_s)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct jobs_runtime *rt = jobs_runtime_start(&s_svc, nworkers, aux);
    printf("ready\n");
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    jobs_runtime_stop(rt, grace_s * 1000LL);
    return 0;
}

static int cmd_enqueue(int argc, char **argv)
{
    struct job_spec spec = {.type = opt(argc, argv, "--type", NULL),
                            .payload_json = opt(argc, argv, "--payload", "{}"),
                            .lane = opt(argc, argv, "--lane", NULL),
                            .resource = opt(argc, argv, "--resource", NULL),
                            .id = opt(argc, argv, "--id", NULL),
                            .max_attempts = atoi(opt(argc, argv, "--max-attempts", "0"))};
    long long delay = atoll(opt(argc, argv, "--delay-ms", "0"));
    if (delay > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        spec.run_at_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + delay;
    }
    int count = atoi(opt(argc, argv, "--count", "1"));
    long gap = atol(opt(argc, argv, "--gap-ms", "0"));
    for (int i = 0; i < count; i++) {
        struct timespec pause = {gap / 1000, (gap % 1000) * 1000000L};
        if (gap > 0 && i > 0)
            nanosleep(&pause, NULL);
        char id[JOB_ID_MAX];
        int existed = 0;
        int rc = jobs_enqueue(&spec, id, &existed);
        if (rc) {
            printf("error %s\n", fw_err_name(rc));
            return 1;
        }
        printf("%s %d\n", id, existed);
    }
    return 0;
}

static int print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    printf("%s\n", s);
    free(s);
    json_decref(v);
    return 0;
}

static int result(int rc)
{
    printf("%s\n", rc ? fw_err_name(rc) : "ok");
    return rc ? 1 : 0;
}

static int cmd_list(int argc, char **argv)
{
    struct jobs_filter f = {argc > 2 && argv[2][0] ? argv[2] : NULL, NULL, NULL};
    json_t *items = NULL;
    char next[32];
    int rc = jobs_list(&f, argc > 3 ? atoi(argv[3]) : 50, argc > 4 ? argv[4] : NULL, &items, next);
    if (rc)
        return result(rc);
    json_t *o = json_pack("{s:o,s:s}", "items", items, "nextCursor", next);
    return print_json(o);
}

static int cmd_job(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (argc < 3)
        return 2;
    if (!strcmp(cmd, "get")) {
        json_t *j = NULL;
        int rc = jobs_get(argv[2], &j);
        return rc ? result(rc) : print_json(j);
    }
    if (!strcmp(cmd, "cancel")) {
        int immediate = 0;
        int rc = jobs_cancel(argv[2], &immediate);
        return rc ? result(rc) : (printf("%s\n", immediate ? "canceled" : "requested"), 0);
    }
    if (!strcmp(cmd, "retry"))
        return result(jobs_retry(argv[2]));
    if (!strcmp(cmd, "unschedule"))
        return result(jobs_schedule_delete(argv[2]));
    if (!strcmp(cmd, "wait"))
        return result(jobs_wait(argv[2], argc > 3 ? atoi(argv[3]) : 1000));
    return 2;
}

static int cmd_schedule(int argc, char **argv)
{
    return result(jobs_schedule_upsert(
        opt(argc, argv, "--name", NULL), opt(argc, argv, "--type", ""),
        opt(argc, argv, "--payload", "{}"), atol(opt(argc, argv, "--every", "0")),
        opt(argc, argv, "--daily", NULL)));
}

static int dispatch(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (!strcmp(cmd, "worker"))
        return run_runtime(atoi(opt(argc, argv, "--workers", "4")), !flag(argc, argv, "--no-aux"),
                           atoi(opt(argc, argv, "--grace", "10")));
    if (!strcmp(cmd, "scheduler"))
        return run_runtime(0, 1, 5);
    if (!strcmp(cmd, "enqueue"))
        return cmd_enqueue(argc, argv);
    if (!strcmp(cmd, "schedule"))
        return cmd_schedule(argc, argv);
    if (!strcmp(cmd, "list"))
        return cmd_list(argc, argv);
    if (!strcmp(cmd, "group"))
        return group_probe(atoi(opt(argc, argv, "--threads", "8")),
                           atoi(opt(argc, argv, "--calls", "100")),
                           flag(argc, argv, "--keep-scripts"), flag(argc, argv, "--wait-go"),
                           flag(argc, argv, "--batch"));
    return cmd_job(argc, argv);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: jobs-probe "
                        "worker|scheduler|enqueue|schedule|get|cancel|retry|wait|list|group ...\n");
        return 2;
    }
    char err[256];
    if (config_load(&s_svc.cfg, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "jobs-probe: %s\n", err);
        return 2;
    }
    config_publish(&s_svc.cfg);
    log_set_level(s_svc.cfg.log_level);
    store_conn_configure(&s_svc.cfg);
    probe_handlers_register();
    int rc = dispatch(argc, argv);
    store_conn_close();
    return rc;
}
