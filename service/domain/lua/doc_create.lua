-- doc_create.lua - creates a fleet or template document if absent (store_fleet.c).
-- KEYS[1] the document's hash, KEYS[2] the kind's index (sorted set).
-- ARGV[1] the name, then field/value pairs ("j:<member>", JSON text).
-- Answers 1; fw_error CONFLICT when the document exists.
if redis.call('EXISTS', KEYS[1]) == 1 then return fw_error('CONFLICT', 'document exists') end
local _, now = server_time()
redis.call('HSET', KEYS[1], 'version', 1, 'createdAt', now, 'updatedAt', now, unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1
