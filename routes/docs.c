/*
 * docs.c - the API reference for the portal's developers, at /docs.
 *
 * GET /docs is a small HTML page that loads docs/redoc.standalone.js and
 * renders ../openapi.json with it (relative URLs, so the page also works
 * behind a proxy that mounts the service under a prefix). GET /docs/{file}
 * serves the few files the build installed from npm
 * (routes/docs_assets/fetch_redoc.py): nothing is fetched from a CDN at run
 * time, so the page works on an isolated network.
 *
 * The files come from FLEETWARDEN_DOCS_DIR, or the build's install
 * directory compiled in as FW_DOCS_DIR. Only names in s_files are served,
 * so no request path ever reaches the file system. When the bundle is
 * missing (the build had no npm registry), both routes answer 503 "docs
 * assets not installed" and say how to fix it.
 */
#include "docs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "service/core/buf.h"
#include "service/core/config.h"

#ifndef FW_DOCS_DIR
#define FW_DOCS_DIR "/usr/share/fleetwarden/docs"
#endif

#define DOCS_MAX_FILE_BYTES (16u * 1024u * 1024u)
#define DOCS_BUNDLE "redoc.standalone.js"

struct docs_file {
    const char *name;
    const char *content_type;
};

/* The only names GET /docs/{file} answers. */
static const struct docs_file s_files[] = {
    {DOCS_BUNDLE, "application/javascript; charset=utf-8"},
    {"redoc-LICENSE.txt", "text/plain; charset=utf-8"},
    {"redoc.standalone.js.LICENSE.txt", "text/plain; charset=utf-8"},
};

static const char s_page[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>fleetwarden API reference</title>\n"
    "<style>body { margin: 0; padding: 0; }</style>\n"
    "</head>\n"
    "<body>\n"
    "<redoc spec-url=\"openapi.json\" hide-hostname=\"true\"></redoc>\n"
    "<script src=\"docs/" DOCS_BUNDLE "\"></script>\n"
    "</body>\n"
    "</html>\n";

/* The directory the files are read from; borrowed, static or environment. */
static const char *docs_dir(void)
{
    const char *dir = config_get()->docs_dir;
    return *dir ? dir : FW_DOCS_DIR;
}

static const struct docs_file *find_file(const char *name)
{
    for (size_t i = 0; i < sizeof s_files / sizeof s_files[0]; i++) {
        if (!strcmp(s_files[i].name, name))
            return &s_files[i];
    }
    return 0;
}

static void not_installed(struct http_resp *resp, const char *dir)
{
    char detail[512];
    snprintf(detail, sizeof detail,
             "%s/%s is missing: build with the npm registry reachable (routes/docs_assets) "
             "or set FLEETWARDEN_DOCS_DIR to a directory holding the Redoc bundle",
             dir, DOCS_BUNDLE);
    http_problem(resp, 503, "docs assets not installed", detail);
}

/* Reads dir/name into b (capped). 0, or -1 when it cannot be read. */
static int read_file(const char *dir, const char *name, struct buf *b)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = -1;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size > DOCS_MAX_FILE_BYTES)
        goto cleanup;
    char chunk[65536];
    while (1) {
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 || (got > 0 && buf_append(b, chunk, (size_t)got)))
            goto cleanup;
        if (got == 0)
            break;
    }
    rc = 0;
cleanup:
    close(fd);
    return rc;
}

static int bundle_present(const char *dir)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, DOCS_BUNDLE);
    return n > 0 && (size_t)n < sizeof path && access(path, R_OK) == 0;
}

static void docs_page(struct http_req *req, struct http_resp *resp)
{
    (void)req;
    const char *dir = docs_dir();
    if (!bundle_present(dir)) {
        not_installed(resp, dir);
        return;
    }
    http_resp_raw(resp, 200, "text/html; charset=utf-8", s_page, sizeof s_page - 1);
}

static void docs_asset(struct http_req *req, struct http_resp *resp)
{
    const struct docs_file *f = find_file(http_req_param(req, "file"));
    if (!f) {
        http_problem(resp, 404, 0, "no such docs file");
        return;
    }
    const char *dir = docs_dir();
    struct buf b;
    buf_init(&b, DOCS_MAX_FILE_BYTES);
    if (read_file(dir, f->name, &b)) {
        not_installed(resp, dir);
    } else {
        http_resp_raw(resp, 200, f->content_type, buf_cstr(&b), b.len);
        http_resp_header(resp, "X-Content-Type-Options", "nosniff");
    }
    buf_free(&b);
}

static const struct route s_routes[] = {
    {"GET", "/docs", SCOPE_NONE, 0, docs_page},
    {"GET", "/docs/{file}", SCOPE_NONE, 0, docs_asset},
};

ROUTE_TABLE(routes_docs_table, s_routes);
