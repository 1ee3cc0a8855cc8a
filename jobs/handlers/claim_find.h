/*
 * claim_find.h - the certificate a claim asked for but never heard of.
 *
 * A CreateCertificateFromCsr whose answer was lost (timeout, kill -9) may
 * have made the certificate at AWS. Given when it was sent and the claim's
 * public-key fingerprint, claim_find_cert lists the certificates made
 * since (newest first, stopping at older ones), skips those another claim
 * holds, and describes the rest, closest in time first, until one carries
 * the claim's key. Used by claim.create and by fleet.verify's own claim.
 */
#ifndef FW_JOBS_HANDLERS_CLAIM_FIND_H
#define FW_JOBS_HANDLERS_CLAIM_FIND_H

#include "aws/awserr.h"
#include "aws/iot.h"

struct aws_client;

/* 1 found (out filled: free with iot_certificate_cleanup), 0 none, < 0 an
 * error: err->cls is set when AWS failed, else it is a store error. Takes
 * its rate-limit tokens (iot-describe). */
int claim_find_cert(struct aws_client *aws, const char *claim_id, const char *fp,
                    long long requested_ms, struct iot_certificate *out, struct aws_api_error *err);

#endif
