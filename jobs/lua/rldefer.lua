-- rldefer: ARGV P, id, token, family, rate_per_s, burst, ttl... (unused).
-- Takes (reserves) a token of the family's bucket for a running job. When
-- the token is due now, returns 0 and the job runs; otherwise parks the
-- job in delayed until the token's time (no attempt used, no failure) and
-- returns the wait in ms. -1 when the token no longer owns the job.
local id, token, fam = ARGV[2], ARGV[3], ARGV[4]
local rate, burst = tonumber(ARGV[5]), tonumber(ARGV[6])
local k = jk(id)
local h = redis.call('HMGET', k, 'token', 'state', 'seq')
if h[1] ~= token or h[2] ~= 'running' then return -1 end
local now = now_ms()
local wait = rl_take(fam, rate, burst, now)
if wait <= 0 then return 0 end
local due = now + wait
redis.call('ZREM', P .. 'running', id)
redis.call('HDEL', k, 'token', 'lease', 'worker')
redis.call('HINCRBY', k, 'attempts', -1)
redis.call('HSET', k, 'rlpaid', 1, 'next', due)
redis.call('HINCRBY', P .. 'stats', 'rlwaits', 1)
redis.call('ZADD', P .. 'delayed', due, id)
move_state(id, 'running', 'scheduled', h[3], now)
return wait
