-- claim_set.lua (store_claim.c)
-- KEYS[1] the claim, KEYS[2] the certificate index; ARGV[1] the claim id, ARGV[2..] fields
-- ('updated' is Redis's time). A certificateId is indexed in the same
-- script, so no claim ever holds a certificate the index does not know.
-- Answers 1; fw_error NOTFOUND when there is no such claim.
local _, now = server_time()
if redis.call('EXISTS', KEYS[1]) == 0 then return fw_error('NOTFOUND', 'no such claim') end
redis.call('HSET', KEYS[1], CLAIM_F_UPDATED, now, unpack(ARGV, 2))
for i = 2, #ARGV - 1, 2 do
  if ARGV[i] == CLAIM_F_CERT_ID and ARGV[i + 1] ~= '' then redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[1]) end
end
return 1
