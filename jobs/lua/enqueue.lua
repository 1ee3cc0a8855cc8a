-- enqueue: ARGV P, id, type, lane, payload, max_attempts, resource, unique(0|1),
-- idem_key, idem_ttl_ms, run_at_ms (0 = now).
-- Returns {code, id}: 0 created, 1 existing job returned (idempotency key,
-- uniqueness or same id), -1 idempotency key reused with another request.
local id, typ, lane, payload = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local maxa, res, uniq = tonumber(ARGV[6]), ARGV[7], ARGV[8] == '1'
local idem, idem_ttl, run_at = ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11])
local now = now_ms()
local digest = redis.sha1hex(typ .. '\n' .. res .. '\n' .. payload)
local ik = P .. 'idem:' .. idem
if idem ~= '' then
  local v = redis.call('GET', ik)
  if v then
    local eid, edig = string.match(v, '^([^|]*)|(.*)$')
    if edig ~= digest then return {-1, eid} end
    return {1, eid}
  end
end
local function remember(jid)
  if idem ~= '' then redis.call('SET', ik, jid .. '|' .. digest, 'PX', idem_ttl) end
  return jid
end
if uniq and res ~= '' then
  local cur = redis.call('GET', P .. 'uniq:' .. typ .. ':' .. res)
  if cur then
    local st = redis.call('HGET', jk(cur), 'state')
    if st and not TERMINAL[st] then return {1, remember(cur)} end
  end
end
if redis.call('EXISTS', jk(id)) == 1 then return {1, remember(id)} end
create_job(id, typ, lane, payload, maxa, res, uniq, run_at, '', now)
if idem ~= '' then redis.call('HSET', jk(id), 'idem', idem) end
return {0, remember(id)}
