-- enqueue: ARGV P, id, type, lane, payload, max_attempts, resource, unique(0|1),
-- run_at_ms (0 = now).
-- Returns {id, existed}: existed 0 when this job was created, 1 when an
-- existing job is returned instead: the job with the same id (a caller may
-- choose it: job_spec.id), or the active job of a unique (type, resource).
-- Without a caller's id, id is a fresh random id (jobs/job.h job_id_new, 96 bits).
-- The HTTP Idempotency-Key is not the queue's business (routes/idempotency.h).
local id, typ, lane, payload = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local maxa, res, uniq = ARGV[6], ARGV[7], ARGV[8] == '1'
local run_at = ARGV[9]
if uniq and res ~= '' then
  local cur = redis.call('GET', P .. 'uniq:' .. typ .. ':' .. res)
  if cur then
    local st = redis.call('HGET', jk(cur), JOB_F_STATE)
    if st and not terminal(st) then return {cur, 1} end
  end
end
if redis.call('EXISTS', jk(id)) == 1 then return {id, 1} end
local now, now_text = server_time()
create_job(id, typ, lane, payload, maxa, res, uniq, run_at, '', now, now_text)
return {id, 0}
