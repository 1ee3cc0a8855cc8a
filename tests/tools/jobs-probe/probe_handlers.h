/*
 * probe_handlers.h - the test job types jobs-probe registers.
 */
#ifndef FW_PROBE_HANDLERS_H
#define FW_PROBE_HANDLERS_H

/* Registers test.noop, test.sleep, test.steps, test.fail, test.ratelimited,
 * test.unique and test.record. */
void probe_handlers_register(void);

#endif
