-- claim: ARGV P, lease_ms, lane1, lane2, lane3.
-- One claim (claim_next in prelude.lua): promote due delayed jobs, pop by
-- lane order, lease + fencing token. Workers that just finished a job get
-- their next one from finish.lua instead, in the same round trip.
local now, now_text = server_time()
return claim_next(tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], now, now_text)
