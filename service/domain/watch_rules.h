/*
 * watch_rules.h - the misuse watch's settings and rule engine, as pure
 * functions (no Redis, no AWS, no clock): unit-tested in tests/unit/watch.
 *
 * A fleet's settings.watch (PATCH /v1/fleets/{name} stores it; the fleets
 * route calls watch_settings_validate first). Every member is optional;
 * the defaults are shown:
 *
 *   {"enabled": true,
 *    "action": "alert",            alert | disable (INACTIVE) | revoke (REVOKED)
 *    "replace": false,             issue a replacement claim after disable/revoke
 *    "webhook": null,              {"url": "https://...", "secret": "..."} (secret 16..256 chars;
 *                                  http:// only to FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS)
 *    "rules": {
 *      "registrationsPerHour":       {"enabled": true, "threshold": 100, "windowSeconds": 3600},
 *      "expectedDevices":            {"enabled": true, "ratio": 1.1, "slack": 0},
 *      "failedRegistrationsPerHour": {"enabled": true, "threshold": 20, "windowSeconds": 3600},
 *      "allowedHours":               {"enabled": false, "allowedHoursUtc": [0, 24],
 *                                     "minRegistrations": 1, "windowSeconds": 3600},
 *      "baselineJump":               {"enabled": true, "factor": 3, "alpha": 0.2, "minSamples": 6,
 *                                     "minBaseline": 1, "minRegistrations": 10, "windowSeconds":
 * 3600}}}
 *
 * Every rule also takes "statistic" and "periodSeconds" (60..3600, a
 * multiple of 60; default 300): the CloudWatch statistic and period of the
 * data points it reads. A window is counted in the whole periods that
 * start inside it, so the rules with a window take a period of at most
 * windowSeconds / 4, and allowedHours one that divides 3600 (a period is
 * placed in the hour it starts in); older stored settings are read with
 * the longest period that fits. The claim rules read ApproximateNumberOfThingsRegistered,
 * which AWS publishes as a running total per claim: their statistic is
 * Maximum (the only one accepted); registrations in a window are the
 * highest total in it minus the total before it (watch_registrations).
 * failedRegistrationsPerHour takes Sum (failures, default), SampleCount
 * (attempts), Average (failures / attempts over the window, from the Sum
 * and SampleCount queries), Maximum or Minimum. Rules of one claim that agree on
 * the period share one metric query. "threshold" is compared with the
 * window's registrations (failures) (a breach is observed > threshold). allowedHoursUtc [from, to]
 * allows registrations in UTC hours from <= h < to (from > to wraps past
 * midnight). baselineJump compares the window's registrations with an
 * exponentially weighted moving average (weight alpha) of earlier cycles'
 * values; it fires only once minSamples cycles built the average and the
 * average is at least minBaseline.
 */
#ifndef FW_JOBS_HANDLERS_WATCH_RULES_H
#define FW_JOBS_HANDLERS_WATCH_RULES_H

#include <jansson.h>
#include <stddef.h>

enum watch_rule {
    WATCH_RULE_RATE = 0, /* registrationsPerHour (per claim) */
    WATCH_RULE_TOTAL,    /* expectedDevices (per claim) */
    WATCH_RULE_FAILED,   /* failedRegistrationsPerHour (per template) */
    WATCH_RULE_HOURS,    /* allowedHours (per claim) */
    WATCH_RULE_JUMP,     /* baselineJump (per claim) */
    WATCH_NRULES
};

enum watch_action { WATCH_ACT_ALERT = 0, WATCH_ACT_DISABLE, WATCH_ACT_REVOKE };

#define WATCH_STAT_MAX 16
#define WATCH_URL_MAX 2048

struct watch_rule_cfg {
    int enabled;
    double threshold;
    long window_s;
    int period_s;
    char stat[WATCH_STAT_MAX];
    double ratio, slack;  /* expectedDevices */
    double factor, alpha; /* baselineJump */
    long min_samples;
    double min_baseline;
    double min_regs;        /* allowedHours, baselineJump */
    int hour_from, hour_to; /* allowedHours */
};

struct watch_cfg {
    int enabled;
    enum watch_action action;
    int replace;
    char webhook_url[WATCH_URL_MAX]; /* "" = no webhook */
    struct watch_rule_cfg rule[WATCH_NRULES];
};

/* A metric's data points: bucket start times (epoch s) and values. */
struct watch_series {
    const double *ts;
    const double *val;
    size_t n;
};

#define WATCH_DEFAULT_PERIOD_S 300
#define WATCH_DEFAULT_WINDOW_S 3600
#define WATCH_PERIODS_PER_WINDOW 4 /* periodSeconds <= windowSeconds / 4 */

/* What one rule found. */
struct watch_finding {
    int breach;
    double observed;      /* the value compared */
    double threshold;     /* the limit it was compared with */
    double before, after; /* claim rules: the total before the window and the newest total in it */
    double from_s, to_s;  /* the data points that show it: [from, to) */
    char detail[200];     /* one sentence for people */
};

/* "registrationsPerHour", ...; NULL out of range. */
const char *watch_rule_name(int rule);
/* Rule by name, or -1. */
int watch_rule_parse(const char *s);
/* "alert", "disable", "revoke". */
const char *watch_action_name(enum watch_action a);

/*
 * Checks settings.watch (borrowed; NULL or JSON null is valid: all
 * defaults). Appends one {"field": "watch.rules.x.threshold", "message"}
 * per problem to errors_out (a JSON array, borrowed; may be NULL). Reads
 * FLEETWARDEN_WEBHOOK_ALLOW_HTTP_HOSTS for webhook URLs. Returns 0 when
 * valid, FW_EINVAL otherwise. Thread-safe. For the fleets route's PATCH.
 */
int watch_settings_validate(const json_t *watch, json_t *errors_out);

/* The same for a PATCH: with have_secret (the fleet has a stored webhook
 * secret, watch_webhook_has_secret) "secret": "***" is accepted and means
 * "keep the stored secret" (watch_webhook_keep_secret); without, "***" is
 * refused naming watch.webhook.secret. */
int watch_settings_validate_patch(const json_t *watch, int have_secret, json_t *errors_out);

/* What GET shows instead of the webhook secret, and what a PATCH may send
 * back to keep the stored one. */
#define WATCH_SECRET_KEEP "***"
/* The member of settings.watch.webhook that holds the secret sealed under
 * the KEK (service/domain/watch_secret.h). Older versions stored it in
 * plaintext as "secret"; both are read. */
#define WATCH_SECRET_SEALED "secretSealed"

/* The settings as a fleet GET may show them: a new copy with the webhook
 * secret (sealed or plaintext) replaced by "secret": "***" (NULL/non-object
 * input gives NULL). */
json_t *watch_settings_redact(const json_t *watch);

/* 1 when settings.watch (borrowed) holds a webhook secret, sealed or not. */
int watch_webhook_has_secret(const json_t *watch);

/* When watch.webhook.secret is "***", replaces it with the secret stored
 * in stored (settings.watch before the PATCH; borrowed), in its stored
 * form; a watch.webhook.url that is the stored URL as a read token sees it
 * (webhook_url_masked) becomes the stored URL. 0 (also when there is
 * nothing to keep), FW_ENOTFOUND when "***" was sent and nothing is stored. */
int watch_webhook_keep_secret(json_t *watch, const json_t *stored);

/* The effective settings of cfg as settings.watch JSON (every member,
 * no webhook secret): watch_cfg_load(NULL) then this gives the defaults.
 * New reference. */
json_t *watch_cfg_json(const struct watch_cfg *cfg);

/* Fills cfg from settings.watch with defaults for what is missing. Call
 * on validated settings; invalid members fall back to their default. */
void watch_cfg_load(const json_t *watch, struct watch_cfg *cfg);

/* The statistic of s over the points with from_s <= ts < to_s (Sum and
 * SampleCount add, Average averages, Maximum/Minimum). No point: 0
 * (missing data counts as zero). *npoints (may be NULL) gets the count. */
double watch_aggregate(const struct watch_series *s, const char *stat, double from_s, double to_s,
                       size_t *npoints);

/*
 * The running total (ApproximateNumberOfThingsRegistered, Maximum per
 * period). base is the claim's total before the series starts, or
 * WATCH_TOTAL_UNKNOWN. Points may come in either time order. The total
 * only grows; a reading below an earlier one is AWS's approximate count
 * dipping, so every function works on the highest total seen so far and a
 * dip never reads as registrations.
 */
#define WATCH_TOTAL_UNKNOWN (-1.0)

/* The highest total before t: base or a point with ts < t (UNKNOWN when neither). */
double watch_total_before(const struct watch_series *s, double base, double t);
/* The newest point's value, else base; never below 0. */
double watch_total_latest(const struct watch_series *s, double base);
/* A claim's first sighting: with base unknown, the first point is the
 * baseline (its value is returned); otherwise base. */
double watch_baseline(const struct watch_series *s, double base);
/* Registrations in [from, to): the highest total in it minus the total
 * before it, never below 0 (0 without a point in it, or when nothing
 * before it is known: call watch_baseline first). */
double watch_registrations(const struct watch_series *s, double base, double from_s, double to_s);

/* The statistic a rule's query asks CloudWatch for: the rule's, except Sum for Average
 * (failedRegistrationsPerHour computes its Average from Sum and SampleCount). */
const char *watch_query_stat(const struct watch_rule_cfg *r);
/* failedRegistrationsPerHour: window aggregate > threshold. s is the series of
 * watch_query_stat(r); for Average, attempts is the SampleCount series and the window's
 * Average is Sum(s) / Sum(attempts) over the window (0 without an attempt). */
void watch_eval_threshold(const struct watch_rule_cfg *r, const struct watch_series *s,
                          const struct watch_series *attempts, double now_s,
                          struct watch_finding *f);
/* registrationsPerHour: registrations in the window > threshold. */
void watch_eval_registrations(const struct watch_rule_cfg *r, const struct watch_series *s,
                              double base, double now_s, struct watch_finding *f);
/* expectedDevices: the newest total > expected * ratio + slack (never with expected <= 0). */
void watch_eval_total(const struct watch_rule_cfg *r, double total, long long expected,
                      struct watch_finding *f);
/* allowedHours: registrations in the window outside the allowed hours >= minRegistrations. */
void watch_eval_hours(const struct watch_rule_cfg *r, const struct watch_series *s, double base,
                      double now_s, struct watch_finding *f);
/* 1 when UTC hour h (0..23) is allowed by [from, to). */
int watch_hour_allowed(int from, int to, int h);
/* baselineJump: observed > factor * baseline, given n earlier samples. */
void watch_eval_jump(const struct watch_rule_cfg *r, double observed, double baseline, long n,
                     struct watch_finding *f);
/* The next moving average after observing x (n earlier samples). */
double watch_ewma_next(double alpha, double baseline, long n, double x);

#endif
