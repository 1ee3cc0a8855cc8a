/*
 * cors.h - which origins may call the API from a browser.
 */
#ifndef FW_CORS_H
#define FW_CORS_H

#include "service/core/config.h"

/* 1 when origin is one of the configured origins (or "*" is configured). */
int cors_origin_allowed(const struct fw_config *cfg, const char *origin);

#define CORS_ALLOW_HEADERS                                                                         \
    "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-Id, Last-Event-ID"
#define CORS_EXPOSE_HEADERS "Location, ETag, X-Request-Id, Retry-After"
#define CORS_MAX_AGE "600"

#endif
