-- enqueue: ARGV P, id, type, lane, payload, max_attempts, resource, unique(0|1),
-- run_at_ms (0 = now).
-- Returns {code, id}: 0 created, 1 existing job returned (uniqueness or the
-- same id, which a caller may choose: job_spec.id).
local id, typ, lane, payload = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local maxa, res, uniq = tonumber(ARGV[6]), ARGV[7], ARGV[8] == '1'
local run_at = tonumber(ARGV[9])
local now = now_ms()
if uniq and res ~= '' then
  local cur = redis.call('GET', P .. 'uniq:' .. typ .. ':' .. res)
  if cur then
    local st = redis.call('HGET', jk(cur), 'state')
    if st and not TERMINAL[st] then return {1, cur} end
  end
end
if redis.call('EXISTS', jk(id)) == 1 then return {1, id} end
create_job(id, typ, lane, payload, maxa, res, uniq, run_at, '', now)
return {0, id}
