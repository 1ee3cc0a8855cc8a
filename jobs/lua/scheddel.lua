-- scheddel: ARGV P, name.
-- Removes a recurring schedule; a job it already enqueued runs on.
-- Returns 1 removed, 0 no such schedule.
local n = redis.call('ZREM', P .. 'sched:due', ARGV[2])
local d = redis.call('DEL', P .. 'sched:' .. ARGV[2])
if n + d > 0 then return 1 end
return 0
