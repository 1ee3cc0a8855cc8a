/*
 * watch_secret.c - sealing and opening fleets' webhook secrets.
 *
 * The routes seal before the fleet record is written (POST and PATCH
 * /v1/fleets), webhook.deliver opens when it signs; nothing else sees the
 * secret in clear. The associated data names the fleet, so a sealed blob
 * moved to another fleet's record fails to open instead of signing that
 * fleet's deliveries.
 */
#include "service/domain/watch_secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/core/err.h"
#include "service/core/mem.h"
#include "service/domain/seal.h"
#include "service/domain/watch_rules.h"

#define AAD_MAX 96

static void aad_of(const char *fleet, char out[AAD_MAX])
{
    snprintf(out, AAD_MAX, "webhook:%s", fleet ? fleet : "");
}

int watch_secret_seal(json_t *settings, const char *fleet)
{
    json_t *w = json_object_get(json_object_get(settings, "watch"), "webhook");
    const char *plain = json_string_value(json_object_get(w, "secret"));
    if (!plain)
        return 0;
    char aad[AAD_MAX], *sealed = 0;
    aad_of(fleet, aad);
    int rc = seal_kek_encrypt(plain, strlen(plain), aad, &sealed);
    if (!rc) {
        json_object_del(w, "secret");
        json_object_set_new(w, WATCH_SECRET_SEALED, json_string(sealed));
    }
    free(sealed);
    return rc;
}

int watch_secret_open(const json_t *watch, const char *fleet, char **secret)
{
    const json_t *w = json_object_get(watch, "webhook");
    const char *sealed = json_string_value(json_object_get(w, WATCH_SECRET_SEALED));
    const char *plain = json_string_value(json_object_get(w, "secret"));
    *secret = 0;
    if (!sealed) {
        if (!plain)
            return FW_ENOTFOUND;
        *secret = xstrdup(plain); /* stored by an older version; sealed on the next PATCH */
        return 0;
    }
    char aad[AAD_MAX];
    unsigned char *p = 0;
    size_t n = 0;
    aad_of(fleet, aad);
    int rc = seal_kek_decrypt(sealed, aad, &p, &n);
    if (!rc)
        *secret = (char *)p; /* NUL-terminated by seal_decrypt */
    return rc;
}
