-- idem_end.lua (store_idem.c)
-- KEYS[1]; ARGV fp, how (keep|forget|release), status, body, loc. Only the pending request of
-- this fingerprint ends it.
local r = redis.call('HMGET', KEYS[1], 'fp', 'state')
if r[1] ~= ARGV[1] or r[2] ~= 'pending' then return 0 end
if ARGV[2] == 'forget' then redis.call('DEL', KEYS[1])
elseif ARGV[2] == 'release' then redis.call('HSET', KEYS[1], 'lease', 0)
else redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[3], 'body', ARGV[4], 'loc', ARGV[5]) end
return 1
