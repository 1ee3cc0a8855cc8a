/* accepted.c - the 202 Accepted answer (see accepted.h). */
#include "accepted.h"

#include <stdio.h>

void routes_accepted(struct http_resp *resp, const char *job_id, json_t *members)
{
    char href[200];
    snprintf(href, sizeof href, "/v1/jobs/%s", job_id);
    json_t *body = members ? members : json_object();
    json_object_set_new(
        body, "job", json_pack("{s:s, s:s, s:s}", "id", job_id, "state", "queued", "href", href));
    http_resp_json(resp, 202, body);
    http_resp_header(resp, "Location", href);
}
