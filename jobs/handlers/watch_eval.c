/*
 * watch_eval.c - rules to incidents, actions and notifications.
 *
 * Order of effects for one breach: the incident is opened (or updated)
 * with actionState "pending"; the action job (claim.disable on the
 * critical lane) and the webhook.deliver job are queued; then actionState
 * becomes "done". A cycle that dies in between is retried and finds the
 * incident still pending, so it queues them then; the webhook job's id is
 * made from the incident's, so it is never queued twice for one incident. A
 * claim with several breached rules in one cycle is disabled by one job.
 *
 * Registrations come from AWS's running total (watch_rules.h): a claim's
 * base (its total before the query window, watch_collect.c) and the
 * Maximum series. A claim whose base cannot be known takes its first
 * reading as the baseline. Each claim's state (watch_state.h: the totals
 * before the next hour marks, the moving average) is written back at the
 * end; a retried cycle (same job id) recomputes the average from prev*, so
 * a retry does not count one cycle twice.
 */
#include "watch_eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/domain/claims.h"
#include "jobs/queue.h"
#include "service/core/err.h"
#include "service/core/log.h"
#include "service/core/mem.h"
#include "service/domain/store.h"
#include "service/domain/store_claim.h"
#include "service/domain/store_fleet.h"
#include "service/domain/store_watch.h"

#define DATAPOINTS_MAX 100

struct eval_ctx {
    struct watch_plan *p;
    const char *job_id;
    long long now_ms;
    struct watch_eval_out *out;
    char (*acted)[JOB_ID_MAX]; /* per claim: the disable job of this cycle */
};

/* ---- findings ---- */

static json_t *datapoints(const struct watch_series *s, double from, double to)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n && json_array_size(a) < DATAPOINTS_MAX; i++) {
        if (to > from && (s->ts[i] < from || s->ts[i] >= to))
            continue;
        char t[32];
        store_format_time((long long)(s->ts[i] * 1000), t);
        json_array_append_new(a, json_pack("{s:s, s:f}", "timestamp", t, "value", s->val[i]));
    }
    return a;
}

static json_t *finding_json(const struct eval_ctx *e, int rule, const struct watch_rule_cfg *r,
                            const struct watch_finding *f, const struct watch_series *s,
                            const char *metric, const char *dim, const char *value)
{
    char from[32], to[32];
    double lo = f->to_s > f->from_s ? f->from_s : e->p->start_s;
    double hi = f->to_s > f->from_s ? f->to_s : e->p->end_s;
    store_format_time((long long)(lo * 1000), from);
    store_format_time((long long)(hi * 1000), to);
    return json_pack(
        "{s:s, s:f, s:f, s:s, s:s, s:i, s:I, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:o, s:s}", "rule",
        watch_rule_name(rule), "observed", f->observed, "threshold", f->threshold, "detail",
        f->detail, "statistic", r->stat, "periodSeconds", r->period_s, "windowSeconds",
        (json_int_t)r->window_s, "metric", metric, "dimension", "name", dim, "value", value,
        "window", "from", from, "to", to, "datapoints", datapoints(s, f->from_s, f->to_s),
        "cycleJob", e->job_id);
}

/* ---- actions ---- */

static int enqueue_webhook(const char *incident, char job[JOB_ID_MAX])
{
    char payload[128], id[96], res[64];
    snprintf(payload, sizeof payload, "{\"incidentId\":\"%s\",\"event\":\"incident.opened\"}",
             incident);
    snprintf(id, sizeof id, "wh_%s_opened", incident);
    snprintf(res, sizeof res, "incident:%s", incident);
    struct job_spec spec = {
        .type = "webhook.deliver", .payload_json = payload, .resource = res, .id = id};
    return jobs_enqueue(&spec, job, 0);
}

/* Queues the incident's webhook (when the fleet has one) and marks its action done. */
static int finish_incident(const char *id, const json_t *action, int has_webhook,
                           char wjob[JOB_ID_MAX])
{
    int rc = has_webhook ? enqueue_webhook(id, wjob) : 0;
    if (!rc) {
        char *text = json_dumps(action, JSON_COMPACT);
        const char *kv[] = {"action", text, "actionState", "done", "webhookJob", wjob};
        rc = store_incident_set(id, kv, 3);
        free(text);
    }
    return rc;
}

/* Queues the disable/revoke of claim ci (once per cycle). */
static json_t *claim_action(struct eval_ctx *e, size_t ci, const char *incident, const char *rule,
                            int *rc)
{
    const struct watch_cfg *cfg = &e->p->f[e->p->c[ci].fleet].cfg;
    const char *type = watch_action_name(cfg->action);
    *rc = 0;
    if (cfg->action == WATCH_ACT_ALERT)
        return json_pack("{s:s}", "type", type);
    if (!e->acted[ci][0]) {
        char reason[160];
        snprintf(reason, sizeof reason, "misuse watch: incident %s (%s)", incident, rule);
        *rc = claims_enqueue_disable_for(e->p->c[ci].id, incident, reason,
                                         cfg->action == WATCH_ACT_REVOKE, cfg->replace,
                                         e->acted[ci], JOB_ID_MAX);
        if (*rc == FW_ECONFLICT || *rc == FW_ENOTFOUND) {
            *rc = 0;
            return json_pack("{s:s, s:b, s:s}", "type", type, "replace", cfg->replace, "skipped",
                             "the claim cannot be disabled from its current state");
        }
        if (*rc) {
            e->acted[ci][0] = '\0';
            return 0;
        }
        store_watch_stat_add(cfg->action == WATCH_ACT_REVOKE ? "actions:revoke" : "actions:disable",
                             1);
    }
    return json_pack("{s:s, s:b, s:s}", "type", type, "replace", cfg->replace, "job", e->acted[ci]);
}

/* Takes the pending action of an incident and queues its webhook. */
static int act(struct eval_ctx *e, const struct watch_fleet *f, long ci, const char *id,
               const char *rule)
{
    int rc = 0;
    json_t *a =
        ci >= 0 ? claim_action(e, (size_t)ci, id, rule, &rc) : json_pack("{s:s}", "type", "alert");
    if (rc)
        return rc;
    char wjob[JOB_ID_MAX] = "";
    rc = finish_incident(id, a, f->cfg.webhook_url[0] != '\0', wjob);
    json_object_set_new(a, "incidentId", json_string(id));
    if (ci >= 0)
        json_object_set_new(a, "claimId", json_string(e->p->c[ci].id));
    if (e->out->nactions++ < WATCH_RESULT_LIST_MAX)
        json_array_append_new(e->out->actions, a);
    else
        json_decref(a);
    return rc;
}

static int incident(struct eval_ctx *e, const struct watch_fleet *f, long ci, int rule,
                    json_t *finding)
{
    char subject[200], id[INCIDENT_ID_MAX];
    const char *claim = ci >= 0 ? e->p->c[ci].id : 0;
    snprintf(subject, sizeof subject, "%s:%s", claim ? "claim" : "template",
             claim ? claim : f->tmpl);
    char *fj = json_dumps(finding, JSON_COMPACT);
    json_t *aj = json_pack("{s:s, s:b}", "type", claim ? watch_action_name(f->cfg.action) : "alert",
                           "replace", claim && f->cfg.replace);
    char *at = json_dumps(aj, JSON_COMPACT);
    struct incident_new in = {f->name, subject, claim, claim ? 0 : f->tmpl, watch_rule_name(rule),
                              fj,      at,      1};
    int created = 0, pending = 0;
    int rc = store_incident_upsert(&in, e->now_ms, id, &created, &pending);
    free(fj);
    free(at);
    json_decref(aj);
    json_decref(finding);
    if (rc)
        return rc;
    size_t *count = created ? &e->out->nopened : &e->out->nupdated;
    if ((*count)++ < WATCH_RESULT_LIST_MAX)
        json_array_append_new(created ? e->out->opened : e->out->updated, json_string(id));
    if (created) {
        char stat[64];
        snprintf(stat, sizeof stat, "incidents_opened:%s", watch_rule_name(rule));
        store_watch_stat_add(stat, 1);
        log_msg(LOG_WARN, "misuse watch: incident %s opened (%s, fleet %s, %s)", id,
                watch_rule_name(rule), f->name, subject);
    }
    return pending ? act(e, f, ci, id, watch_rule_name(rule)) : 0;
}

/* ---- claims ---- */

static void jump_baseline(struct eval_ctx *e, struct watch_claim_state *w, double *base, long *n)
{
    if (!strcmp(w->job, e->job_id)) {
        *base = w->prev_ewma;
        *n = w->prev_n;
    } else {
        *base = w->ewma;
        *n = w->n;
    }
}

/* The claim rules' findings carry the totals they were computed from. */
static json_t *claim_finding(const struct eval_ctx *e, int rule, const struct watch_rule_cfg *r,
                             const struct watch_finding *f, const struct watch_series *s,
                             const struct watch_claim *c)
{
    json_t *fj = finding_json(e, rule, r, f, s, WATCH_M_REG, WATCH_D_CLAIM, c->cert);
    json_object_set_new(fj, "totalBefore", json_real(f->before > 0 ? f->before : 0));
    json_object_set_new(fj, "total", json_real(f->after > 0 ? f->after : 0));
    return fj;
}

static int eval_claim_rule(struct eval_ctx *e, size_t ci, int rule, struct watch_finding *f,
                           double total)
{
    struct watch_claim *c = &e->p->c[ci];
    const struct watch_fleet *fl = &e->p->f[c->fleet];
    const struct watch_rule_cfg *r = &fl->cfg.rule[rule];
    struct watch_series s = watch_plan_series(e->p, fl->group, c->q[rule]);
    if (c->q[rule] < 0 || !r->enabled)
        return 0;
    if (rule == WATCH_RULE_RATE)
        watch_eval_registrations(r, &s, c->base, e->p->now_s, f);
    else if (rule == WATCH_RULE_TOTAL)
        watch_eval_total(r, total, c->expected, f);
    else if (rule == WATCH_RULE_HOURS)
        watch_eval_hours(r, &s, c->base, e->p->now_s, f);
    if (!f->breach)
        return 0;
    return incident(e, fl, (long)ci, rule, claim_finding(e, rule, r, f, &s, c));
}

static int eval_jump(struct eval_ctx *e, size_t ci, struct watch_claim_state *w)
{
    struct watch_claim *c = &e->p->c[ci];
    const struct watch_fleet *fl = &e->p->f[c->fleet];
    const struct watch_rule_cfg *r = &fl->cfg.rule[WATCH_RULE_JUMP];
    if (c->q[WATCH_RULE_JUMP] < 0)
        return 0;
    struct watch_series s = watch_plan_series(e->p, fl->group, c->q[WATCH_RULE_JUMP]);
    double from = e->p->now_s - (double)r->window_s;
    double obs = watch_registrations(&s, c->base, from, e->p->now_s + 1), base;
    long n;
    jump_baseline(e, w, &base, &n);
    struct watch_finding f;
    watch_eval_jump(r, obs, base, n, &f);
    f.before = watch_total_before(&s, c->base, from);
    f.after = f.before + obs;
    w->prev_ewma = base;
    w->prev_n = n;
    w->ewma = watch_ewma_next(r->alpha, base, n, obs);
    w->n = n + 1;
    snprintf(w->job, sizeof w->job, "%s", e->job_id);
    if (!f.breach)
        return 0;
    json_t *fj = claim_finding(e, WATCH_RULE_JUMP, r, &f, &s, c);
    json_object_set_new(fj, "baseline", json_real(base));
    return incident(e, fl, (long)ci, WATCH_RULE_JUMP, fj);
}

static int eval_claim(struct eval_ctx *e, size_t ci)
{
    struct watch_claim *c = &e->p->c[ci];
    const struct watch_fleet *fl = &e->p->f[c->fleet];
    struct watch_claim_state *w = &c->ws;
    if (e->p->g[fl->group].failed)
        return 0; /* not read this cycle: no data is not zero data */
    struct watch_series base = watch_plan_series(e->p, fl->group, c->q[WATCH_Q_BASE]);
    c->base = watch_baseline(&base, c->base); /* a first sighting is a baseline, not a burst */
    watch_state_advance(w, &base, c->base, e->p->start_s);
    double last_hour = watch_registrations(&base, c->base, e->p->now_s - 3600, e->p->now_s + 1);
    double total = watch_total_latest(&base, c->base);
    int rc =
        store_claim_set_registrations(c->id, (long long)last_hour, (long long)total, e->now_ms);
    if (rc && rc != FW_ENOTFOUND)
        return rc;
    if (c->metric != WATCH_METRIC_UNKNOWN && c->metric != w->metric) {
        struct claim_kv kv;
        claim_kv_init(&kv, CLAIM_BY_SET);
        claim_kv_str(&kv, CLAIM_F_REG_METRIC,
                     c->metric == WATCH_METRIC_PRESENT ? "present" : "missing");
        store_claim_set(c->id, &kv);
        w->metric = c->metric;
    }
    struct watch_finding f;
    static const int rules[] = {WATCH_RULE_RATE, WATCH_RULE_TOTAL, WATCH_RULE_HOURS};
    for (size_t i = 0; !rc && i < sizeof rules / sizeof rules[0]; i++)
        rc = eval_claim_rule(e, ci, rules[i], &f, total);
    return rc ? rc : eval_jump(e, ci, w);
}

static int eval_template(struct eval_ctx *e, const struct watch_fleet *fl)
{
    const struct watch_rule_cfg *r = &fl->cfg.rule[WATCH_RULE_FAILED];
    if (fl->q_fail < 0 || e->p->g[fl->group].failed)
        return 0;
    struct watch_series s = watch_plan_series(e->p, fl->group, fl->q_fail);
    struct watch_series att = watch_plan_series(e->p, fl->group, fl->q_att);
    struct watch_finding f;
    watch_eval_threshold(r, &s, &att, e->p->now_s, &f);
    if (!f.breach)
        return 0;
    json_t *fj =
        finding_json(e, WATCH_RULE_FAILED, r, &f, &s, WATCH_M_FAIL, WATCH_D_TEMPLATE, fl->tmpl);
    json_object_set_new(fj, "attempts",
                        json_real(watch_aggregate(&att, "Sum", f.from_s, f.to_s, 0)));
    return incident(e, fl, -1, WATCH_RULE_FAILED, fj);
}

/* ---- state out ---- */

static int states_save(struct eval_ctx *e)
{
    size_t n = e->p->nc;
    const char **ids = xcalloc(n + 1, sizeof *ids);
    char **vals = xcalloc(n + 1, sizeof *vals);
    for (size_t i = 0; i < n; i++) {
        ids[i] = e->p->c[i].id;
        vals[i] = watch_state_format(&e->p->c[i].ws);
    }
    int rc = n ? store_watch_claims_set(ids, (const char *const *)vals, n) : 0;
    for (size_t i = 0; i < n; i++)
        free(vals[i]);
    free(ids);
    free(vals);
    return rc;
}

int watch_eval_run(struct watch_plan *p, const char *job_id, long long now_ms,
                   struct watch_eval_out *out)
{
    struct eval_ctx e = {p, job_id, now_ms, out, 0};
    out->opened = json_array();
    out->updated = json_array();
    out->actions = json_array();
    e.acted = xcalloc(p->nc + 1, sizeof *e.acted);
    int rc = 0;
    for (size_t i = 0; !rc && i < p->nc; i++)
        rc = eval_claim(&e, i);
    for (size_t i = 0; !rc && i < p->nf; i++)
        rc = eval_template(&e, &p->f[i]);
    if (!rc)
        rc = states_save(&e);
    free(e.acted);
    return rc;
}

/* An alert outside a watch cycle (a failed scheduled fleet verification):
 * the same incident and webhook as a breach whose action is "alert". */
int watch_eval_alert(const char *fleet, const char *subject, const char *rule,
                     const json_t *finding, long long now_ms, char id[INCIDENT_ID_MAX],
                     int *created)
{
    json_t *doc = 0;
    int rc = store_fleet_get(fleet, &doc);
    if (rc)
        return rc;
    const json_t *hook =
        json_object_get(json_object_get(json_object_get(doc, "settings"), "watch"), "webhook");
    int has_webhook = json_string_value(json_object_get(hook, "url")) != 0;
    json_decref(doc);
    char *fj = json_dumps(finding, JSON_COMPACT);
    struct incident_new in = {
        fleet, subject, 0, 0, rule, fj ? fj : "{}", "{\"type\":\"alert\",\"replace\":false}", 1};
    int pending = 0;
    rc = store_incident_upsert(&in, now_ms, id, created, &pending);
    free(fj);
    if (!rc && pending) {
        char wjob[JOB_ID_MAX] = "";
        json_t *a = json_pack("{s:s}", "type", "alert");
        rc = finish_incident(id, a, has_webhook, wjob);
        json_decref(a);
    }
    if (!rc && *created)
        log_msg(LOG_WARN, "incident %s opened (%s, fleet %s, %s)", id, rule, fleet, subject);
    return rc;
}
