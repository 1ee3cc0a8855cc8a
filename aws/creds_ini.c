/*
 * creds_ini.c - the INI dialect of ~/.aws/credentials and ~/.aws/config.
 *
 * Follows the AWS SDKs' shared-file rules: "[section]" headers (a comment
 * may follow the ']'), "key = value" properties, full-line comments with
 * '#' or ';', inline comments only where '#' or ';' follows whitespace,
 * indented "sub = value" lines under a key with an empty value (as used by
 * "s3 =" blocks, stored as "s3.sub"), and indented continuation lines of a
 * non-empty value (joined with '\n'). A repeated section merges into the
 * first one and a repeated key keeps the later value. Anything else is an
 * error naming the line, so a typo in a credentials file is reported
 * instead of silently ignored.
 *
 * Files are small (capped at 1 MiB); values may be secrets and are wiped
 * when the parsed file is freed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds_internal.h"
#include "service/core/err.h"
#include "service/core/mem.h"

#define INI_MAX_FILE ((size_t)1 << 20)

struct parser {
    struct creds_ini *ini;
    struct creds_ini_section *cur; /* section being filled, or NULL */
    size_t last;                   /* index in cur->kv of the last property set */
    int has_last;                  /* 0 at the start of a section */
    char *errbuf;
    size_t errlen;
    size_t lineno;
};

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Trims spaces and tabs at both ends in place. */
static char *trim(char *s)
{
    while (is_ws(*s))
        s++;
    size_t n = strlen(s);
    while (n && is_ws(s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Cuts an inline comment: '#' or ';' preceded by whitespace. */
static void cut_inline_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if ((*p == '#' || *p == ';') && p > s && is_ws(p[-1])) {
            *p = '\0';
            return;
        }
    }
}

static int fail(struct parser *ps, const char *what)
{
    if (ps->errbuf && ps->errlen)
        snprintf(ps->errbuf, ps->errlen, "line %zu: %s", ps->lineno, what);
    return FW_EINVAL;
}

static struct creds_ini_section *find_section(struct creds_ini *ini, const char *name)
{
    for (size_t i = 0; i < ini->nsec; i++) {
        if (!strcmp(ini->sec[i].name, name))
            return &ini->sec[i];
    }
    return NULL;
}

static struct creds_ini_kv *find_kv(struct creds_ini_section *sec, const char *key)
{
    for (size_t i = 0; i < sec->nkv; i++) {
        if (!strcmp(sec->kv[i].key, key))
            return &sec->kv[i];
    }
    return NULL;
}

static int on_section(struct parser *ps, char *line)
{
    char *close = strchr(line, ']');
    if (!close)
        return fail(ps, "section header without ']'");
    char *rest = trim(close + 1);
    if (*rest && *rest != '#' && *rest != ';')
        return fail(ps, "text after ']' of a section header");
    *close = '\0';
    char *name = trim(line + 1);
    if (!*name)
        return fail(ps, "empty section name");
    ps->cur = find_section(ps->ini, name);
    if (!ps->cur) {
        struct creds_ini *ini = ps->ini;
        ini->sec = xrealloc(ini->sec, (ini->nsec + 1) * sizeof(*ini->sec));
        ps->cur = &ini->sec[ini->nsec++];
        memset(ps->cur, 0, sizeof(*ps->cur));
        ps->cur->name = xstrdup(name);
    }
    ps->has_last = 0;
    return 0;
}

static void set_kv(struct parser *ps, const char *key, const char *value)
{
    struct creds_ini_section *sec = ps->cur;
    struct creds_ini_kv *kv = find_kv(sec, key);
    if (kv) {
        xfree_secret(kv->value);
    } else {
        sec->kv = xrealloc(sec->kv, (sec->nkv + 1) * sizeof(*sec->kv));
        kv = &sec->kv[sec->nkv++];
        kv->key = xstrdup(key);
    }
    kv->value = xstrdup(value);
    ps->last = (size_t)(kv - sec->kv);
    ps->has_last = 1;
}

/* Splits "key = value"; returns 0 or FW_EINVAL. */
static int split_property(struct parser *ps, char *line, char **key, char **value)
{
    char *eq = strchr(line, '=');
    if (!eq)
        return fail(ps, "expected '[section]', 'key = value' or a comment");
    *eq = '\0';
    *key = trim(line);
    cut_inline_comment(eq + 1);
    *value = trim(eq + 1);
    if (!**key)
        return fail(ps, "property without a name");
    return 0;
}

static int on_property(struct parser *ps, char *line)
{
    char *key, *value;
    if (!ps->cur)
        return fail(ps, "property outside of any [section]");
    int rc = split_property(ps, line, &key, &value);
    if (!rc)
        set_kv(ps, key, value);
    return rc;
}

/* An indented line under a property: a sub-property or a continuation. */
static int on_indented(struct parser *ps, char *line)
{
    struct creds_ini_kv *parent = &ps->cur->kv[ps->last];
    if (*parent->value) {
        char *joined = xasprintf("%s\n%s", parent->value, line);
        xfree_secret(parent->value);
        parent->value = joined;
        return 0;
    }
    char *key, *value;
    int rc = split_property(ps, line, &key, &value);
    if (rc)
        return rc;
    size_t parent_idx = ps->last;
    char *full = xasprintf("%s.%s", parent->key, key);
    set_kv(ps, full, value); /* may move the kv array: parent is stale now */
    free(full);
    ps->last = parent_idx; /* further sub-properties belong to the same parent */
    return 0;
}

static int on_line(struct parser *ps, char *raw)
{
    int indented = is_ws(raw[0]);
    char *line = trim(raw);
    if (!*line || *line == '#' || *line == ';')
        return 0;
    if (*line == '[')
        return on_section(ps, line);
    if (indented && ps->has_last)
        return on_indented(ps, line);
    return on_property(ps, line);
}

int creds_ini_parse(const char *text, size_t len, struct creds_ini **out, char *errbuf,
                    size_t errlen)
{
    struct parser ps = {xcalloc(1, sizeof(struct creds_ini)), NULL, 0, 0, errbuf, errlen, 0};
    /* A copy of all len bytes: xstrndup would stop at an embedded NUL and
     * the wipe below, which covers len bytes, would run past its end. */
    char *copy = xmalloc(len + 1);
    if (len)
        memcpy(copy, text, len);
    copy[len] = '\0';
    char *s = copy;
    int rc = 0;
    *out = NULL;
    while (s && !rc) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        size_t n = strlen(s);
        if (n && s[n - 1] == '\r')
            s[n - 1] = '\0';
        ps.lineno++;
        rc = on_line(&ps, s);
        s = nl ? nl + 1 : NULL;
    }
    xwipe(copy, len + 1);
    free(copy);
    if (rc)
        creds_ini_free(ps.ini);
    else
        *out = ps.ini;
    return rc;
}

/* Doubles t's capacity; the old copy is wiped, never left behind by realloc. */
static char *grow_secure(char *t, size_t n, size_t *cap)
{
    char *bigger = xmalloc(*cap * 2);
    memcpy(bigger, t, n);
    xwipe(t, *cap);
    free(t);
    *cap *= 2;
    return bigger;
}

static int read_file(FILE *f, char **text, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *t = xmalloc(cap);
    int rc = 0;
    for (;;) {
        size_t got = fread(t + n, 1, cap - n, f);
        n += got;
        if (got == 0 || n > INI_MAX_FILE)
            break;
        if (n == cap)
            t = grow_secure(t, n, &cap);
    }
    if (n > INI_MAX_FILE)
        rc = FW_ETOOBIG;
    else if (ferror(f))
        rc = FW_EIO;
    if (rc) {
        xwipe(t, cap);
        free(t);
        return rc;
    }
    *text = t;
    *len = n;
    return 0;
}

int creds_ini_load(const char *path, struct creds_ini **out, char *errbuf, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s", strerror(errno));
        return errno == ENOENT || errno == ENOTDIR ? FW_ENOTFOUND : FW_EIO;
    }
    int rc = read_file(f, &text, &len);
    fclose(f);
    if (rc) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s",
                     rc == FW_ETOOBIG ? "file larger than 1 MiB" : "read error");
        return rc;
    }
    rc = creds_ini_parse(text, len, out, errbuf, errlen);
    xwipe(text, len);
    free(text);
    return rc;
}

void creds_ini_free(struct creds_ini *ini)
{
    if (!ini)
        return;
    for (size_t i = 0; i < ini->nsec; i++) {
        for (size_t j = 0; j < ini->sec[i].nkv; j++) {
            free(ini->sec[i].kv[j].key);
            xfree_secret(ini->sec[i].kv[j].value);
        }
        free(ini->sec[i].kv);
        free(ini->sec[i].name);
    }
    free(ini->sec);
    free(ini);
}

const struct creds_ini_section *creds_ini_section(const struct creds_ini *ini, const char *name)
{
    if (!ini)
        return NULL;
    for (size_t i = 0; i < ini->nsec; i++) {
        if (!strcmp(ini->sec[i].name, name))
            return &ini->sec[i];
    }
    return NULL;
}

const char *creds_ini_get(const struct creds_ini_section *sec, const char *key)
{
    if (!sec)
        return NULL;
    for (size_t i = 0; i < sec->nkv; i++) {
        if (!strcmp(sec->kv[i].key, key))
            return sec->kv[i].value;
    }
    return NULL;
}
