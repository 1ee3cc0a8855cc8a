-- schedup: ARGV P, name, type, payload, lane, max, every_s, daily, first_due_ms,
-- resource ('' = none).
-- Creates or updates a recurring schedule. With a resource its jobs are unique
-- per (type, resource), as jobs enqueued for that resource (tick.lua). The due time is kept when the
-- timing did not change, so an upsert at every start-up never moves or
-- duplicates a tick. Returns "retimed" (created, or its timing changed) or "kept".
local name = ARGV[2]
local sk = P .. 'sched:' .. name
local old = redis.call('HMGET', sk, 'every', 'daily')
redis.call('HSET', sk, 'name', name, 'type', ARGV[3], 'payload', ARGV[4], 'lane', ARGV[5],
  'max', ARGV[6], 'every', ARGV[7], 'daily', ARGV[8], 'resource', ARGV[10] or '')
local due = redis.call('ZSCORE', P .. 'sched:due', name)
if due and old[1] == ARGV[7] and old[2] == ARGV[8] then return 'kept' end
redis.call('ZADD', P .. 'sched:due', tonumber(ARGV[9]), name)
return 'retimed'
