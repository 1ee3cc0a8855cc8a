-- retry: ARGV P, id.
-- Requeues a dead, canceled or failed (waiting for its retry) job now,
-- with a fresh attempt budget; the error history is kept. Returns
-- "queued"; FW_ENOTFOUND; FW_ECONFLICT when its state does not allow it or
-- another active job holds the job's (type, resource) lock.
local id = ARGV[2]
local k = jk(id)
local j = jread(id)
if not j.s then return fw_error('NOTFOUND', 'no such job') end
if j.s ~= S_DEAD and j.s ~= S_CANCELED and j.s ~= S_FAILED then
  return fw_error('CONFLICT', 'a ' .. state_name(j.s) .. ' job cannot be retried')
end
local uk
if j.u == '1' and j.R ~= '' then
  uk = P .. 'uniq:' .. j.t .. ':' .. j.R
  local cur = redis.call('GET', uk)
  if cur and cur ~= id then
    local cst = redis.call('HGET', jk(cur), JOB_F_STATE)
    if cst and not terminal(cst) then return fw_error('CONFLICT', 'another active job holds its resource') end
  end
end
if uk then redis.call('SET', uk, id) end
local now, now_text = server_time()
redis.call('PERSIST', k)
redis.call('ZREM', P .. 'delayed', id)
redis.call('ZREM', P .. 'dead', id)
redis.call('HDEL', k, JOB_F_ATTEMPTS, JOB_F_STALLS, JOB_F_CANCEL, JOB_F_FINISHED, JOB_F_NEXT, JOB_F_REASON)
redis.call('RPUSH', P .. 'q:' .. j.l, id)
move_state(j, S_QUEUED, now)
wake()
return 'queued'
