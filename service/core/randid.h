/*
 * randid.h - random resource ids: a prefix ("clm_", "inc_") and 24 lowercase hex
 * digits from RAND_bytes (96 bits), so ids are unguessable and never collide
 * in practice.
 */
#ifndef FW_RANDID_H
#define FW_RANDID_H

#include <stddef.h>

#define RANDID_HEX 24

/* Writes prefix + 24 hex digits into out (outlen must hold them and the NUL).
 * 0, FW_ECRYPTO when the random generator fails, FW_EINVAL when out is too small. */
int randid_new(const char *prefix, char *out, size_t outlen);
/* 1 when s is exactly prefix + 24 lowercase hex digits. */
int randid_valid(const char *s, const char *prefix);

#endif
