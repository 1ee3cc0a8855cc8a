/*
 * claims_text.h - a page of claims as JSON text, written directly.
 *
 * The same bytes as json_out_compact of the array list_claims built with
 * claims_view (unit-tested against it on generated records) without a
 * jansson tree per claim: building, dumping and freeing those trees was
 * about half of a GET /v1/claims page.
 */
#ifndef FW_ROUTES_CLAIMS_TEXT_H
#define FW_ROUTES_CLAIMS_TEXT_H

#include <jansson.h>

#include "service/core/buf.h"

/* Appends "[claim,...]" for an array of record-field objects (as
 * store_claim_list_fields gives them). A record claims_view cannot render
 * (its href is not UTF-8 after truncation, so json_pack fails) is left out,
 * as json_array_append_new left out its NULL. 0, or FW_ETOOBIG. */
int claims_list_text(const json_t *records, struct buf *out);

#endif
