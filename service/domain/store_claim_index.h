/*
 * store_claim_index.h - claims indexed by state, so that a filtered list
 * costs what an unfiltered one does.
 *
 * Layout (prefix P), next to store_claim.h's:
 *   P claims:s:STATE          ZSET  id by created ms (every claim in STATE)
 *   P claims:fs:FLEET:STATE   ZSET  id by created ms (the fleet's, in STATE)
 *   P claims:idx              STRING CLAIM_INDEX_VERSION once every claim is indexed
 *
 * Every script that creates a claim or changes its state moves it between
 * these sets (reindex() in lua/prelude.lua) in the same step. Claims stored by a
 * version without the index are indexed by store_claim_index_migrate, run
 * by `serve` at start-up in the background; until it has set P claims:idx,
 * filtered lists walk every claim as before (store_claim.c's list script),
 * so they are right from the first request, only slower.
 */
#ifndef FW_STORE_CLAIM_INDEX_H
#define FW_STORE_CLAIM_INDEX_H

#include <stdatomic.h>

#include <jansson.h>

/* What P claims:idx holds; the scripts' copy is claim_index_version in lua/prelude.lua. */
#define CLAIM_INDEX_VERSION "1"

/* 1 when P claims:idx says the state indexes are complete; 0 when not yet;
 * FW_EUNAVAILABLE / FW_EREDIS. */
int store_claim_index_ready(void);

/* Builds the state indexes of every claim stored so far, batch claims per
 * script (each script is one short step of Redis time, so the API goes on
 * meanwhile), then sets P claims:idx. Idempotent and safe to run in several
 * processes at once; it also removes a claim from the indexes of states it
 * is no longer in (what a process of an older version may leave during a
 * rolling upgrade). 0 when done, FW_ECANCELED when *stop became non-zero
 * first, or an FW_E* code (Redis). */
int store_claim_index_migrate(int batch, atomic_int *stop);

/* Up to max (1..1000) ids of claims in state (a state's name) created before before_ms, the
 * oldest first, skipping the first offset (>= 0) of them, as a new array in *ids: an empty one
 * while the indexes are not complete yet (store_claim_index_ready). 0, FW_EINVAL,
 * FW_EUNAVAILABLE / FW_EREDIS. */
int store_claim_index_before(const char *state, long long before_ms, long offset, int max,
                             json_t **ids);

#endif
