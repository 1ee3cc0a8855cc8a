/*
 * watch_rules.c - settings.watch: validation, defaults, redaction, and the
 * rule engine over CloudWatch data points.
 *
 * Everything here is pure so the rules can be tested against hand-made
 * series: the cycle (watch_cycle.c) reads the data, the store keeps the
 * moving averages and totals, and these functions only decide. Members a
 * rule does not use are refused by the validator, so a misspelt
 * "threshhold" is an error naming the field instead of a silent default.
 */
#include "service/domain/watch_rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/err.h"
#include "service/core/json_keys.h"
#include "service/domain/webhook_check.h"

static const char *const s_rule_names[WATCH_NRULES] = {
    "registrationsPerHour", "expectedDevices", "failedRegistrationsPerHour",
    "allowedHours",         "baselineJump",
};

/* Members each rule accepts: the RULE_NCOMMON every rule has, then its own. */
#define RULE_COMMON "enabled", "statistic", "periodSeconds"
#define RULE_NCOMMON 3
static const char *const s_rule_members[WATCH_NRULES][10] = {
    {RULE_COMMON, "threshold", "windowSeconds", 0},
    {RULE_COMMON, "ratio", "slack", 0},
    {RULE_COMMON, "threshold", "windowSeconds", 0},
    {RULE_COMMON, "allowedHoursUtc", "minRegistrations", "windowSeconds", 0},
    {RULE_COMMON, "factor", "alpha", "minSamples", "minBaseline", "minRegistrations",
     "windowSeconds", 0},
};

static const char *const s_stats[] = {"Sum", "SampleCount", "Average", "Maximum", "Minimum", 0};

const char *watch_rule_name(int rule)
{
    return rule >= 0 && rule < WATCH_NRULES ? s_rule_names[rule] : 0;
}

int watch_rule_parse(const char *s)
{
    for (int i = 0; s && i < WATCH_NRULES; i++)
        if (!strcmp(s, s_rule_names[i]))
            return i;
    return -1;
}

const char *watch_action_name(enum watch_action a)
{
    return a == WATCH_ACT_DISABLE ? "disable" : a == WATCH_ACT_REVOKE ? "revoke" : "alert";
}

/* ---- validation ---- */

struct vctx {
    json_t *errors;
    int bad;
    int have_secret; /* a stored webhook secret "***" may keep */
};

static void vfail(struct vctx *v, const char *field, const char *msg)
{
    v->bad = 1;
    if (v->errors)
        json_array_append_new(v->errors, json_pack("{s:s, s:s}", "field", field, "message", msg));
}

/* 1 when x is an object to check; 0 when it is absent or null (nothing to check) or of another
 * type (reported: path, msg). */
static int vobject(struct vctx *v, const json_t *x, const char *path, const char *msg)
{
    if (!x || json_is_null(x))
        return 0;
    if (!json_is_object(x)) {
        vfail(v, path, msg);
        return 0;
    }
    return 1;
}

/* Members of obj not in allowed, each named under path. */
static void vunknown(struct vctx *v, const json_t *obj, const char *const *allowed,
                     const char *path)
{
    if (json_unknown_fields(obj, allowed, path, v->errors))
        v->bad = 1;
}

/* A number in [lo, hi] at obj[key] (absent is fine). */
static void vnum(struct vctx *v, const json_t *obj, const char *key, const char *path, double lo,
                 double hi)
{
    const json_t *x = json_object_get(obj, key);
    char f[160], m[160];
    if (!x)
        return;
    snprintf(f, sizeof f, "%s.%s", path, key);
    if (!json_is_number(x) || json_number_value(x) < lo || json_number_value(x) > hi) {
        snprintf(m, sizeof m, "must be a number from %g to %g", lo, hi);
        vfail(v, f, m);
    }
}

static void vbool(struct vctx *v, const json_t *obj, const char *key, const char *path)
{
    const json_t *x = json_object_get(obj, key);
    char f[160];
    snprintf(f, sizeof f, "%s%s%s", path, *path ? "." : "", key);
    if (x && !json_is_boolean(x))
        vfail(v, f, "must be true or false");
}

static void vhours(struct vctx *v, const json_t *r, const char *path)
{
    const json_t *h = json_object_get(r, "allowedHoursUtc");
    char f[160];
    snprintf(f, sizeof f, "%s.allowedHoursUtc", path);
    if (!h)
        return;
    if (!json_is_array(h) || json_array_size(h) != 2 || !json_is_integer(json_array_get(h, 0)) ||
        !json_is_integer(json_array_get(h, 1))) {
        vfail(v, f, "must be [fromHour, toHour], two integers (UTC, from inclusive, to exclusive)");
        return;
    }
    json_int_t a = json_integer_value(json_array_get(h, 0)),
               b = json_integer_value(json_array_get(h, 1));
    if (a < 0 || a > 23 || b < 0 || b > 24 || a == b)
        vfail(v, f, "hours must be 0..23 (from) and 0..24 (to), and differ");
}

/* The claim rules read a running total: only its Maximum means anything. */
static int claim_rule(int rule)
{
    return rule != WATCH_RULE_FAILED;
}

static void vstat_period(struct vctx *v, int rule, const json_t *r, const char *path)
{
    const json_t *s = json_object_get(r, "statistic");
    const json_t *p = json_object_get(r, "periodSeconds");
    char f[160];
    snprintf(f, sizeof f, "%s.statistic", path);
    if (s && claim_rule(rule) && (!json_is_string(s) || strcmp(json_string_value(s), "Maximum")))
        vfail(v, f,
              "must be Maximum: AWS publishes ApproximateNumberOfThingsRegistered as a running "
              "total per claim, "
              "read with Maximum");
    else if (s && (!json_is_string(s) || !json_key_known(json_string_value(s), s_stats)))
        vfail(v, f, "must be one of Sum, SampleCount, Average, Maximum, Minimum");
    if (p && (!json_is_integer(p) || json_integer_value(p) < 60 || json_integer_value(p) > 3600 ||
              json_integer_value(p) % 60)) {
        snprintf(f, sizeof f, "%s.periodSeconds", path);
        vfail(v, f, "must be a multiple of 60 from 60 to 3600");
    }
}

/* 1 for the rules that count over windowSeconds. */
static int windowed_rule(int rule)
{
    return rule != WATCH_RULE_TOTAL;
}

/* A window is counted in the whole periods that start inside it (a data point is placed at the
 * start of its period): the period straddling the window's start counts as before it. A period
 * above a quarter of the window would leave most of the window unseen (period 3600 = window
 * 3600: a burst split by the hour mark is never counted). allowedHours places a period by the
 * hour of its start: a period that does not divide 3600 crosses hour marks. */
static void vperiod_window(struct vctx *v, int rule, const json_t *r, const char *path)
{
    const json_t *p = json_object_get(r, "periodSeconds"), *w = json_object_get(r, "windowSeconds");
    if (!windowed_rule(rule) ||
        (p && (!json_is_integer(p) || json_integer_value(p) < 60 || json_integer_value(p) > 3600 ||
               json_integer_value(p) % 60)) ||
        (w && (!json_is_number(w) || json_number_value(w) < 300 || json_number_value(w) > 86400)))
        return; /* reported by their own checks */
    long period = p ? (long)json_integer_value(p) : WATCH_DEFAULT_PERIOD_S;
    double window = w ? json_number_value(w) : WATCH_DEFAULT_WINDOW_S;
    char f[160], m[256];
    snprintf(f, sizeof f, "%s.%s", path, p || !w ? "periodSeconds" : "windowSeconds");
    if ((double)period * WATCH_PERIODS_PER_WINDOW > window) {
        if (p)
            snprintf(m, sizeof m,
                     "must be at most windowSeconds / %d (%g s): a window is counted in the whole "
                     "periods that start inside it",
                     WATCH_PERIODS_PER_WINDOW, window / WATCH_PERIODS_PER_WINDOW);
        else
            snprintf(m, sizeof m,
                     "must be at least %d x periodSeconds (%ld s with the default period): a "
                     "window is counted in the whole periods that start inside it",
                     WATCH_PERIODS_PER_WINDOW, period * WATCH_PERIODS_PER_WINDOW);
        vfail(v, f, m);
    } else if (rule == WATCH_RULE_HOURS && 3600 % period) {
        snprintf(f, sizeof f, "%s.periodSeconds", path);
        vfail(v, f,
              "must divide 3600 (60, 120, 180, 240, 300, 360, 600, 720, 900, ...): a period is "
              "placed in the UTC hour it starts in and must not cross an hour mark");
    }
}

static void vrule(struct vctx *v, int rule, const json_t *r)
{
    char path[96];
    snprintf(path, sizeof path, "watch.rules.%s", s_rule_names[rule]);
    if (!json_is_object(r)) {
        vfail(v, path, "must be an object");
        return;
    }
    vunknown(v, r, s_rule_members[rule], path);
    vbool(v, r, "enabled", path);
    vstat_period(v, rule, r, path);
    vperiod_window(v, rule, r, path);
    vnum(v, r, "threshold", path, 0, 1e12);
    vnum(v, r, "windowSeconds", path, 300, 86400);
    vnum(v, r, "ratio", path, 0.01, 1000);
    vnum(v, r, "slack", path, 0, 1e12);
    vnum(v, r, "factor", path, 1, 1000);
    vnum(v, r, "alpha", path, 0.01, 1);
    vnum(v, r, "minSamples", path, 1, 1000);
    vnum(v, r, "minBaseline", path, 0, 1e12);
    vnum(v, r, "minRegistrations", path, 0, 1e12);
    vhours(v, r, path);
}

static void vrules(struct vctx *v, const json_t *rules)
{
    if (!vobject(v, rules, "watch.rules", "must be an object"))
        return;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)rules, k, x)
    {
        int rule = watch_rule_parse(k);
        char f[JSON_FIELD_MAX];
        json_field_name(f, "watch.rules", k);
        if (rule < 0)
            vfail(
                v, f,
                "unknown rule (registrationsPerHour, expectedDevices, failedRegistrationsPerHour, "
                "allowedHours, baselineJump)");
        else
            vrule(v, rule, x);
    }
}

static void vwebhook(struct vctx *v, const json_t *w)
{
    if (!vobject(v, w, "watch.webhook", "must be an object {\"url\", \"secret\"} or null"))
        return;
    static const char *const members[] = {"url", "secret", 0};
    vunknown(v, w, members, "watch.webhook");
    char why[200];
    if (webhook_url_check(json_string_value(json_object_get(w, "url")), webhook_policy(), why,
                          sizeof why))
        vfail(v, "watch.webhook.url", why);
    const char *secret = json_string_value(json_object_get(w, "secret"));
    size_t n = secret ? strlen(secret) : 0;
    /* "***" is what GET shows: sent back, it keeps the stored secret. */
    if (secret && !strcmp(secret, WATCH_SECRET_KEEP)) {
        if (!v->have_secret)
            vfail(v, "watch.webhook.secret",
                  "\"***\" keeps the stored secret, but this fleet has none: send the secret");
    } else if (n < WEBHOOK_SECRET_MIN || n > WEBHOOK_SECRET_MAX) {
        vfail(v, "watch.webhook.secret", "required: 16 to 256 characters (the HMAC-SHA256 key)");
    }
}

static const char *const s_top[] = {"enabled", "action", "replace", "webhook", "rules", 0};
static const char *const s_actions[] = {"alert", "disable", "revoke", 0};

int watch_settings_validate(const json_t *watch, json_t *errors_out)
{
    return watch_settings_validate_patch(watch, 0, errors_out);
}

int watch_settings_validate_patch(const json_t *watch, int have_secret, json_t *errors_out)
{
    struct vctx v = {errors_out, 0, have_secret};
    if (!vobject(&v, watch, "watch", "must be an object"))
        return v.bad ? FW_EINVAL : 0;
    vunknown(&v, watch, s_top, "watch");
    vbool(&v, watch, "enabled", "watch");
    vbool(&v, watch, "replace", "watch");
    const json_t *a = json_object_get(watch, "action");
    if (a && (!json_is_string(a) || !json_key_known(json_string_value(a), s_actions)))
        vfail(&v, "watch.action", "must be one of alert, disable, revoke");
    vwebhook(&v, json_object_get(watch, "webhook"));
    vrules(&v, json_object_get(watch, "rules"));
    return v.bad ? FW_EINVAL : 0;
}

json_t *watch_settings_redact(const json_t *watch)
{
    if (!json_is_object(watch))
        return 0;
    json_t *c = json_deep_copy(watch);
    json_t *w = json_object_get(c, "webhook");
    if (json_is_object(w) &&
        (json_object_get(w, "secret") || json_object_get(w, WATCH_SECRET_SEALED))) {
        json_object_del(w, WATCH_SECRET_SEALED);
        json_object_set_new(w, "secret", json_string(WATCH_SECRET_KEEP));
    }
    return c;
}

int watch_webhook_has_secret(const json_t *watch)
{
    const json_t *w = json_object_get(watch, "webhook");
    return json_is_string(json_object_get(w, WATCH_SECRET_SEALED)) ||
           json_is_string(json_object_get(w, "secret"));
}

/* A URL sent back as a read token saw it (webhook_url_masked: its path hidden) means the
 * stored one: a portal that reads with a read token and writes with another must not
 * store "https://host/" + "***". */
static void keep_url(json_t *w, const json_t *old)
{
    const char *url = json_string_value(json_object_get(w, "url"));
    const char *was = json_string_value(json_object_get(old, "url"));
    if (!url || !was || !strcmp(url, was))
        return;
    char *masked = webhook_url_masked(was);
    if (!strcmp(masked, url))
        json_object_set_new(w, "url", json_string(was));
    free(masked);
}

int watch_webhook_keep_secret(json_t *watch, const json_t *stored)
{
    json_t *w = json_object_get(watch, "webhook");
    keep_url(w, json_object_get(stored, "webhook"));
    const char *s = json_string_value(json_object_get(w, "secret"));
    if (!s || strcmp(s, WATCH_SECRET_KEEP))
        return 0;
    const json_t *old = json_object_get(stored, "webhook");
    json_t *sealed = json_object_get(old, WATCH_SECRET_SEALED),
           *plain = json_object_get(old, "secret");
    if (!json_is_string(sealed) && !json_is_string(plain))
        return FW_ENOTFOUND;
    /* Exactly the stored form: a sealed blob stays sealed, a plaintext
     * one from an older version is sealed by the caller (watch_secret.h). */
    json_object_del(w, "secret");
    if (json_is_string(sealed))
        json_object_set_new(w, WATCH_SECRET_SEALED, json_deep_copy(sealed));
    else
        json_object_set_new(w, "secret", json_deep_copy(plain));
    return 0;
}

/* ---- defaults ---- */

static void rule_defaults(struct watch_cfg *cfg)
{
    for (int i = 0; i < WATCH_NRULES; i++) {
        struct watch_rule_cfg *r = &cfg->rule[i];
        memset(r, 0, sizeof *r);
        r->enabled = i != WATCH_RULE_HOURS;
        r->window_s = WATCH_DEFAULT_WINDOW_S;
        r->period_s = WATCH_DEFAULT_PERIOD_S;
        snprintf(r->stat, sizeof r->stat, "%s", claim_rule(i) ? "Maximum" : "Sum");
        r->hour_from = 0;
        r->hour_to = 24;
    }
    cfg->rule[WATCH_RULE_RATE].threshold = 100;
    cfg->rule[WATCH_RULE_FAILED].threshold = 20;
    cfg->rule[WATCH_RULE_TOTAL].ratio = 1.1;
    cfg->rule[WATCH_RULE_HOURS].min_regs = 1;
    struct watch_rule_cfg *j = &cfg->rule[WATCH_RULE_JUMP];
    j->factor = 3;
    j->alpha = 0.2;
    j->min_samples = 6;
    j->min_baseline = 1;
    j->min_regs = 10;
}

static double num(const json_t *o, const char *k, double dflt)
{
    const json_t *x = json_object_get(o, k);
    return json_is_number(x) ? json_number_value(x) : dflt;
}

/* Settings stored before periodSeconds was checked against the window (and against the hour
 * for allowedHours) are read with the longest period the validator would accept: at most a
 * quarter of the window, a divisor of 3600 for allowedHours, never below 60. */
static void period_fit(int rule, struct watch_rule_cfg *r)
{
    if (!windowed_rule(rule))
        return;
    while (r->period_s > 60 && ((long)r->period_s * WATCH_PERIODS_PER_WINDOW > r->window_s ||
                                (rule == WATCH_RULE_HOURS && 3600 % r->period_s)))
        r->period_s -= 60;
}

static void rule_load(int rule, const json_t *o, struct watch_rule_cfg *r)
{
    const json_t *e = json_object_get(o, "enabled");
    if (json_is_boolean(e))
        r->enabled = json_is_true(e);
    const char *s = json_string_value(json_object_get(o, "statistic"));
    if (s && json_key_known(s, s_stats) && !claim_rule(rule))
        snprintf(r->stat, sizeof r->stat, "%s", s);
    double p = num(o, "periodSeconds", r->period_s);
    if (p >= 60 && p <= 3600 && (long)p % 60 == 0)
        r->period_s = (int)p;
    r->threshold = num(o, "threshold", r->threshold);
    r->window_s = (long)num(o, "windowSeconds", (double)r->window_s);
    r->ratio = num(o, "ratio", r->ratio);
    r->slack = num(o, "slack", r->slack);
    r->factor = num(o, "factor", r->factor);
    r->alpha = num(o, "alpha", r->alpha);
    r->min_samples = (long)num(o, "minSamples", (double)r->min_samples);
    r->min_baseline = num(o, "minBaseline", r->min_baseline);
    r->min_regs = num(o, "minRegistrations", r->min_regs);
    const json_t *h = json_object_get(o, "allowedHoursUtc");
    if (json_array_size(h) == 2) {
        r->hour_from = (int)json_integer_value(json_array_get(h, 0));
        r->hour_to = (int)json_integer_value(json_array_get(h, 1));
    }
    if (r->window_s < r->period_s)
        r->window_s = r->period_s;
    period_fit(rule, r);
}

void watch_cfg_load(const json_t *watch, struct watch_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->enabled = 1;
    rule_defaults(cfg);
    if (!json_is_object(watch))
        return;
    const json_t *e = json_object_get(watch, "enabled");
    if (json_is_boolean(e))
        cfg->enabled = json_is_true(e);
    const char *a = json_string_value(json_object_get(watch, "action"));
    cfg->action = a && !strcmp(a, "disable")  ? WATCH_ACT_DISABLE
                  : a && !strcmp(a, "revoke") ? WATCH_ACT_REVOKE
                                              : WATCH_ACT_ALERT;
    cfg->replace = json_is_true(json_object_get(watch, "replace"));
    const char *url = json_string_value(json_object_get(json_object_get(watch, "webhook"), "url"));
    snprintf(cfg->webhook_url, sizeof cfg->webhook_url, "%s", url ? url : "");
    const json_t *rules = json_object_get(watch, "rules");
    for (int i = 0; i < WATCH_NRULES; i++) {
        const json_t *o = json_object_get(rules, s_rule_names[i]);
        if (json_is_object(o))
            rule_load(i, o, &cfg->rule[i]);
    }
}

static json_t *rule_json(int rule, const struct watch_rule_cfg *r)
{
    json_t *o = json_pack("{s:b, s:s, s:i}", "enabled", r->enabled, "statistic", r->stat,
                          "periodSeconds", r->period_s);
    for (const char *const *m = s_rule_members[rule] + RULE_NCOMMON; *m; m++) {
        const char *k = *m;
        json_t *v = !strcmp(k, "threshold")       ? json_real(r->threshold)
                    : !strcmp(k, "windowSeconds") ? json_integer(r->window_s)
                    : !strcmp(k, "ratio")         ? json_real(r->ratio)
                    : !strcmp(k, "slack")         ? json_real(r->slack)
                    : !strcmp(k, "factor")        ? json_real(r->factor)
                    : !strcmp(k, "alpha")         ? json_real(r->alpha)
                    : !strcmp(k, "minSamples")    ? json_integer(r->min_samples)
                    : !strcmp(k, "minBaseline")   ? json_real(r->min_baseline)
                    : !strcmp(k, "minRegistrations")
                        ? json_real(r->min_regs)
                        : json_pack("[i, i]", r->hour_from, r->hour_to);
        json_object_set_new(o, k, v);
    }
    return o;
}

json_t *watch_cfg_json(const struct watch_cfg *cfg)
{
    json_t *rules = json_object();
    for (int i = 0; i < WATCH_NRULES; i++)
        json_object_set_new(rules, s_rule_names[i], rule_json(i, &cfg->rule[i]));
    json_t *hook = cfg->webhook_url[0]
                       ? json_pack("{s:s, s:s}", "url", cfg->webhook_url, "secret", "***")
                       : json_null();
    return json_pack("{s:b, s:s, s:b, s:o, s:o}", "enabled", cfg->enabled, "action",
                     watch_action_name(cfg->action), "replace", cfg->replace, "webhook", hook,
                     "rules", rules);
}

/* ---- evaluation ---- */

double watch_aggregate(const struct watch_series *s, const char *stat, double from_s, double to_s,
                       size_t *npoints)
{
    double acc = 0;
    size_t n = 0;
    int mx = !strcmp(stat, "Maximum"), mn = !strcmp(stat, "Minimum");
    for (size_t i = 0; s && i < s->n; i++) {
        if (s->ts[i] < from_s || s->ts[i] >= to_s)
            continue;
        double x = s->val[i];
        if (n == 0 && (mx || mn))
            acc = x;
        else if (mx)
            acc = x > acc ? x : acc;
        else if (mn)
            acc = x < acc ? x : acc;
        else
            acc += x;
        n++;
    }
    if (n && !strcmp(stat, "Average"))
        acc /= (double)n;
    if (npoints)
        *npoints = n;
    return acc;
}

static void finding(struct watch_finding *f, int breach, double observed, double threshold,
                    double from_s, double to_s)
{
    memset(f, 0, sizeof *f);
    f->breach = breach;
    f->observed = observed;
    f->threshold = threshold;
    f->from_s = from_s;
    f->to_s = to_s;
}

/* ---- the running total ---- */

/* Index of the i-th point in time order (the series may come newest first). */
static size_t in_order(const struct watch_series *s, size_t i)
{
    return s->n > 1 && s->ts[0] > s->ts[s->n - 1] ? s->n - 1 - i : i;
}

double watch_total_before(const struct watch_series *s, double base, double t)
{
    double hw = base;
    for (size_t i = 0; s && i < s->n; i++)
        if (s->ts[i] < t && s->val[i] > hw)
            hw = s->val[i];
    return hw;
}

double watch_total_latest(const struct watch_series *s, double base)
{
    double v = base;
    if (s && s->n)
        v = s->val[in_order(s, s->n - 1)];
    return v > 0 ? v : 0;
}

double watch_baseline(const struct watch_series *s, double base)
{
    if (base >= 0 || !s || !s->n)
        return base;
    return s->val[in_order(s, 0)];
}

double watch_registrations(const struct watch_series *s, double base, double from_s, double to_s)
{
    double before = watch_total_before(s, base, from_s), top = -1;
    for (size_t i = 0; s && i < s->n; i++)
        if (s->ts[i] >= from_s && s->ts[i] < to_s && s->val[i] > top)
            top = s->val[i];
    if (top < 0 || before < 0)
        return 0;
    return top > before ? top - before : 0;
}

void watch_eval_registrations(const struct watch_rule_cfg *r, const struct watch_series *s,
                              double base, double now_s, struct watch_finding *f)
{
    double from = now_s - (double)r->window_s;
    double x = watch_registrations(s, base, from, now_s + 1);
    finding(f, r->enabled && x > r->threshold, x, r->threshold, from, now_s + 1);
    f->before = watch_total_before(s, base, from);
    f->after = f->before + x;
    snprintf(f->detail, sizeof f->detail,
             "%g registrations in the last %ld s (total %g, then %g), over the threshold %g", x,
             r->window_s, f->before, f->after, r->threshold);
}

const char *watch_query_stat(const struct watch_rule_cfg *r)
{
    return strcmp(r->stat, "Average") ? r->stat : "Sum";
}

void watch_eval_threshold(const struct watch_rule_cfg *r, const struct watch_series *s,
                          const struct watch_series *attempts, double now_s,
                          struct watch_finding *f)
{
    double from = now_s - (double)r->window_s;
    if (strcmp(r->stat, "Average")) {
        double x = watch_aggregate(s, r->stat, from, now_s + 1, 0);
        finding(f, r->enabled && x > r->threshold, x, r->threshold, from, now_s + 1);
        snprintf(f->detail, sizeof f->detail, "%s %g in the last %ld s, over the threshold %g",
                 r->stat, x, r->window_s, r->threshold);
        return;
    }
    /* The window's average is failures / attempts over the whole window, not the average of
     * each period's average (1 failure in 100 attempts is 0.01, whatever the periods). */
    double fails = watch_aggregate(s, "Sum", from, now_s + 1, 0);
    double att = watch_aggregate(attempts, "Sum", from, now_s + 1, 0);
    double x = att > 0 ? fails / att : 0;
    finding(f, r->enabled && x > r->threshold, x, r->threshold, from, now_s + 1);
    snprintf(f->detail, sizeof f->detail,
             "Average %g (%g failed of %g attempts) in the last %ld s, over the threshold %g", x,
             fails, att, r->window_s, r->threshold);
}

void watch_eval_total(const struct watch_rule_cfg *r, double total, long long expected,
                      struct watch_finding *f)
{
    double limit = (double)expected * r->ratio + r->slack;
    finding(f, r->enabled && expected > 0 && total > limit, total, limit, 0, 0);
    f->before = f->after = total;
    snprintf(f->detail, sizeof f->detail,
             "%g registrations in total for %lld expected devices (limit %g)", total, expected,
             limit);
}

int watch_hour_allowed(int from, int to, int h)
{
    if (from < to)
        return h >= from && h < to;
    return h >= from || h < to;
}

void watch_eval_hours(const struct watch_rule_cfg *r, const struct watch_series *s, double base,
                      double now_s, struct watch_finding *f)
{
    double from = now_s - (double)r->window_s, outside = 0;
    double hw = watch_total_before(s, base, from);
    for (size_t k = 0; s && k < s->n; k++) {
        size_t i = in_order(s, k);
        if (s->ts[i] < from || s->ts[i] > now_s)
            continue;
        /* each period's registrations: how far it raised the highest total */
        double inc = hw >= 0 && s->val[i] > hw ? s->val[i] - hw : 0;
        hw = s->val[i] > hw ? s->val[i] : hw;
        int h = (int)(fmod(floor(s->ts[i] / 3600.0), 24.0));
        if (!watch_hour_allowed(r->hour_from, r->hour_to, h))
            outside += inc;
    }
    finding(f, r->enabled && outside > 0 && outside >= r->min_regs, outside, r->min_regs, from,
            now_s + 1);
    f->before = watch_total_before(s, base, from);
    f->after = hw; /* the highest total by the end of the window */
    snprintf(f->detail, sizeof f->detail,
             "%g registrations outside the allowed UTC hours %02d-%02d", outside, r->hour_from,
             r->hour_to);
}

void watch_eval_jump(const struct watch_rule_cfg *r, double observed, double baseline, long n,
                     struct watch_finding *f)
{
    double limit = r->factor * baseline;
    int ready = n >= r->min_samples && baseline >= r->min_baseline;
    int breach = r->enabled && ready && observed > limit && observed >= r->min_regs;
    finding(f, breach, observed, limit, 0, 0);
    snprintf(f->detail, sizeof f->detail,
             "%g registrations against a moving average of %g (factor %g, %ld samples)", observed,
             baseline, r->factor, n);
}

double watch_ewma_next(double alpha, double baseline, long n, double x)
{
    return n <= 0 ? x : alpha * x + (1 - alpha) * baseline;
}
