/*
 * err.h - the one table of error codes used across fleetwarden.
 *
 * A function that can fail returns int: 0 on success or a negative FW_E*
 * code. The table below generates the enum, the symbolic name, a short
 * message and the HTTP status the API answers with (libuv's UV_ERRNO_MAP).
 */
#ifndef FW_ERR_H
#define FW_ERR_H

#define FW_ERR_MAP(XX)                                                                             \
    XX(INTERNAL, 500, "internal error")                                                            \
    XX(INVAL, 400, "invalid input")                                                                \
    XX(BADJSON, 400, "malformed JSON")                                                             \
    XX(UNAUTH, 401, "authentication required")                                                     \
    XX(FORBIDDEN, 403, "insufficient scope")                                                       \
    XX(NOTFOUND, 404, "not found")                                                                 \
    XX(METHOD, 405, "method not allowed")                                                          \
    XX(CONFLICT, 409, "conflict")                                                                  \
    XX(GONE, 410, "gone")                                                                          \
    XX(PRECOND, 412, "precondition failed")                                                        \
    XX(TOOBIG, 413, "too large")                                                                   \
    XX(UNPROCESSABLE, 422, "unprocessable")                                                        \
    XX(UNAVAILABLE, 503, "service unavailable")                                                    \
    XX(TIMEOUT, 504, "timed out")                                                                  \
    XX(REDIS, 503, "redis error")                                                                  \
    XX(IO, 500, "i/o error")                                                                       \
    XX(CRYPTO, 500, "cryptography error")                                                          \
    XX(AWS, 502, "AWS error")                                                                      \
    XX(THROTTLED, 429, "throttled")                                                                \
    XX(CANCELED, 409, "canceled")

enum fw_err {
    FW_OK = 0,
#define FW_ERR_ENUM(name, status, msg) FW_E##name,
    FW_ERR_FIRST_ = -1000,
    FW_ERR_MAP(FW_ERR_ENUM)
#undef FW_ERR_ENUM
        FW_ERR_LAST_
};

/* Symbolic name of a code ("FW_ENOTFOUND"); "FW_OK" for 0; never NULL. */
const char *fw_err_name(int err);
/* Short human message for a code; never NULL. */
const char *fw_strerror(int err);
/* HTTP status the API uses for a code (500 for unknown codes). */
int fw_err_http_status(int err);

#endif
