-- incident_upsert.lua - (store_watch.c) KEYS[1] incopen:FLEET:SUBJECT:RULE. ARGV: prefix, new id,
-- fleet, subject, claim, template, rule, finding, action, actionState, now ms, now ISO (the watch
-- cycle's time, chosen by the caller). Opens an incident, or counts one more breach of the open
-- one. Answers {id, 1 opened | 0 updated, actionState}.
local p = ARGV[1]
local id = redis.call('GET', KEYS[1])
if id then
  local k = p .. 'inc:' .. id
  local st = redis.call('HGET', k, 'state')
  if st and st ~= 'resolved' then
    redis.call('HINCRBY', k, 'breaches', 1)
    redis.call('HSET', k, 'finding', ARGV[8], 'lastSeenAt', ARGV[11], 'updatedAt', ARGV[11])
    return {id, 0, redis.call('HGET', k, 'actionState') or ''}
  end
end
id = ARGV[2]
local seq = redis.call('INCR', p .. 'incseq')
local k = p .. 'inc:' .. id
redis.call('HSET', k, 'id', id, 'seq', seq, 'fleet', ARGV[3], 'subject', ARGV[4], 'claim', ARGV[5],
  'template', ARGV[6], 'rule', ARGV[7], 'state', 'open', 'openedAt', ARGV[11], 'updatedAt', ARGV[11],
  'lastSeenAt', ARGV[11], 'breaches', 1, 'finding', ARGV[8], 'firstFinding', ARGV[8],
  'action', ARGV[9], 'actionState', ARGV[10])
redis.call('ZADD', p .. 'incs', seq, id)
redis.call('ZADD', p .. 'incs:s:open', seq, id)
redis.call('ZADD', p .. 'incs:f:' .. ARGV[3], seq, id)
if ARGV[5] ~= '' then redis.call('ZADD', p .. 'incs:c:' .. ARGV[5], seq, id) end
redis.call('SET', KEYS[1], id)
inc_event(p, k, 'opened', ARGV[12])
return {id, 1, ARGV[10]}
