/*
 * fleet_claimcerts.h - fleet.reconcile's look at the claim policy's
 * targets: certificates that hold the claim policy at AWS but that no claim
 * record holds (made after the Redis data that was restored, or outside
 * fleetwarden). Internal to jobs/handlers.
 *
 * Every claim certificate fleetwarden makes (claim.create, a verification's
 * claim) is recorded on its claim, and entered in the certificate index
 * (P claims:cert), before the claim policy is attached to it: a target the
 * index and the fleet's claims do not know was never recorded by the data
 * this service now has. Device certificates never hold the claim policy (the
 * template attaches the thing policy, or a per-device document), so they are
 * not targets; a fleet whose claimPolicy.name is its thingPolicy.name is
 * skipped (its targets are devices too).
 *
 * Each such certificate is a finding {resource "claimCertificates", name
 * (the certificate id), difference (status, creation time), notRepaired}.
 * With deactivate, one created at least FLEET_CLAIMCERTS_MARGIN_S before the
 * reconcile started is set INACTIVE and the claim policy is detached from it
 * (repaired, action "deactivated"), unless some claim is still being created
 * (state creating: a claim.create that lost its answer adopts the
 * certificate it made, and after a restore that can be one of these). The
 * findings do not change the fleet's state: the fleet's own resources are
 * what settle it.
 */
#ifndef FW_JOBS_HANDLERS_FLEET_CLAIMCERTS_H
#define FW_JOBS_HANDLERS_FLEET_CLAIMCERTS_H

struct fleet_run;

#define FLEET_CLAIMCERTS_MARGIN_S 600

/* RECONCILE: lists the claim policy's targets (every page), appends a finding
 * for each certificate no claim holds and, with deactivate, deactivates and
 * detaches those old enough (started_ms: when the reconcile started, epoch
 * ms). 0, or the code to return (an AWS or store error; run->err and the job
 * error set). */
int fleet_claimcerts_check(struct fleet_run *r, int deactivate, long long started_ms);

#endif
