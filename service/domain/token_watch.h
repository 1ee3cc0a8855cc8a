/*
 * token_watch.h - notices, within about a second, that the token behind a
 * long-lived request (an event stream) was deleted.
 *
 * Every token deletion bumps P tokens:epoch (store.c). The process reads
 * that counter at most every TOKEN_WATCH_MS, shared by all its threads;
 * a watcher looks its own token up only after the counter moved. So N
 * open streams cost one GET per process per interval, not N lookups.
 * Thread-safe; uses the calling thread's Redis connection.
 */
#ifndef FW_TOKEN_WATCH_H
#define FW_TOKEN_WATCH_H

#include "service/core/auth.h"

#define TOKEN_WATCH_MS 500

struct token_watch {
    char id[AUTH_ID_LEN + 1]; /* the token's public id */
    long long epoch;          /* the deletion counter when last checked; -1 = never */
};

/* Starts watching token id (copied). */
void token_watch_init(struct token_watch *w, const char *id);
/* 1 when the token has been deleted; 0 while it exists, and when Redis
 * cannot say (a Redis outage ends streams by itself). */
int token_watch_gone(struct token_watch *w);
/* The same with the deletion counter read elsewhere (the event hub watches
 * TOKEN_WATCH_KEY for every stream of the process; -1: not known, 0 is returned). */
int token_watch_gone_at(struct token_watch *w, long long epoch);

/* The counter's key, without the prefix. */
#define TOKEN_WATCH_KEY "tokens:epoch"

#endif
