/*
 * counts.c - counters by key, in a fixed table of chained buckets (counts.h).
 */
#include "service/http/counts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "service/core/mem.h"
#include "service/core/netaddr.h"

#define NBUCKETS 1024

struct entry {
    struct entry *next;
    int n;
    char key[COUNTS_KEY_MAX];
};

struct counts {
    pthread_mutex_t mu;
    struct entry *bucket[NBUCKETS];
};

struct counts *counts_new(void)
{
    struct counts *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, 0);
    return c;
}

void counts_free(struct counts *c)
{
    if (!c)
        return;
    for (int i = 0; i < NBUCKETS; i++)
        while (c->bucket[i]) {
            struct entry *e = c->bucket[i];
            c->bucket[i] = e->next;
            free(e);
        }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* FNV-1a over the key as it is stored (cut to COUNTS_KEY_MAX - 1). */
static struct entry **slot(struct counts *c, const char *key, char cut[COUNTS_KEY_MAX])
{
    snprintf(cut, COUNTS_KEY_MAX, "%s", key ? key : "");
    unsigned h = 2166136261u;
    for (const char *p = cut; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct entry **e = &c->bucket[h % NBUCKETS];
    while (*e && strcmp((*e)->key, cut))
        e = &(*e)->next;
    return e;
}

int counts_take(struct counts *c, const char *key, int max)
{
    char cut[COUNTS_KEY_MAX];
    pthread_mutex_lock(&c->mu);
    struct entry **e = slot(c, key, cut);
    int ok = !*e || max <= 0 || (*e)->n < max;
    if (ok && !*e) {
        *e = xcalloc(1, sizeof **e);
        memcpy((*e)->key, cut, sizeof cut);
    }
    if (ok)
        (*e)->n++;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

void counts_put(struct counts *c, const char *key)
{
    char cut[COUNTS_KEY_MAX];
    pthread_mutex_lock(&c->mu);
    struct entry **e = slot(c, key, cut);
    if (*e && --(*e)->n <= 0) {
        struct entry *gone = *e;
        *e = gone->next;
        free(gone);
    }
    pthread_mutex_unlock(&c->mu);
}

int counts_get(struct counts *c, const char *key)
{
    char cut[COUNTS_KEY_MAX];
    pthread_mutex_lock(&c->mu);
    struct entry **e = slot(c, key, cut);
    int n = *e ? (*e)->n : 0;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* a's key: IPv4 (also IPv4-mapped) as itself, IPv6 by its /64. */
static void key_of(struct netaddr a, char out[COUNTS_KEY_MAX])
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a.v6 && !memcmp(a.b, mapped, 12)) {
        memmove(a.b, a.b + 12, 4);
        a.v6 = 0;
    }
    char text[NETADDR_TEXT_MAX];
    if (a.v6)
        memset(a.b + 8, 0, 8);
    netaddr_format(&a, text);
    snprintf(out, COUNTS_KEY_MAX, "%s%s", text, a.v6 ? "/64" : "");
}

void counts_address_key(const struct sockaddr *sa, char out[COUNTS_KEY_MAX])
{
    struct netaddr a;
    if (!sa || netaddr_from_sockaddr(sa, &a))
        snprintf(out, COUNTS_KEY_MAX, "?");
    else
        key_of(a, out);
}

void counts_address_text_key(const char *ip, char out[COUNTS_KEY_MAX])
{
    struct netaddr a;
    if (ip && netaddr_parse_literal(ip, strlen(ip), &a))
        key_of(a, out);
    else
        snprintf(out, COUNTS_KEY_MAX, "%s", ip && *ip ? ip : "?");
}
