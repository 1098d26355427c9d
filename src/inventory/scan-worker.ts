/**
 * Worker entry for `scanCertificates` (scan.ts): waits for the file list, takes
 * batches from the shared counter until the list is done, then posts its
 * records back. Built as its own entry point (dist/scan-worker.js).
 */
import { parentPort } from 'node:worker_threads';
import { stealBatches, type ScanJob } from './scan.js';

parentPort?.once('message', (job: ScanJob) => {
  // One JSON string is cheaper to hand over than thousands of small cloned objects.
  parentPort!.postMessage(JSON.stringify(stealBatches(job.hostPaths, job.nodePaths, job.counter, job.batch, job.maxSize)));
});
