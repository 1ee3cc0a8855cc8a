-- step: ARGV P, id, token, kind, a1, a2, a3.
--   kind "done":     a1 step name, a2 result JSON (progress.done += 1)
--   kind "progress": a1 done, a2 total, a3 current step
-- Fenced by the token. Returns 1 (go on), 2 (recorded, but cancel was
-- requested), -1 (lease lost: stop).
local id, token, kind = ARGV[2], ARGV[3], ARGV[4]
local k = jk(id)
local h = redis.call('HMGET', k, 'token', 'state', 'cancel')
if h[1] ~= token or h[2] ~= 'running' then return -1 end
if kind == 'done' then
  redis.call('HSET', k, 's:' .. ARGV[5], ARGV[6], 'pstep', ARGV[5])
  redis.call('HINCRBY', k, 'pdone', 1)
else
  redis.call('HSET', k, 'pdone', ARGV[5], 'ptotal', ARGV[6], 'pstep', ARGV[7])
end
if h[3] == '1' then return 2 end
return 1
