-- prelude.lua - definitions the domain stores' scripts share (service/redis/lua_embed.py puts
-- in each script only those it uses). Top-level local definitions only.

-- Rate limits (store_rate.h): counts one request in key's fixed window; true when the count is
-- over n. key '' counts nothing. The window's key and its ttl (ms) come from the caller.
local function take(k, n, ttl)
  if k == '' then return false end
  local c = redis.call('INCR', k)
  if c == 1 then redis.call('PEXPIRE', k, ttl) end
  return c > tonumber(n)
end

-- Incidents (store_watch.c): announces an incident change like the job scripts announce job
-- changes (jobs/lua/prelude.lua): into the capped log P events:log, the event feed that
-- GET /v1/events reads, in the same script as the change itself, so no change goes unannounced
-- and no event announces a change that did not happen. The event's resource is the incident's
-- subject ("claim:ID" or "template:NAME"), the same string jobs on that claim carry.
local function inc_event(p, k, change, ts, job)
  local h = redis.call('HMGET', k, 'id', 'state', 'fleet', 'subject', 'claim', 'rule')
  if not h[1] then return end
  local function v(x) if x and x ~= '' then return x end return cjson.null end
  local ev = cjson.encode({type = 'incident', id = h[1], state = h[2], change = change,
    fleet = h[3], resource = v(h[4]), claimId = v(h[5]), rule = h[6], job = v(job), ts = ts})
  redis.call('XADD', p .. 'events:log', 'MAXLEN', '~', 10000, '*', 'e', ev)
end

-- Claims (store_claim.c, store_claim_index.h): the value P claims:idx holds once every claim is
-- in the state indexes. The same as CLAIM_INDEX_VERSION in store_claim_index.h (a unit test,
-- tests/unit/redis/domain_scripts_test.c, holds them together).
local claim_index_version = '1'

-- Claims: moves claim id between the state indexes (P claims:s:STATE and
-- P claims:fs:FLEET:STATE), scored by its creation time ms; from is false for a new claim.
-- Every script that changes a claim's state calls it, in the same step.
local function reindex(p, id, fleet, ms, from, to)
  if from == to then return end
  if from then
    redis.call('ZREM', p .. 'claims:s:' .. from, id)
    redis.call('ZREM', p .. 'claims:fs:' .. fleet .. ':' .. from, id)
  end
  redis.call('ZADD', p .. 'claims:s:' .. to, ms, id)
  redis.call('ZADD', p .. 'claims:fs:' .. fleet .. ':' .. to, ms, id)
end
