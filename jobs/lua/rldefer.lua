-- rldefer: ARGV P, id, token, family, rate_per_s, burst.
-- The rate gate of a running job (lanes on the bucket: prelude.lua rate_limits).
-- A critical job, or another one when nobody waits for the family and the
-- next token is due within the horizon (one token interval), takes a token: due now,
-- it returns 0 and the job runs; otherwise the job is parked in delayed
-- until the token's time and the wait in ms is returned. Any other job
-- waits unreserved in the family's queue for its pump and an estimate of
-- the wait is returned. Parking uses no attempt and is no failure.
-- FW_ECONFLICT when the token no longer owns the job; -1 when its cancel was
-- asked for: it ends canceled instead of waiting (prelude.lua cancel_instead).
local id, token, fam = ARGV[2], ARGV[3], ARGV[4]
local rate, burst = tonumber(ARGV[5]), tonumber(ARGV[6])
local k = jk(id)
local member = lease_member(id, token)
if not redis.call('ZSCORE', P .. 'running', member) then return fw_error('CONFLICT', 'the lease was lost') end
local j, h = jread(id, JOB_F_ATTEMPTS, JOB_F_CANCEL, JOB_F_CANCELTTL)
local now, now_text = server_time()
if h[9] == '1' then   -- its cancel was asked for: it ends here instead of waiting (prelude.lua)
  redis.call('ZREM', P .. 'running', member)
  cancel_instead(j, h[9], h[10], now, now_text, {}, k)
  return -1
end
local rl = rate_limits()
local q = P .. 'rlq:' .. fam
local rank = rl.RANK[j.l] or rl.RANK.default
local due = rl.due(fam, rate, burst, now)
local hz = rl.horizon(rate, burst)
local reserve = rank == rl.RANK.critical or (due <= hz and redis.call('EXISTS', q) == 0)
local wait = 0
if reserve then
  wait = rl.take(fam, rate, burst, now)
  if wait <= 0 then return 0 end
end
redis.call('ZREM', P .. 'running', member)
redis.call('HINCRBY', P .. 'stats', 'rlwaits', '1')
local f = {JOB_F_ATTEMPTS, (tonumber(h[8]) or 0) - 1}
if reserve then
  f[#f + 1] = JOB_F_RLPAID; f[#f + 1] = '1'
  f[#f + 1] = JOB_F_NEXT; f[#f + 1] = now + wait
  redis.call('ZADD', P .. 'delayed', now + wait, id)
else
  f[#f + 1] = JOB_F_RLWAIT; f[#f + 1] = fam
  redis.call('HDEL', k, JOB_F_NEXT)
  redis.call('ZADD', q, rank * rl.SPAN + tonumber(j.q), id)
  rl.keep(P .. 'rl:' .. fam, rate, burst)
  rl.pump_at(fam, now + math.max(0, due - hz))
  wait = math.max(1, due + (redis.call('ZCARD', q) - 1) * hz)
end
move_state(j, S_SCHEDULED, now, f)
return wait
