-- claim_successor.lua (store_claim.c)
-- KEYS[1] old claim, KEYS[2] new claim. ARGV: new id, csr, fp, key type override, prefix, old id
-- (created and updated are Redis's time). Returns {1, successor id} made now, {2, successor id} made
-- before; fw_error NOTFOUND when there is no such claim.
local _, now = server_time()
local f = redis.call('HMGET', KEYS[1], 'state', 'successor', 'fleet', 'keySource', 'keyType',
                     'expectedDevices', 'note')
if not f[1] then return fw_error('NOTFOUND', 'no such claim') end
if f[2] and f[2] ~= '' then return {2, f[2]} end
local kt = ARGV[4] ~= '' and ARGV[4] or f[5]
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'fleet', f[3], 'state', 'creating', 'keySource', f[4],
           'keyType', kt, 'bundleDownloaded', '0', 'keyHeld', '0', 'created', now,
           'updated', now, 'predecessor', ARGV[6])
if f[6] then redis.call('HSET', KEYS[2], 'expectedDevices', f[6]) end
if f[7] then redis.call('HSET', KEYS[2], 'note', f[7]) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], 'csr', ARGV[2], 'publicKeyFp', ARGV[3]) end
redis.call('ZADD', ARGV[5] .. 'claims', now, ARGV[1])
redis.call('ZADD', ARGV[5] .. 'claims:f:' .. f[3], now, ARGV[1])
reindex(ARGV[5], ARGV[1], f[3], now, false, 'creating')
redis.call('HSET', KEYS[1], 'successor', ARGV[1], 'updated', now)
return {1, ARGV[1]}
