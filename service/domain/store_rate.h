/*
 * store_rate.h - request rate limits shared by every process.
 *
 * Fixed windows in Redis: P rl:a:ADDRESS:W and P rl:t:TOKEN:W count the
 * requests of a client address and of a token in window W (wall-clock
 * seconds / the window's length), and expire a second after the window
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

/* For a script that counts too (store_token_lookup_rated): the window of a limit of secs
 * seconds at now_ms, as its index and its end. */
void store_rate_window(int secs, long long now_ms, long long *index, long long *end_ms);
long long store_rate_now_ms(void);

#endif
