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
local id, token, outcome = ARGV[2], ARGV[3], ARGV[4]
local a1, a2, a3 = ARGV[5], ARGV[6], ARGV[7]
if outcome ~= 'succeeded' and outcome ~= 'dead' and outcome ~= 'canceled' and outcome ~= 'retry'
    and outcome ~= 'defer' and outcome ~= 'release' then   -- no table: one costs ~2,500 instructions a call
  return redis.error_reply('finish: unknown outcome ' .. outcome)
end
if redis.call('ZREM', P .. 'running', lease_member(id, token)) == 0 then
  return fw_error('CONFLICT', 'the lease was lost')
end
local j, h, k
if outcome == 'succeeded' and ARGV[8] ~= '' then
  j = {id = id, s = S_RUNNING, q = string.match(token, '^[^.]*'), t = ARGV[8], c = ARGV[9], R = ARGV[10], u = ARGV[11]}
  k = jk(id)
elseif outcome == 'succeeded' or outcome == 'canceled' then
  j, h, k = jread(id)
else
  j, h, k = jread(id, JOB_F_ATTEMPTS, JOB_F_ERRORS)
end
local now, now_text = server_time()
if outcome == 'succeeded' then
  finish_terminal(j, S_SUCCEEDED, now, now_text, a2, {JOB_F_RESULT, a1}, k)
elseif outcome == 'dead' then
  local f = add_error({}, h[9], a1, now)
  if a3 ~= '' then f[#f + 1] = JOB_F_REASON; f[#f + 1] = a3 end
  finish_terminal(j, S_DEAD, now, now_text, a2, f)
elseif outcome == 'canceled' then
  finish_terminal(j, S_CANCELED, now, now_text, a2, {})
elseif outcome == 'release' then
  redis.call('RPUSH', P .. 'q:' .. j.l, id)
  move_state(j, S_QUEUED, now, {JOB_F_ATTEMPTS, (tonumber(h[8]) or 0) - 1})
  wake()
else   -- retry, defer
  local due = now + tonumber(a2)
  local attempts = tonumber(h[8]) or 0
  local st, f = S_FAILED, {JOB_F_NEXT, due}
  if outcome == 'retry' then
    add_error(f, h[9], a1, now)
    if a3 ~= '1' then attempts = attempts - 1 end
    redis.call('HINCRBY', P .. 'stats', 'retries', '1')
  else
    st = S_SCHEDULED
    attempts = attempts - 1
    f[#f + 1] = JOB_F_RLPAID
    f[#f + 1] = '1'
    redis.call('HINCRBY', P .. 'stats', 'rlwaits', '1')
  end
  f[#f + 1] = JOB_F_ATTEMPTS
  f[#f + 1] = attempts
  redis.call('ZADD', P .. 'delayed', due, id)
  move_state(j, st, now, f)
end
if ARGV[12] == '1' then return claim_next(tonumber(ARGV[13]), ARGV[14], ARGV[15], ARGV[16], now, now_text) end
return 'ok'
