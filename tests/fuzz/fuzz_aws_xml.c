/*
 * fuzz_aws_xml.c - the query-protocol XML reader (aws/xml.c): parse, then
 * walk the tree with every reader the operations use.
 *
 * Input: "PATH\n" then the document; PATH is used with xml_path and the
 * typed readers (also fed to xml_parse_iso8601).
 */
#include "aws/xml.h"
#include "fuzz_common.h"

static void walk(const struct xml_node *n, int depth)
{
    for (const struct xml_node *c = n->children; c; c = c->next) {
        (void)xml_child(n, c->name);
        (void)xml_next(c);
        if (depth < XML_DOM_MAX_DEPTH + 2)
            walk(c, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *f[2];
    size_t flen[2];
    fuzz_split(data, size, '\n', f, flen, 2);
    const char *path = f[0] ? f[0] : "";
    const char *doc = f[1] ? f[1] : "";
    size_t doclen = flen[1];
    double t;
    (void)xml_parse_iso8601(path, &t);
    struct xml_node *root = 0;
    if (xml_parse(doc, doclen, &root) == 0) {
        walk(root, 0);
        (void)xml_find(root, "Error");
        (void)xml_text(root, path);
        free(xml_strdup(root, path));
        (void)xml_int(root, path, -1);
        (void)xml_bool(root, path);
        (void)xml_time(root, path);
    }
    xml_free(root);
    fuzz_split_free(f, 2);
    return 0;
}
