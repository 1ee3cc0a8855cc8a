-- claim_bundle.lua (store_claim.c)
-- KEYS: claim, claimkey. The outcomes other than 0 carry the reason the API shows, so they are
-- answers, not fw_error replies.
-- {code, sealed|false, why}: 0 ok, -1 not found, -2 gone, -3 creating,
-- -4 the key changed since it was peeked. ARGV: "peek" or "take", the sealed key take expects
-- ("" for none); bundleDownloadedAt is Redis's time.
local _, now = server_time()
local f = redis.call('HMGET', KEYS[1], CLAIM_F_STATE, CLAIM_F_BUNDLE_DOWNLOADED, CLAIM_F_KEY_HELD,
                     CLAIM_F_KEY_ERASED_REASON)
if not f[1] then return {-1, false, ''} end
if f[2] == '1' then return {-2, false, 'the bundle was already downloaded'} end
if f[1] == 'creating' then return {-3, false, 'the claim is still being created'} end
if f[1] == 'revoked' or f[1] == 'deleted' or f[1] == 'failed' then
  return {-2, false, 'the claim is ' .. f[1]} end
local sealed = redis.call('GET', KEYS[2])
if f[3] == '1' and not sealed then
  redis.call('HSET', KEYS[1], CLAIM_F_KEY_HELD, '0', CLAIM_F_KEY_ERASED_REASON, 'ttl')
  return {-2, false, 'the private key was erased: it was not downloaded within its time to live'} end
if f[3] ~= '1' and f[4] then
  return {-2, false, 'the private key was erased (' .. f[4] .. ')'} end
if ARGV[1] == 'peek' then return {0, sealed or false, ''} end
if (sealed or '') ~= ARGV[2] then return {-4, false, 'the key changed meanwhile; download again'} end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], CLAIM_F_BUNDLE_DOWNLOADED, '1', CLAIM_F_BUNDLE_AT, now, CLAIM_F_KEY_HELD, '0')
if sealed then redis.call('HSET', KEYS[1], CLAIM_F_KEY_ERASED_REASON, 'downloaded') end
return {0, false, ''}
