-- finish: ARGV P, id, token, outcome, a1, a2, a3, type, created, resource,
-- uniq [, "1", lease_ms, lane1, lane2, lane3].
-- The one exit of a running job, fenced by its token: a worker that lost
-- the lease (reaped, released) gets FW_ECONFLICT and changes nothing.
--   succeeded  a1 result JSON, a2 ttl_ms
--   dead       a1 error JSON, a2 ttl_ms (dead TTL), a3 reason
--   canceled   a2 ttl_ms
--   retry      a1 error JSON, a2 delay_ms, a3 "1" uses up the attempt
--   defer      a2 delay_ms (rate limit: token already reserved)
--   release    (shutdown: back to the front of its lane, attempt not used)
-- type, created, resource and uniq are the job's fields that never change,
-- as its claim answered them (claim_next), or type "" when the caller does
-- not have them: a job that succeeded need not be read back then (its HMGET
-- cost ~20,000 instructions, 6% of a job); after the fence the job is
-- running under this token, and its sequence is the token's first part.
-- Returns "ok". With the claim arguments it also claims the worker's next
-- job in the same call (one round trip per job at steady state) and
-- returns claim_next's flat list, which begins with that "ok".
local now, now_text = server_time()
return finish_job(ARGV, now, now_text)
