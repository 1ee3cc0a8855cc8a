-- prelude.lua - definitions the domain stores' scripts share (service/redis/lua_embed.py puts
-- in each script only those it uses). Top-level local definitions only.

-- Rate limits (store_rate.h): counts one request in the fixed window of secs seconds that Redis's
-- clock is in, key base .. ':' .. the window's index (Redis TIME / the window's length), which
-- expires a second after the window ends. Answers whether the count is over n, and the ms left in
-- the window. base '' counts nothing.
local function take(base, n, secs)
  if base == '' then return false, 0 end
  local now = server_time()
  local len = tonumber(secs) * 1000
  local w = math.floor(now / len)
  local left = (w + 1) * len - now
  local k = base .. ':' .. string.format('%.0f', w)
  local c = redis.call('INCR', k)
  if c == 1 then redis.call('PEXPIRE', k, left + 1000) end
  return c > tonumber(n), left
end

-- Incidents (store_watch.c): announces an incident change like the job scripts announce job
-- changes (jobs/lua/prelude.lua): on P events and into the capped log P events:log that
-- GET /v1/events reads, in the same script as the change itself, so no change goes unannounced
-- and no event announces a change that did not happen. The event's resource is the incident's
-- subject ("claim:ID" or "template:NAME"), the same string jobs on that claim carry.
local function inc_event(p, k, change, ts, job)
  local h = redis.call('HMGET', k, 'id', 'state', 'fleet', 'subject', 'claim', 'rule')
  if not h[1] then return end
  local function v(x) if x and x ~= '' then return x end return cjson.null end
  local ev = cjson.encode({type = 'incident', id = h[1], state = h[2], change = change,
    fleet = h[3], resource = v(h[4]), claimId = v(h[5]), rule = h[6], job = v(job), ts = ts})
  redis.call('PUBLISH', p .. 'events', ev)
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
