/*
 * group_probe.h - `jobs-probe group`: many threads calling one script through
 * service/redis/script_group.h at once (a test harness, not the product).
 */
#ifndef FW_TESTS_GROUP_PROBE_H
#define FW_TESTS_GROUP_PROBE_H

/* threads threads each make calls grouped calls of an echo script
 * (lua/prelude.lua; batched with echo_many.lua when batch), after SCRIPT
 * FLUSH unless keep_scripts, so the first group meets NOSCRIPT, and check
 * each answer is their own: call i of a thread asks for FW_ECONFLICT when
 * i % 10 == 0 and raises an error when i % 10 == 5. Prints "ready" once
 * Redis answered (then, with wait_go, waits for a line on stdin before the
 * calls), and at the end one line: "ok N mismatch N conflict N unavailable
 * N other N" over all calls. Returns 0, or 2 when Redis did not answer at
 * the start. */
int group_probe(int threads, int calls, int keep_scripts, int wait_go, int batch);

#endif
