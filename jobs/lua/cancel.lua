-- cancel: ARGV P, id, ttl_ms.
-- Queued or waiting jobs are canceled at once ("canceled"); a running job
-- gets its cancel flag, honoured by the handler between steps and by the
-- next heartbeat ("requested"), and by every way the attempt may end other
-- than finished (prelude.lua cancel_instead). FW_ENOTFOUND, or FW_ECONFLICT when the job
-- already finished.
local id, ttl = ARGV[2], ARGV[3]
local k = jk(id)
local j, h = jread(id, JOB_F_RLWAIT)
if not j.s then return fw_error('NOTFOUND', 'no such job') end
if terminal(j.s) then return fw_error('CONFLICT', 'the job already finished') end
local now, now_text = server_time()
if j.s == S_RUNNING then
  redis.call('HSET', k, JOB_F_CANCEL, '1', JOB_F_CANCELTTL, ttl)
  publish(j, S_RUNNING)
  return 'requested'
end
if j.s == S_QUEUED then
  redis.call('LREM', P .. 'q:' .. j.l, 0, id)
else   -- scheduled or failed
  redis.call('ZREM', P .. 'delayed', id)
  if h[8] then redis.call('ZREM', P .. 'rlq:' .. h[8], id) end   -- waiting for a rate-limit token
end
finish_terminal(j, S_CANCELED, now, now_text, ttl, {JOB_F_CANCEL, '1'})
return 'canceled'
