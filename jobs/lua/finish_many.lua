-- finish_many: the finishes of several workers in one call (a batch:
-- service/redis/script_group.h, run_batch in service/redis/lua/runner.lua):
-- ARGV P, then for each finish its argument count and its arguments after P
-- (those of finish.lua). Answers, in order, what finish.lua would have
-- answered each, an error as an element of its own. One reading of the
-- server time stands for every finish of the batch (the batch is atomic).
local now, now_text = server_time()
return run_batch(finish_job, now, now_text)
