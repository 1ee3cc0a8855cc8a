-- due: ARGV P, max.
-- The schedules due now (Redis time): {now, next_due_ms (-1: none after
-- them), name1, due1, name2, due2, ...}, at most max of them.
local max = tonumber(ARGV[2])
local now, now_text = server_time()
local out = {now, -1}
local m = redis.call('ZRANGE', P .. 'sched:due', 0, max, 'WITHSCORES')
for i = 1, #m, 2 do
  local due = tonumber(m[i + 1])
  if due > now or (#out - 2) / 2 == max then out[2] = due; break end
  out[#out + 1] = m[i]
  out[#out + 1] = due
end
return out
