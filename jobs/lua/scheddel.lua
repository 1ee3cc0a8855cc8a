-- scheddel: ARGV P, name.
-- Removes a recurring schedule; a job it already enqueued runs on.
-- Returns "ok", or FW_ENOTFOUND when there is no such schedule.
local n = redis.call('ZREM', P .. 'sched:due', ARGV[2])
local d = redis.call('DEL', P .. 'sched:' .. ARGV[2])
if n + d == 0 then return fw_error('NOTFOUND', 'no such schedule') end
return 'ok'
