// bench.js - the BullMQ side of tests/bench/queue (driven by ../bench.py).
//
//   node bench.js add PORT QUEUE N KEEP       pre-fills N no-op jobs with addBulk in awaited chunks
//                                            of 1,000 (as research/bullmq-bench.md); prints "added"
//   node bench.js worker PORT QUEUE N CONC    a Worker (autorun off): prints "ready", starts on a
//                                            line on stdin, prints "done" after N completed jobs
//   node bench.js stream PORT QUEUE N KEEP    N single `await queue.add(...)` calls one after another;
//                                            prints "added"
//
// KEEP is 1 for BullMQ's default (completed jobs kept) or 0 for removeOnComplete: true.
// Jobs are {name: 'noop', data: {i}}; the processor does nothing. The caller times the phases and
// reads CPU from /proc and Redis INFO.
'use strict';
const { Queue, Worker } = require('bullmq');

const [mode, port, name, nStr, arg] = process.argv.slice(2);
const n = Number(nStr);
const connection = { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null };

function opts(keep) {
  return keep === '1' ? {} : { removeOnComplete: true };
}

async function add(bulk) {
  const queue = new Queue(name, { connection });
  await queue.waitUntilReady();
  if (bulk) {
    for (let i = 0; i < n; i += 1000) {
      const jobs = [];
      for (let j = i; j < Math.min(n, i + 1000); j++) jobs.push({ name: 'noop', data: { i: j }, opts: opts(arg) });
      await queue.addBulk(jobs);
    }
  } else {
    for (let i = 0; i < n; i++) await queue.add('noop', { i }, opts(arg));
  }
  process.stdout.write('added\n');
  await queue.close();
}

async function work() {
  let done = 0;
  const worker = new Worker(name, async () => {}, { connection, concurrency: Number(arg), autorun: false });
  worker.on('completed', () => {
    if (++done === n) {
      process.stdout.write('done\n');
      worker.close().then(() => process.exit(0));
    }
  });
  worker.on('failed', (job, err) => {
    process.stderr.write('failed: ' + err + '\n');
    process.exit(1);
  });
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
  process.stdin.once('data', () => worker.run());
}

const run = mode === 'worker' ? work() : add(mode === 'add');
run.catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
