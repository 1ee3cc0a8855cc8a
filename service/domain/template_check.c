/*
 * template_check.c - validates a fleet provisioning template body.
 *
 * Rules in order: size (characters, as AWS counts them), JSON, shape
 * (object with a Resources object, optional Parameters object), resource
 * types, the one Thing / Policy / Certificate Greengrass needs, then every
 * {"Ref": X} anywhere under Resources must name a declared parameter.
 * Errors make the body invalid; warnings (an unused parameter, a
 * certificate not set Active, a thing without thing groups) do not.
 */
#include "service/domain/template_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/err.h"

struct tc_out {
    json_t *errors;
    json_t *warnings;
};

static void add(json_t *list, const char *pointer, const char *fmt, const char *arg)
{
    char msg[300];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    json_array_append_new(list, json_pack("{s:s, s:s}", "pointer", pointer, "message", msg));
}

/* "/Resources/" + name with ~ and / escaped (RFC 6901) + suffix. */
static void ptr(char *out, size_t n, const char *name, const char *suffix)
{
    size_t o = (size_t)snprintf(out, n, "/Resources/");
    for (const char *p = name; *p && o + 3 < n; p++) {
        if (*p == '~' || *p == '/') {
            out[o++] = '~';
            out[o++] = *p == '~' ? '0' : '1';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    snprintf(out + o, n - o, "%s", suffix ? suffix : "");
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

static void check_thing(const char *name, const json_t *props, struct tc_out *o)
{
    char p[400];
    if (!json_object_get(props, "ThingName")) {
        ptr(p, sizeof p, name, "/Properties");
        add(o->errors, p, "the AWS::IoT::Thing resource needs a ThingName property%s", 0);
    }
    if (!json_object_get(props, "ThingGroups")) {
        ptr(p, sizeof p, name, "/Properties");
        add(o->warnings, p,
            "no ThingGroups: devices join no thing group (Greengrass deployments usually target "
            "one)%s",
            0);
    }
}

static void check_policy(const char *name, const json_t *props, struct tc_out *o)
{
    char p[400];
    const json_t *pn = json_object_get(props, "PolicyName"),
                 *pd = json_object_get(props, "PolicyDocument");
    ptr(p, sizeof p, name, "/Properties");
    if (pn && pd)
        add(o->errors, p, "set PolicyName or PolicyDocument, not both%s", 0);
    else if (!pn && !pd)
        add(o->errors, p, "the AWS::IoT::Policy resource needs PolicyName or PolicyDocument%s", 0);
    if (pd) {
        ptr(p, sizeof p, name, "/Properties/PolicyDocument");
        json_t *doc = json_is_string(pd) ? json_loads(json_string_value(pd), 0, 0)
                                         : json_incref((json_t *)pd);
        if (!json_is_object(doc) || !json_object_get(doc, "Statement"))
            add(o->errors, p, "PolicyDocument must be a JSON policy document with a Statement%s",
                0);
        json_decref(doc);
    }
}

static void check_cert(const char *name, const json_t *props, const json_t *params,
                       struct tc_out *o)
{
    char p[400];
    const json_t *id = json_object_get(props, "CertificateId");
    const char *ref = json_string_value(json_object_get(id, "Ref"));
    ptr(p, sizeof p, name, "/Properties/CertificateId");
    if (!ref || strcmp(ref, "AWS::IoT::Certificate::Id") || json_object_size(id) != 1)
        add(o->errors, p, "CertificateId must be {\"Ref\": \"AWS::IoT::Certificate::Id\"}%s", 0);
    else if (!json_object_get(params, "AWS::IoT::Certificate::Id"))
        add(o->errors, "/Parameters", "the parameter AWS::IoT::Certificate::Id must be declared%s",
            0);
    const char *status = json_string_value(json_object_get(props, "Status"));
    if (!status || strcmp(status, "Active")) {
        ptr(p, sizeof p, name, "/Properties/Status");
        add(o->warnings, p, "Status is not \"Active\": provisioned devices cannot connect%s", 0);
    }
}

/* Collects every {"Ref": X} below v into refs (name -> true). */
static void collect_refs(const json_t *v, json_t *refs, const char *at, struct tc_out *o,
                         const json_t *params)
{
    if (json_is_object(v)) {
        const char *ref = json_string_value(json_object_get(v, "Ref"));
        if (ref) {
            json_object_set_new(refs, ref, json_true());
            if (!json_object_get(params, ref))
                add(o->errors, at, "Ref to undeclared parameter \"%s\"", ref);
        }
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m) collect_refs(m, refs, at, o, params);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) collect_refs(e, refs, at, o, params);
    }
}

static void count_type(const char *type, int counts[3])
{
    if (!strcmp(type, "AWS::IoT::Thing"))
        counts[0]++;
    else if (!strcmp(type, "AWS::IoT::Policy"))
        counts[1]++;
    else if (!strcmp(type, "AWS::IoT::Certificate"))
        counts[2]++;
}

static void check_resource(const char *name, const json_t *r, const json_t *params, int counts[3],
                           json_t *refs, struct tc_out *o)
{
    char p[400];
    ptr(p, sizeof p, name, "");
    const char *type = json_string_value(json_object_get(r, "Type"));
    const json_t *props = json_object_get(r, "Properties");
    if (!json_is_object(r) || !type) {
        add(o->errors, p, "a resource must be an object with a Type%s", 0);
        return;
    }
    count_type(type, counts);
    if (!strcmp(type, "AWS::IoT::Thing"))
        check_thing(name, props, o);
    else if (!strcmp(type, "AWS::IoT::Policy"))
        check_policy(name, props, o);
    else if (!strcmp(type, "AWS::IoT::Certificate"))
        check_cert(name, props, params, o);
    else
        add(o->errors, p,
            "unsupported resource type \"%s\" (AWS::IoT::Thing, Policy or Certificate)", type);
    collect_refs(r, refs, p, o, params);
}

static void check_counts(const int counts[3], struct tc_out *o)
{
    static const char *const types[] = {"AWS::IoT::Thing", "AWS::IoT::Policy",
                                        "AWS::IoT::Certificate"};
    for (int i = 0; i < 3; i++) {
        if (counts[i] == 0)
            add(o->errors, "/Resources", "exactly one %s resource is required; there is none",
                types[i]);
        else if (counts[i] > 1)
            add(o->errors, "/Resources", "exactly one %s resource is required; there are several",
                types[i]);
    }
}

static void check_params(const json_t *params, const json_t *refs, struct tc_out *o)
{
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)params, k, m)
    {
        if (!json_object_get(refs, k)) {
            char p[300];
            snprintf(p, sizeof p, "/Parameters/%s", k);
            add(o->warnings, p, "parameter \"%s\" is declared but never used", k);
        }
    }
}

static void check_body(const json_t *body, struct tc_out *o)
{
    const json_t *res = json_object_get(body, "Resources"),
                 *params = json_object_get(body, "Parameters");
    if (!json_is_object(body)) {
        add(o->errors, "", "the template body must be a JSON object%s", 0);
        return;
    }
    if (params && !json_is_object(params))
        add(o->errors, "/Parameters", "Parameters must be an object%s", 0);
    if (!json_is_object(res)) {
        add(o->errors, "/Resources", "Resources must be an object%s", 0);
        return;
    }
    int counts[3] = {0, 0, 0};
    json_t *refs = json_object();
    const char *k;
    json_t *r;
    json_object_foreach((json_t *)res, k, r)
        check_resource(k, r, json_is_object(params) ? params : 0, counts, refs, o);
    check_counts(counts, o);
    if (json_is_object(params))
        check_params(params, refs, o);
    json_decref(refs);
}

static json_t *result(struct tc_out *o)
{
    return json_pack("{s:b, s:o, s:o}", "valid", json_array_size(o->errors) == 0, "errors",
                     o->errors, "warnings", o->warnings);
}

json_t *template_check(const char *text, size_t len)
{
    struct tc_out o = {json_array(), json_array()};
    size_t chars = utf8_chars(text, len);
    if (chars > TEMPLATE_BODY_MAX) {
        char m[120];
        snprintf(m, sizeof m, "%zu characters; AWS allows at most %d", chars, TEMPLATE_BODY_MAX);
        add(o.errors, "", "the template body is too long: %s", m);
        return result(&o);
    }
    json_error_t je;
    json_t *body = json_loadb(text, len, JSON_DECODE_ANY, &je);
    if (!body) {
        char m[260];
        snprintf(m, sizeof m, "line %d column %d: %s", je.line, je.column, je.text);
        add(o.errors, "", "the template body is not valid JSON: %s", m);
        return result(&o);
    }
    check_body(body, &o);
    json_decref(body);
    return result(&o);
}

json_t *template_check_json(const json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *r = template_check(text ? text : "", text ? strlen(text) : 0);
    free(text);
    return r;
}

void template_check_fields(const json_t *verdict, const char *member, json_t *errors)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(verdict, "errors"), i, e)
    {
        char f[300];
        snprintf(f, sizeof f, "%s%s", member, json_string_value(json_object_get(e, "pointer")));
        json_array_append_new(errors, json_pack("{s:s, s:s}", "field", f, "message",
                                                json_string_value(json_object_get(e, "message"))));
    }
}

/* ---- descriptions ---- */

/* The next code point of valid UTF-8 at *p (advanced). */
static unsigned long utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    unsigned long c = s[0];
    int n = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    c = n == 0 ? c : n == 1 ? c & 0x1F : n == 2 ? c & 0x0F : c & 0x07;
    for (int i = 1; i <= n && s[i]; i++)
        c = (c << 6) | (s[i] & 0x3F);
    *p = s + 1 + n;
    return c;
}

/* Unicode category Cf (format), as of Unicode 15. */
static int format_char(unsigned long c)
{
    static const unsigned long r[][2] = {
        {0xAD, 0xAD},       {0x600, 0x605},     {0x61C, 0x61C},     {0x6DD, 0x6DD},
        {0x70F, 0x70F},     {0x890, 0x891},     {0x8E2, 0x8E2},     {0x180E, 0x180E},
        {0x200B, 0x200F},   {0x202A, 0x202E},   {0x2060, 0x2064},   {0x2066, 0x206F},
        {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
        {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
        {0xE0020, 0xE007F},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (c >= r[i][0] && c <= r[i][1])
            return 1;
    return 0;
}

/* Category C but for unassigned code points: Cc, Cf, Cs, Co and the noncharacters. */
static int other_char(unsigned long c)
{
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
        return 1; /* Cc */
    if ((c >= 0xD800 && c <= 0xDFFF) || (c >= 0xE000 && c <= 0xF8FF) || c >= 0xF0000)
        return 1; /* Cs, Co (and planes 15-16 are private use) */
    if ((c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE)
        return 1; /* noncharacters (Cn) */
    return format_char(c);
}

int template_description_check(const char *s, size_t len, char *why, size_t whylen)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t n = 0;
    while (p < end) {
        unsigned long c = utf8_next(&p);
        if (other_char(c)) {
            snprintf(why, whylen,
                     "character %zu (U+%04lX) is a control or format character: AWS takes none "
                     "(pattern [^\\p{C}]*)",
                     n + 1, c);
            return FW_EINVAL;
        }
        n++;
    }
    if (n > TEMPLATE_DESCRIPTION_MAX) {
        snprintf(why, whylen, "must be at most %d characters", TEMPLATE_DESCRIPTION_MAX);
        return FW_EINVAL;
    }
    return 0;
}
