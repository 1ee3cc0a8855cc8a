-- incident_claim_off.lua - (store_watch.c) KEYS[1] incs:c:CLAIM; ARGV: prefix, change, ts, job,
-- incident. Announces the change on the incidents of the claim that this job acted on: the one
-- that asked for it, and the unresolved ones whose action names the job (a claim with several
-- breached rules in one cycle is disabled by one job). Answers how many.
local p, change, ts, job, first = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local n = 0
for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, 49)) do
  local k = p .. 'inc:' .. id
  local h = redis.call('HMGET', k, 'state', 'action')
  local ok, a = pcall(cjson.decode, h[2] or '')
  local mine = ok and type(a) == 'table' and a.job == job
  if id == first or (h[1] and h[1] ~= 'resolved' and mine) then
    inc_event(p, k, change, ts, job)
    n = n + 1
  end
end
return n
