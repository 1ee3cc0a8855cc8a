/*
 * xml.h - a small, capped DOM for the XML answers of the AWS query protocol.
 *
 * IAM, STS and CloudWatch answer in XML. We parse the whole answer into a
 * tree of elements (names without namespace, text of each element) and read
 * values by path ("CreateRoleResult/Role/Arn"). Limits are fixed: depth 64,
 * 100,000 elements; any DOCTYPE is rejected, so entity expansion (billion
 * laughs) and external entities cannot happen. Element texts are treated
 * as secrets (an STS answer holds a secret key and a session token): they
 * grow without realloc, the old buffer wiped, and are wiped by xml_free.
 * Not thread-safe per tree; different trees may be used from different
 * threads.
 */
#ifndef FW_AWS_XML_H
#define FW_AWS_XML_H

#include <stddef.h>

#define XML_DOM_MAX_DEPTH 64
#define XML_DOM_MAX_NODES 100000

struct xml_node {
    char *name; /* local name, namespace stripped */
    char *text; /* character data directly inside; never NULL */
    size_t text_len;
    size_t text_cap; /* bytes allocated for text (internal) */
    struct xml_node *parent;
    struct xml_node *children; /* first child element */
    struct xml_node *last;     /* last child element (appending) */
    struct xml_node *next;     /* next sibling */
};

/* Parses len bytes. On success *out is the root element; free it with
 * xml_free. Returns 0, FW_EINVAL (malformed, DOCTYPE present) or FW_ETOOBIG
 * (a limit was hit). *out is NULL on failure. */
int xml_parse(const char *data, size_t len, struct xml_node **out);
/* Frees a tree, wiping every text; NULL is a no-op. */
void xml_free(struct xml_node *root);

/* The first child element named name, or NULL. */
const struct xml_node *xml_child(const struct xml_node *n, const char *name);
/* The next sibling of n with the same name, or NULL (list iteration). */
const struct xml_node *xml_next(const struct xml_node *n);
/* Follows a '/'-separated path of child names from n; NULL when absent. */
const struct xml_node *xml_path(const struct xml_node *n, const char *path);
/* Text of the element at path, NULL when the element is absent. Borrowed. */
const char *xml_text(const struct xml_node *n, const char *path);
/* The first descendant (depth-first, n included) named name, or NULL. */
const struct xml_node *xml_find(const struct xml_node *n, const char *name);

/* Typed readers of the element at path (NULL-safe on n). */
/* A copy of the text, or NULL when absent. Caller frees. */
char *xml_strdup(const struct xml_node *n, const char *path);
/* The text as a decimal integer, else dflt. */
long long xml_int(const struct xml_node *n, const char *path, long long dflt);
/* 1 when the text is "true", else 0. */
int xml_bool(const struct xml_node *n, const char *path);
/* ISO 8601 UTC ("2026-11-28T05:00:00Z", fractions allowed) as epoch
 * seconds, else 0. */
double xml_time(const struct xml_node *n, const char *path);
/* The same conversion on a string. 0, or FW_EINVAL. */
int xml_parse_iso8601(const char *s, double *out);

#endif
