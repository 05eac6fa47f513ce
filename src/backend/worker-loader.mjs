// Starts a worker thread's TypeScript entry when tscnn runs from source under tsx (tests, bench,
// examples): tsx's hooks are not inherited by worker threads on Node 20, so the worker registers
// them before importing its entry. The built package (dist/) starts its compiled entries directly.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
