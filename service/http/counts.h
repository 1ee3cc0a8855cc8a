/*
 * counts.h - counters by key (a client address, a token id): how many
 * connections an address holds, how many event streams a token has open.
 *
 * A fixed table of buckets with an entry per key in use (an entry goes when
 * its counter drops to zero), so memory follows what is open, never what
 * was sent. Thread-safe (one mutex; each call is a few dozen instructions).
 */
#ifndef FW_HTTP_COUNTS_H
#define FW_HTTP_COUNTS_H

#define COUNTS_KEY_MAX 64

struct counts;
struct sockaddr;

struct counts *counts_new(void);
/* NULL is a no-op. */
void counts_free(struct counts *c);
/* Adds one to key's counter unless it is at max already (max <= 0: no limit).
 * 1 when counted, 0 when full. Keys longer than COUNTS_KEY_MAX - 1 are cut. */
int counts_take(struct counts *c, const char *key, int max);
/* Takes one off key's counter (nothing when it has none). */
void counts_put(struct counts *c, const char *key);
/* key's counter now (0 for an unknown key). */
int counts_get(struct counts *c, const char *key);

/* The key a client address is counted under: an IPv4 address (also written as
 * an IPv4-mapped IPv6 one) as itself, an IPv6 address by its /64, which is what
 * one client usually holds ("2001:db8:1:2::/64"). "?" for another family. */
void counts_address_key(const struct sockaddr *sa, char out[COUNTS_KEY_MAX]);
/* The same for an address written as text ("203.0.113.9", "2001:db8::1"); the text itself
 * (cut) when it is no address. */
void counts_address_text_key(const char *ip, char out[COUNTS_KEY_MAX]);

#endif
