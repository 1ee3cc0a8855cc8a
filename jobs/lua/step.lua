-- step: ARGV P, id, token, kind, a1, a2, a3.
--   kind "done":     a1 step name, a2 result JSON (progress done += 1)
--   kind "progress": a1 done, a2 total, a3 current step
-- Fenced by the token. Returns "ok" (go on) or "cancel" (recorded, but
-- cancel was requested); FW_ECONFLICT when the lease was lost (stop).
local id, token, kind = ARGV[2], ARGV[3], ARGV[4]
if not redis.call('ZSCORE', P .. 'running', lease_member(id, token)) then
  return fw_error('CONFLICT', 'the lease was lost')
end
local k = jk(id)
if kind == 'done' then
  redis.call('HSET', k, JOB_F_STEPS .. ARGV[5], ARGV[6], JOB_F_PSTEP, ARGV[5])
  redis.call('HINCRBY', k, JOB_F_PDONE, '1')
else
  redis.call('HSET', k, JOB_F_PDONE, ARGV[5], JOB_F_PTOTAL, ARGV[6], JOB_F_PSTEP, ARGV[7])
end
if redis.call('HGET', k, JOB_F_CANCEL) == '1' then return 'cancel' end
return 'ok'
