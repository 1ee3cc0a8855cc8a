-- counts: ARGV P, lane1, lane2, lane3 (for metrics).
-- Returns {ready jobs per lane (3), jobs per state (7, in the order
-- queued scheduled running succeeded failed dead canceled), delayed,
-- leased, dead-by-time, retries, rlwaits, poison}.
local out = {}
for i = 2, 4 do out[#out + 1] = redis.call('LLEN', P .. 'q:' .. ARGV[i]) end
-- Finished states: the sizes of their buckets (prelude.lua idx_add).
local function finished(name)
  local n = 0
  for _, b in ipairs(redis.call('ZRANGE', P .. 'sd:' .. name, 0, -1)) do
    n = n + redis.call('ZCARD', P .. 'st:' .. name .. ':' .. b)
  end
  return n
end
local running = redis.call('ZCARD', P .. 'running')
out[#out + 1] = redis.call('ZCARD', P .. 'st:queued')
out[#out + 1] = redis.call('ZCARD', P .. 'st:scheduled')
out[#out + 1] = running
out[#out + 1] = finished('succeeded')
out[#out + 1] = redis.call('ZCARD', P .. 'st:failed')
out[#out + 1] = finished('dead')
out[#out + 1] = finished('canceled')
out[#out + 1] = redis.call('ZCARD', P .. 'delayed')
out[#out + 1] = running
out[#out + 1] = redis.call('ZCARD', P .. 'dead')
local s = redis.call('HMGET', P .. 'stats', 'retries', 'rlwaits', 'poison')
for i = 1, 3 do out[#out + 1] = tonumber(s[i]) or 0 end
return out
