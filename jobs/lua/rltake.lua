-- rltake: ARGV P, family, rate_per_s, burst.
-- Reserves one token; returns ms to wait before using it (0 = now).
local wait = rate_limits().take(ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), (server_time()))
if wait > 0 then redis.call('HINCRBY', P .. 'stats', 'rlwaits', '1') end
return wait
