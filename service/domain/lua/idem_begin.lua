-- idem_begin.lua (store_idem.c)
-- KEYS[1] the key's record; ARGV fp, candidate id, ttl ms, lease ms.
-- {0, id} new, {1, id} resumed, {2, id, status, body, loc} done, {3} mismatch, {4} busy.
-- Redis TIME is the clock (one clock for every server process sharing the key).
local now = server_time()
local r = redis.call('HMGET', KEYS[1], 'fp', 'state', 'id', 'lease', 'status', 'body', 'loc')
if not r[1] then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'id', ARGV[2], 'state', 'pending', 'lease', now + ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {0, ARGV[2]}
end
if r[1] ~= ARGV[1] then return {3} end
if r[2] == 'done' then return {2, r[3], r[5], r[6], r[7] or ''} end
if tonumber(r[4]) > now then return {4} end
redis.call('HSET', KEYS[1], 'lease', now + ARGV[4])
return {1, r[3]}
