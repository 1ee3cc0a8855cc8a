-- echo_many: echo's batch form (service/redis/script_group.h).
return run_batch(echo)
