-- claim_successor.lua (store_claim.c)
-- KEYS[1] old claim, KEYS[2] new claim. ARGV: new id, csr, fp, key type override, prefix, old id
-- (created and updated are Redis's time). Returns {1, successor id} made now, {2, successor id} made
-- before; fw_error NOTFOUND when there is no such claim. A successor made before is taken again only
-- while it can still become the claim's replacement: still creating (an earlier rotation not
-- finished), or active (one whose rotation stopped before the old claim became rotating). Any other
-- (failed, deleted, gone, or a replacement since disabled, revoked or itself rotated) is replaced by a
-- new one, else the old claim would rotate behind a claim devices cannot use.
local _, now = server_time()
local f = redis.call('HMGET', KEYS[1], CLAIM_F_STATE, CLAIM_F_SUCCESSOR, CLAIM_F_FLEET, CLAIM_F_KEY_SOURCE,
                     CLAIM_F_KEY_TYPE, CLAIM_F_EXPECTED_DEVICES, CLAIM_F_NOTE, CLAIM_F_FLEET_UID,
                     CLAIM_F_PURPOSE)
if not f[1] then return fw_error('NOTFOUND', 'no such claim') end
if f[2] and f[2] ~= '' then
  local was = redis.call('HGET', ARGV[5] .. 'claim:' .. f[2], CLAIM_F_STATE)
  if was == 'creating' or was == 'active' then return {2, f[2]} end
end
local kt = ARGV[4] ~= '' and ARGV[4] or f[5]
redis.call('HSET', KEYS[2], CLAIM_F_ID, ARGV[1], CLAIM_F_FLEET, f[3], CLAIM_F_STATE, 'creating',
           CLAIM_F_KEY_SOURCE, f[4], CLAIM_F_KEY_TYPE, kt, CLAIM_F_BUNDLE_DOWNLOADED, '0', CLAIM_F_KEY_HELD, '0',
           CLAIM_F_CREATED, now, CLAIM_F_UPDATED, now, CLAIM_F_PREDECESSOR, ARGV[6])
if f[6] then redis.call('HSET', KEYS[2], CLAIM_F_EXPECTED_DEVICES, f[6]) end
if f[7] then redis.call('HSET', KEYS[2], CLAIM_F_NOTE, f[7]) end
-- the predecessor's fleet generation (its jobs are StaleJob once the fleet is re-created) and purpose
if f[8] then redis.call('HSET', KEYS[2], CLAIM_F_FLEET_UID, f[8]) end
if f[9] then redis.call('HSET', KEYS[2], CLAIM_F_PURPOSE, f[9]) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], CLAIM_F_CSR, ARGV[2], CLAIM_F_PUBLIC_KEY_FP, ARGV[3]) end
redis.call('ZADD', ARGV[5] .. 'claims', now, ARGV[1])
redis.call('ZADD', ARGV[5] .. 'claims:f:' .. f[3], now, ARGV[1])
reindex(ARGV[5], ARGV[1], f[3], now, false, 'creating')
redis.call('HSET', KEYS[1], CLAIM_F_SUCCESSOR, ARGV[1], CLAIM_F_UPDATED, now)
return {1, ARGV[1]}
