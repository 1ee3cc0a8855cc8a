/* cors.c - origin checks for CORS; exact string match, no wildcards but "*". */
#include "service/http/cors.h"

#include <string.h>

int cors_origin_allowed(const struct fw_config *cfg, const char *origin)
{
    if (!origin || !*origin)
        return 0;
    for (int i = 0; i < cfg->ncors_origins; i++)
        if (!strcmp(cfg->cors_origins[i], "*") || !strcmp(cfg->cors_origins[i], origin))
            return 1;
    return 0;
}
