/*
 * job_text.h - a job's API JSON written straight to text.
 *
 * The same bytes as json_out_compact(job_render(f)) (unit-tested
 * against it on generated records) without the jansson tree: GET /v1/jobs
 * spent most of a page building 50 trees and re-parsing every stored JSON
 * field (payload, result, errors, steps) only to write it back out. Stored
 * fields that are already compact canonical JSON are copied as they are;
 * anything else goes through jansson as before.
 */
#ifndef FW_JOB_TEXT_H
#define FW_JOB_TEXT_H

#include <stddef.h>

#include "job_record.h"
#include "service/core/buf.h"

/* Appends the job object rendered from its fields (as job_render takes
 * them) to out. 0, or the buffer's error (FW_ETOOBIG past its cap; out then
 * holds a partial object). */
int job_render_text(const struct job_fields *f, struct buf *out);

#endif
