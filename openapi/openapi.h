/*
 * openapi.h - the API contract, openapi/openapi.yaml converted to JSON at
 * build time (openapi/yaml2c.py) and embedded in the binary.
 */
#ifndef FW_OPENAPI_H
#define FW_OPENAPI_H

#include <stddef.h>

extern const char openapi_json[];
extern const size_t openapi_json_len;

#endif
