/**
 * Worker entry for `scanCertificates` (scan.ts): takes batches of the shared
 * file list from the shared counter until it is exhausted, then posts its
 * records back. Built as its own entry point (dist/scan-worker.js).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { stealBatches } from './scan.js';

interface ScanWorkerData {
  hostPaths: string[];
  nodePaths: string[];
  counter: Int32Array;
  batch: number;
  maxSize: number;
}

if (parentPort && workerData) {
  const d = workerData as ScanWorkerData;
  parentPort.postMessage(stealBatches(d.hostPaths, d.nodePaths, d.counter, d.batch, d.maxSize));
}
