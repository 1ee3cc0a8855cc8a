-- finish: ARGV P, id, token, outcome, a1, a2, a3 [, "1", worker, lease_ms,
-- lane1, lane2, lane3].
-- The one exit of a running job, fenced by its token: a worker that lost
-- the lease (reaped, released, canceled) gets -1 and changes nothing.
--   succeeded  a1 result JSON, a2 ttl_ms
--   dead       a1 error JSON, a2 ttl_ms (dead TTL), a3 reason
--   canceled   a2 ttl_ms
--   retry      a1 error JSON, a2 delay_ms, a3 "1" uses up the attempt
--   defer      a2 delay_ms (rate limit: token already reserved)
--   release    (shutdown: back to the front of its lane, attempt not used)
-- Returns 1, or -1 when the token no longer owns the job. With the claim
-- arguments it also claims the worker's next job in the same call (one
-- round trip per job at steady state) and returns {1, claim reply}.
local id, token, outcome = ARGV[2], ARGV[3], ARGV[4]
local a1, a2, a3 = ARGV[5], ARGV[6], ARGV[7]
local k = jk(id)
local h = redis.call('HMGET', k, 'token', 'state', 'seq', 'lane')
if h[1] ~= token or h[2] ~= 'running' then return -1 end
local now = now_ms()
local seq = h[3]
redis.call('ZREM', P .. 'running', id)
redis.call('HDEL', k, 'token', 'lease', 'worker')
if outcome == 'succeeded' then
  redis.call('HSET', k, 'result', a1)
  finish_terminal(id, 'running', 'succeeded', seq, now, tonumber(a2))
elseif outcome == 'dead' then
  push_error(id, a1)
  redis.call('HSET', k, 'reason', a3)
  finish_terminal(id, 'running', 'dead', seq, now, tonumber(a2))
elseif outcome == 'canceled' then
  finish_terminal(id, 'running', 'canceled', seq, now, tonumber(a2))
elseif outcome == 'retry' or outcome == 'defer' then
  local due = now + tonumber(a2)
  local st = 'failed'
  if outcome == 'retry' then
    push_error(id, a1)
    if a3 ~= '1' then redis.call('HINCRBY', k, 'attempts', -1) end
    redis.call('HINCRBY', P .. 'stats', 'retries', 1)
  else
    st = 'scheduled'
    redis.call('HINCRBY', k, 'attempts', -1)
    redis.call('HSET', k, 'rlpaid', 1)
    redis.call('HINCRBY', P .. 'stats', 'rlwaits', 1)
  end
  redis.call('HSET', k, 'next', due)
  redis.call('ZADD', P .. 'delayed', due, id)
  move_state(id, 'running', st, seq, now)
elseif outcome == 'release' then
  redis.call('HINCRBY', k, 'attempts', -1)
  redis.call('RPUSH', P .. 'q:' .. h[4], id)
  move_state(id, 'running', 'queued', seq, now)
  wake()
else
  return redis.error_reply('unknown outcome')
end
if ARGV[8] == '1' then
  return {1, claim_next(ARGV[9], tonumber(ARGV[10]), {ARGV[11], ARGV[12], ARGV[13]}, now)}
end
return 1
