/*
 * store_rate.h - request rate limits shared by every process.
 *
 * Fixed windows in Redis: P rl:a:ADDRESS:W and P rl:t:TOKEN:W count the
 * requests of a client address and of a token in window W (Redis's clock,
 * TIME, / the window's length: every process counts in the same window
 * whatever its own clock says), and expire a second after the window
 * ends. One script per request counts both; for a request with a token, the
 * token lookup's own script does (store_token_lookup_rated, store.h). Memory: one small key per
 * address and token active in the last window or two, whatever was sent.
 */
#ifndef FW_STORE_RATE_H
#define FW_STORE_RATE_H

struct store_rate_req {
    const char *addr;     /* the client address's key, or NULL */
    int addr_n, addr_s;   /* at most addr_n requests per addr_s seconds (addr_n <= 0: none) */
    const char *token_id; /* NULL when not authenticated */
    int token_n, token_s;
};

/* Counts one request. 0 when it may go on; FW_ETHROTTLED with *retry_after_s (to the end
 * of the window that is full) and *by_token (1 the token's limit, 0 the address's);
 * FW_EUNAVAILABLE / FW_EREDIS when Redis cannot answer. */
int store_rate_take(const struct store_rate_req *r, int *retry_after_s, int *by_token);

/* Retry-After in seconds for the ms left in a full window (at least 1). */
int store_rate_left_s(long long left_ms);

#endif
