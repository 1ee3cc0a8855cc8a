-- rldefer: ARGV P, id, token, family, rate_per_s, burst.
-- The rate gate of a running job (lanes on the bucket: prelude.lua RL_RANK).
-- A critical job, or another one when nobody waits for the family and the
-- next token is due within the horizon (one token interval), takes a token: due now,
-- it returns 0 and the job runs; otherwise the job is parked in delayed
-- until the token's time and the wait in ms is returned. Any other job
-- waits unreserved in the family's queue for its pump and an estimate of
-- the wait is returned. Parking uses no attempt and is no failure.
-- -1 when the token no longer owns the job.
local id, token, fam = ARGV[2], ARGV[3], ARGV[4]
local rate, burst = tonumber(ARGV[5]), tonumber(ARGV[6])
local k = jk(id)
local h = redis.call('HMGET', k, 'token', 'state', 'seq', 'lane')
if h[1] ~= token or h[2] ~= 'running' then return -1 end
local now = now_ms()
local q = P .. 'rlq:' .. fam
local rank = RL_RANK[h[4]] or RL_RANK.default
local due = rl_due(fam, rate, burst, now)
local hz = rl_horizon(rate, burst)
local reserve = rank == RL_RANK.critical or (due <= hz and redis.call('EXISTS', q) == 0)
local wait = 0
if reserve then
  wait = rl_take(fam, rate, burst, now)
  if wait <= 0 then return 0 end
end
redis.call('ZREM', P .. 'running', id)
redis.call('HDEL', k, 'token', 'lease', 'worker')
redis.call('HINCRBY', k, 'attempts', -1)
redis.call('HINCRBY', P .. 'stats', 'rlwaits', 1)
if reserve then
  redis.call('HSET', k, 'rlpaid', 1, 'next', now + wait)
  redis.call('ZADD', P .. 'delayed', now + wait, id)
else
  redis.call('HSET', k, 'rlwait', fam)
  redis.call('HDEL', k, 'next')
  redis.call('ZADD', q, rank * RL_SPAN + tonumber(h[3]), id)
  rl_keep(P .. 'rl:' .. fam, rate, burst)
  rl_pump_at(fam, now + math.max(0, due - hz))
  wait = math.max(1, due + (redis.call('ZCARD', q) - 1) * hz)
end
move_state(id, 'running', 'scheduled', h[3], now)
return wait
