-- doc_delete.lua - deletes a document and its index entry (store_fleet.c).
-- KEYS[1] the document's hash, KEYS[2] the kind's index. ARGV[1] the name.
-- Answers 1; fw_error NOTFOUND when there was no document (its index entry, if one was
-- left, is removed all the same: that write is meant to stay).
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if n == 0 then return fw_error('NOTFOUND', 'no such document') end
return 1
