-- tick: ARGV P, name, expected_due_ms, next_due_ms, job_id.
-- Leaderless schedule tick: acts only while the schedule's due time is
-- still expected_due (compare-and-set), so of many processes one wins.
-- The job id is derived from (schedule, slot), so even a replayed tick
-- cannot make a second job. A tick whose previous run is still active is
-- skipped and counted; so is one of a schedule with a resource while any job
-- of its (type, resource) is active, and its job holds that resource
-- (unique, as a job enqueued for it). Returns "lost" (another process ticked, or the
-- schedule is gone), "enqueued" or "skipped".
local name, expected, nextdue, id = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local dk = P .. 'sched:due'
local cur = redis.call('ZSCORE', dk, name)
if not cur or tonumber(cur) ~= tonumber(expected) then return 'lost' end
redis.call('ZADD', dk, nextdue, name)
local sk = P .. 'sched:' .. name
local s = redis.call('HMGET', sk, 'type', 'payload', 'lane', 'max', 'last', 'resource')
if not s[1] then redis.call('ZREM', dk, name); return 'lost' end
local now, now_text = server_time()
local res = s[6] or ''
local function active(jid)
  local st = jid and redis.call('HGET', jk(jid), JOB_F_STATE)
  return st and not terminal(st)
end
-- the previous run, or (a schedule with a resource) any active job of (type, resource)
if active(s[5]) or (res ~= '' and active(redis.call('GET', P .. 'uniq:' .. s[1] .. ':' .. res))) then
  redis.call('HINCRBY', sk, 'skipped', 1)
  return 'skipped'
end
if redis.call('EXISTS', jk(id)) == 0 then
  create_job(id, s[1], s[3], s[2], s[4], res, res ~= '', '0', name, now, now_text)
end
redis.call('HSET', sk, 'last', id, 'lastrun', now_text)
redis.call('HINCRBY', sk, 'ticks', 1)
return 'enqueued'
