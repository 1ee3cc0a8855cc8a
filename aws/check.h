/*
 * check.h - the AWS part of `fleetwarden check`.
 */
#ifndef FW_AWS_CHECK_H
#define FW_AWS_CHECK_H

#include <stdio.h>

/* Resolves credentials with the default chain and calls STS
 * GetCallerIdentity for region (NULL = AWS_REGION, AWS_DEFAULT_REGION, else
 * us-east-1). Prints one line per step to out: where credentials came from
 * (never their values), then the account and caller ARN, or a clear reason
 * it could not (no credentials, rejected signature or key, endpoint
 * unreachable). Returns 0, or FW_EUNAUTH (no credentials), FW_EFORBIDDEN
 * (AWS rejected them), FW_EUNAVAILABLE / FW_ETIMEOUT (unreachable) or
 * another FW_E* from the call. Safe from any thread. */
int aws_check_run(const char *region, FILE *out);

#endif
