/*
 * store_fleet.h - fleet and template records in Redis.
 *
 * A record is one JSON document split over a Redis hash so that writers of
 * different parts never overwrite each other: each top-level member is one
 * hash field ("j:state", "j:settings", ...), each member of "resources" is
 * one field ("r:template", ...). Every write goes through one Lua script
 * that refuses to touch a deleted record and bumps "version", which is the
 * record's ETag ("\"v7\""). The fleet's job handlers write resources and
 * state; PATCH writes settings with If-Match.
 *
 * Layout (prefix P, default "fw:"):
 *   P fleet:NAME      hash  version createdAt updatedAt j:* r:*
 *   P fleets          zset  names (score 0, ordered by name)
 *   P template:NAME   hash  the same shape, for /v1/templates
 *   P templates       zset  names
 *
 * Every function uses the calling thread's Redis connection and is
 * thread-safe. Errors: FW_EUNAVAILABLE (Redis unreachable), FW_EREDIS
 * (error reply), FW_ENOTFOUND, FW_ECONFLICT (create of an existing record),
 * FW_EPRECOND (version mismatch), FW_EINVAL (bad cursor).
 */
#ifndef FW_STORE_FLEET_H
#define FW_STORE_FLEET_H

#include <stddef.h>
#include <jansson.h>

enum store_doc_kind { STORE_DOC_FLEET = 0, STORE_DOC_TEMPLATE };

#define STORE_ETAG_MAX 32

/* ---- fleets ---- */

/* Creates fleet name from doc's top-level members ("resources" members
 * become their own fields); adds createdAt/updatedAt. doc borrowed.
 * FW_ECONFLICT when the fleet exists. */
int store_fleet_create(const char *name, const json_t *doc);
/* The fleet's JSON document (new reference), as GET /v1/fleets/{name}
 * shows it: name, state, region, accountId, assumeRole, resources,
 * settings, createdAt, updatedAt, ... FW_ENOTFOUND. */
int store_fleet_get(const char *name, json_t **fleet);
/* The fleet's generation ("uid", jobs/handlers: generation.h) into uid;
 * "" for a fleet from before generations. One small read (claims record
 * it at creation). FW_ENOTFOUND. */
int store_fleet_uid(const char *name, char *uid, size_t uidlen);
/* The same plus its ETag (e.g. "\"v7\""). */
int store_fleet_get_etag(const char *name, json_t **fleet, char etag[STORE_ETAG_MAX]);
/* Sets top-level member key to value (borrowed; NULL = JSON null).
 * FW_ENOTFOUND when the fleet is gone (a deleted fleet is never revived). */
int store_fleet_set(const char *name, const char *key, const json_t *value);
/* Sets resources[key] to value (borrowed). FW_ENOTFOUND. */
int store_fleet_set_resource(const char *name, const char *key, const json_t *value);
/* Sets several top-level members from obj's members at once (borrowed),
 * only when the record's ETag equals if_match (NULL or "*" = any).
 * FW_ENOTFOUND, FW_EPRECOND. etag_out (may be NULL) gets the new ETag. */
int store_fleet_update(const char *name, const json_t *obj, const char *if_match,
                       char etag_out[STORE_ETAG_MAX]);
/* Removes the record. FW_ENOTFOUND. */
int store_fleet_delete(const char *name);
/* A page of fleets by name: items a new array of documents; *next a new
 * cursor string or NULL at the end. FW_EINVAL for a bad cursor. */
int store_fleet_list(int limit, const char *cursor, json_t **items, char **next);
/* Every fleet name (a new JSON array of strings), for the scheduler and
 * the watch. */
int store_fleet_list_names(json_t **names);

/* ---- the same for templates managed through /v1/templates ---- */

int store_template_create(const char *name, const json_t *doc);
int store_template_get_etag(const char *name, json_t **doc, char etag[STORE_ETAG_MAX]);
int store_template_update(const char *name, const json_t *obj, const char *if_match,
                          char etag_out[STORE_ETAG_MAX]);
int store_template_delete(const char *name);
int store_template_list(int limit, const char *cursor, json_t **items, char **next);

/* ---- generic (both kinds) ---- */

int store_doc_create(enum store_doc_kind kind, const char *name, const json_t *doc);
int store_doc_get(enum store_doc_kind kind, const char *name, json_t **doc,
                  char etag[STORE_ETAG_MAX]);
int store_doc_update(enum store_doc_kind kind, const char *name, const json_t *obj,
                     const json_t *resources, const char *if_match, char etag_out[STORE_ETAG_MAX]);
int store_doc_delete(enum store_doc_kind kind, const char *name);
int store_doc_list(enum store_doc_kind kind, int limit, const char *cursor, json_t **items,
                   char **next);

#endif
