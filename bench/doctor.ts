// Overhead of the training doctor (src/train/doctor) on the seed model's training step.
//
//   npx tsx bench/doctor.ts [--size 100] [--steps 8] [--rounds 9]
//
// Two measurements in one process:
// - the time spent inside the doctor's hooks, accumulated by wrapping each Doctor method with a
//   clock: per step (weight copy, update ratios and finiteness, ReLU sampling, loss bookkeeping)
//   and per epoch (the epoch-end checks, bn-statistics' inference pass included);
// - fit with the doctor against fit with `diagnose: false`, in alternation (pairedRatio), one
//   epoch of `steps` batches of 32 per call: the end-to-end ratio, noisy on a shared machine.
import { parseArgs } from 'node:util';
import { setBackend } from '../src/index.js';
import { Doctor } from '../src/train/doctor/index.js';
import { pairedRatio } from './harness.js';
import { buildSeedModel, batchTensors } from './models.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '100' }, steps: { type: 'string', default: '8' }, rounds: { type: 'string', default: '9' } } });
const size = Number(values.size);
const steps = Number(values.steps);
const rounds = Number(values.rounds);
setBackend('cpu');

const perStep = ['beginStep', 'afterUnit', 'outputFinite', 'lossFinite', 'afterUpdate', 'afterBatch', 'observeValidation'] as const;
const spent = { step: 0, epoch: 0 };
const proto = Doctor.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const name of [...perStep, 'endEpoch']) {
  const original = proto[name];
  const bucket = name === 'endEpoch' ? 'epoch' : 'step';
  proto[name] = function (this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      spent[bucket] += performance.now() - t0;
    }
  };
}

const model = buildSeedModel(size); // SGD 1e-4, binaryCrossentropy, precision/recall/accuracy
const { x, y } = batchTensors(32 * steps, size);
const fit = (diagnose: boolean) => () => model.fit(x, y, { epochs: 1, batchSize: 32, verbose: 0, diagnose, seed: 1 });

// Step time without the doctor, and the doctor's own time, over `rounds` epochs.
let plain = 0;
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  await fit(false)();
  plain += performance.now() - t0;
}
spent.step = spent.epoch = 0;
for (let r = 0; r < rounds; r++) await fit(true)();
const stepMs = plain / (rounds * steps);
const hookMs = spent.step / (rounds * steps);
const epochMs = spent.epoch / rounds;
console.log(`seed model ${size}×${size}, batch 32, ${steps} steps per epoch, ${rounds} epochs each way`);
console.log(`training step without the doctor: ${stepMs.toFixed(1)} ms`);
console.log(`doctor hooks per step: ${hookMs.toFixed(2)} ms = ${((100 * hookMs) / stepMs).toFixed(2)} % of a step`);
console.log(`doctor epoch-end checks: ${epochMs.toFixed(1)} ms per epoch = ${((100 * epochMs) / stepMs).toFixed(1)} % of one step (÷ steps per epoch: ${((100 * epochMs) / (stepMs * 60)).toFixed(2)} % at the example's 60 steps)`);
const paired = await pairedRatio('doctor', fit(false), fit(true), rounds);
console.log(`paired fit with / without the doctor (${steps} steps + epoch end per call, ${rounds} rounds): median ${paired.median.toFixed(3)} (min ${paired.min.toFixed(3)}, max ${paired.max.toFixed(3)})`);
