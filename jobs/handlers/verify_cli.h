/*
 * verify_cli.h - a fleet verification from the command line
 * (`fleetwarden check --fleet NAME`, service/main.c).
 */
#ifndef FW_JOBS_HANDLERS_VERIFY_CLI_H
#define FW_JOBS_HANDLERS_VERIFY_CLI_H

#include <jansson.h>
#include <stdio.h>

struct fw_config;

/* Runs the verification of fleet (claim_id: a named claim, or NULL for a
 * verification claim; parameters: template parameters or NULL), prints
 * every step to out and records the fleet's lastVerify. 0 when it passed,
 * 1 when a step failed or it could not run. Needs Redis (the fleet and
 * claim records) and AWS credentials; the KEK only for a named claim. */
int verify_cli_run(const struct fw_config *cfg, const char *fleet, const char *claim_id,
                   const json_t *parameters, FILE *out);

#endif
