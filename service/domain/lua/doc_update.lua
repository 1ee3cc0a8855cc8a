-- doc_update.lua - updates members of an existing document, compare-and-set on its version
-- (store_fleet.c). KEYS[1] the document's hash. ARGV[1] the version If-Match named ('' for any),
-- then field/value pairs. Answers the new version; fw_error NOTFOUND when the document is gone,
-- PRECOND when its version is another.
if redis.call('EXISTS', KEYS[1]) == 0 then return fw_error('NOTFOUND', 'no such document') end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then
  return fw_error('PRECOND', 'version differs')
end
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
local _, now = server_time()
redis.call('HSET', KEYS[1], 'updatedAt', now)
return redis.call('HINCRBY', KEYS[1], 'version', 1)
