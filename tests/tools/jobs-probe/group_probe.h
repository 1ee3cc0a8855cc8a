/*
 * group_probe.h - `jobs-probe group`: many threads calling one script through
 * service/redis/script_group.h at once (a test harness, not the product).
 */
#ifndef FW_TESTS_GROUP_PROBE_H
#define FW_TESTS_GROUP_PROBE_H

/* threads threads each make calls grouped calls of an echo script (after
 * SCRIPT FLUSH unless keep_scripts, so the first group meets NOSCRIPT) and
 * check each answer is their own. Prints "ready" once the script is known
 * (then, with wait_go, waits for a line on stdin before the calls), and at
 * the end one line: "ok N mismatch N unavailable N other N" over all calls.
 * Returns 0, or 2 when the script could not be loaded at the start. */
int group_probe(int threads, int calls, int keep_scripts, int wait_go);

#endif
