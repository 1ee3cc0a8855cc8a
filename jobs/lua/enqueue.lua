-- enqueue: ARGV P, id, type, lane, payload, max_attempts, resource, unique(0|1),
-- idem_key, idem_ttl_ms, run_at_ms (0 = now).
-- Returns {id, existed}: existed 0 when this job was created, 1 when an
-- existing job is returned instead (the same idempotency key with the same
-- request, or the active job of a unique (type, resource)). id is a fresh
-- random id (jobs/job.h job_id_new, 96 bits), never one in use.
-- FW_EUNPROCESSABLE when the idempotency key was used for another request.
local id, typ, lane, payload = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local maxa, res, uniq = ARGV[6], ARGV[7], ARGV[8] == '1'
local idem, idem_ttl, run_at = ARGV[9], ARGV[10], ARGV[11]
local ik, digest = P .. 'idem:' .. idem, nil
if idem ~= '' then
  digest = redis.sha1hex(typ .. '\n' .. res .. '\n' .. payload)
  local v = redis.call('GET', ik)
  if v then
    local eid, edig = string.match(v, '^([^|]*)|(.*)$')
    if edig ~= digest then return fw_error('UNPROCESSABLE', 'idempotency key used for another request') end
    return {eid, 1}
  end
end
local function remember(jid)
  if idem ~= '' then redis.call('SET', ik, jid .. '|' .. digest, 'PX', idem_ttl) end
  return jid
end
if uniq and res ~= '' then
  local cur = redis.call('GET', P .. 'uniq:' .. typ .. ':' .. res)
  if cur then
    local st = redis.call('HGET', jk(cur), 's')
    if st and not terminal(st) then return {remember(cur), 1} end
  end
end
local now, now_text = server_time()
create_job(id, typ, lane, payload, maxa, res, uniq, run_at, '', idem, now, now_text)
return {remember(id), 0}
