/*
 * xml.c - the capped XML DOM of xml.h, built with libexpat.
 *
 * AWS query-protocol answers are small (kilobytes) and flat, so a DOM is
 * simpler for callers than SAX callbacks and costs little. This is the only
 * file that includes expat.h. Hostile input is expected: a DOCTYPE stops
 * the parser at once (no entity can be declared, so none can expand), depth
 * and element count are capped, and every failure frees what was built.
 */
#include "aws/xml.h"

#include <expat.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "service/core/err.h"
#include "service/core/mem.h"

/* Expat joins namespace URI and local name with this byte. */
#define NS_SEP '\x01'

struct builder {
    XML_Parser parser;
    struct xml_node *root;
    struct xml_node *cur;
    int depth;
    size_t nodes;
    int rc; /* first error seen, 0 while fine */
};

static void stop(struct builder *b, int rc)
{
    if (!b->rc)
        b->rc = rc;
    XML_StopParser(b->parser, XML_FALSE);
}

static const char *local_name(const char *name)
{
    const char *sep = strrchr(name, NS_SEP);
    return sep ? sep + 1 : name;
}

static struct xml_node *node_new(const char *name, struct xml_node *parent)
{
    struct xml_node *n = xcalloc(1, sizeof *n);
    n->name = xstrdup(local_name(name));
    n->text = xstrdup("");
    n->text_cap = 1;
    n->parent = parent;
    if (parent) {
        if (parent->last)
            parent->last->next = n;
        else
            parent->children = n;
        parent->last = n;
    }
    return n;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct builder *b = ud;
    (void)attrs;
    if (b->rc)
        return;
    if (b->depth >= XML_DOM_MAX_DEPTH || b->nodes >= XML_DOM_MAX_NODES) {
        stop(b, FW_ETOOBIG);
        return;
    }
    struct xml_node *n = node_new(name, b->cur);
    if (!b->root)
        b->root = n;
    b->cur = n;
    b->depth++;
    b->nodes++;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct builder *b = ud;
    (void)name;
    if (b->rc || !b->cur)
        return;
    b->cur = b->cur->parent;
    b->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct builder *b = ud;
    if (b->rc || !b->cur || len <= 0)
        return;
    struct xml_node *n = b->cur;
    if (n->text_len + (size_t)len + 1 > n->text_cap) {
        /* No realloc: the old buffer is wiped so no copy of a secret stays behind. */
        size_t cap = n->text_cap < 64 ? 64 : n->text_cap;
        while (cap < n->text_len + (size_t)len + 1)
            cap *= 2;
        char *bigger = xmalloc(cap);
        memcpy(bigger, n->text, n->text_len + 1);
        xwipe(n->text, n->text_cap);
        free(n->text);
        n->text = bigger;
        n->text_cap = cap;
    }
    memcpy(n->text + n->text_len, s, (size_t)len);
    n->text_len += (size_t)len;
    n->text[n->text_len] = '\0';
}

/* Any DOCTYPE is refused: AWS never sends one, and it is the door to
 * entity expansion and external entities. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    stop(ud, FW_EINVAL);
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base;
    (void)sysid, (void)pubid, (void)notation;
    stop(ud, FW_EINVAL);
}

static void setup(XML_Parser p, struct builder *b)
{
    XML_SetUserData(p, b);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    XML_SetEntityDeclHandler(p, on_entity_decl);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
}

int xml_parse(const char *data, size_t len, struct xml_node **out)
{
    *out = 0;
    if (len > (size_t)0x7fffffff)
        return FW_ETOOBIG;
    struct builder b = {0};
    b.parser = XML_ParserCreateNS(NULL, NS_SEP);
    if (!b.parser)
        return FW_EINTERNAL;
    setup(b.parser, &b);
    enum XML_Status st = XML_Parse(b.parser, data, (int)len, XML_TRUE);
    int rc = b.rc;
    if (!rc && (st != XML_STATUS_OK || !b.root))
        rc = FW_EINVAL;
    XML_ParserFree(b.parser);
    if (rc) {
        xml_free(b.root);
        return rc;
    }
    *out = b.root;
    return 0;
}

/* Iterative so that freeing never recurses as deep as the input went. */
void xml_free(struct xml_node *root)
{
    struct xml_node *n = root;
    while (n) {
        if (n->children) {
            struct xml_node *c = n->children;
            n->children = 0;
            n = c;
            continue;
        }
        struct xml_node *up = n == root ? 0 : n->next ? n->next : n->parent;
        free(n->name);
        xwipe(n->text, n->text_cap);
        free(n->text);
        free(n);
        n = up;
    }
}

const struct xml_node *xml_child(const struct xml_node *n, const char *name)
{
    if (!n)
        return 0;
    for (const struct xml_node *c = n->children; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return 0;
}

const struct xml_node *xml_next(const struct xml_node *n)
{
    for (const struct xml_node *c = n ? n->next : 0; c; c = c->next)
        if (strcmp(c->name, n->name) == 0)
            return c;
    return 0;
}

const struct xml_node *xml_path(const struct xml_node *n, const char *path)
{
    char part[128];
    const char *p = path;
    while (n && *p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len >= sizeof part)
            return 0;
        memcpy(part, p, len);
        part[len] = '\0';
        n = xml_child(n, part);
        p += len + (slash ? 1 : 0);
    }
    return n;
}

const char *xml_text(const struct xml_node *n, const char *path)
{
    const struct xml_node *e = xml_path(n, path);
    return e ? e->text : 0;
}

const struct xml_node *xml_find(const struct xml_node *n, const char *name)
{
    const struct xml_node *start = n;
    while (n) {
        if (strcmp(n->name, name) == 0)
            return n;
        if (n->children) {
            n = n->children;
            continue;
        }
        while (n && n != start && !n->next)
            n = n->parent;
        n = (n && n != start) ? n->next : 0;
    }
    return 0;
}

char *xml_strdup(const struct xml_node *n, const char *path)
{
    const char *s = xml_text(n, path);
    return s ? xstrdup(s) : 0;
}

long long xml_int(const struct xml_node *n, const char *path, long long dflt)
{
    const char *s = xml_text(n, path);
    if (!s || !*s)
        return dflt;
    char *end = 0;
    long long v = strtoll(s, &end, 10);
    return *end ? dflt : v;
}

int xml_bool(const struct xml_node *n, const char *path)
{
    const char *s = xml_text(n, path);
    return s && strcmp(s, "true") == 0;
}

/* Reads 1 to max decimal digits at *p into *out, then expects sep (0: nothing). */
static int digits(const char **p, int max, char sep, int *out)
{
    int v = 0, n = 0;
    while (n < max && **p >= '0' && **p <= '9') {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    if (n == 0 || (sep && **p != sep))
        return FW_EINVAL;
    if (sep)
        (*p)++;
    *out = v;
    return 0;
}

int xml_parse_iso8601(const char *s, double *out)
{
    struct tm tm = {0};
    const char *p = s;
    if (digits(&p, 4, '-', &tm.tm_year) || digits(&p, 2, '-', &tm.tm_mon) ||
        digits(&p, 2, 'T', &tm.tm_mday) || digits(&p, 2, ':', &tm.tm_hour) ||
        digits(&p, 2, ':', &tm.tm_min) || digits(&p, 2, 0, &tm.tm_sec))
        return FW_EINVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    double frac = 0;
    if (*p == '.') {
        char *end = 0;
        frac = strtod(p, &end);
        p = end;
    }
    if (*p != 'Z' && *p != '\0' && strcmp(p, "+00:00") != 0)
        return FW_EINVAL;
    *out = (double)timegm(&tm) + frac;
    return 0;
}

double xml_time(const struct xml_node *n, const char *path)
{
    const char *s = xml_text(n, path);
    double t = 0;
    if (!s || xml_parse_iso8601(s, &t))
        return 0;
    return t;
}
