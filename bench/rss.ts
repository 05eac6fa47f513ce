// Peak resident memory of training steps, in a fresh process so that nothing else the bench did
// counts: `node --import tsx bench/rss.ts --engine cpu --batch 32 --size 100 --steps 2`.
// Prints one JSON line of peak-RSS readings (MB): before the library is imported (Node + tsx),
// before the first step (library loaded, model built, batch made), and after the last step.
//
// On Linux the peak is VmHWM from /proc/self/status: process.resourceUsage().maxRSS would carry
// over the parent's resident size at fork (the kernel keeps the pre-exec high-water mark), so a
// child spawned by a big bench process would report the parent's memory. Elsewhere: maxRSS.
import { readFileSync } from 'node:fs';

function peakMB(): { mb: number; source: string } {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return { mb: Number(m[1]) / 1024, source: 'VmHWM' };
  } catch {
    // not Linux
  }
  return { mb: process.resourceUsage().maxRSS / 1024, source: 'maxRSS' };
}
const start = peakMB();

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
};
const engine = arg('engine', 'cpu');
const batch = Number(arg('batch', '32'));
const size = Number(arg('size', '100'));
const steps = Number(arg('steps', '2'));
if (engine === 'tfjs-wasm') {
  const { loadPeers, buildTfModel, tf } = await import('./peers.js');
  const { randomBatch } = await import('./models.js');
  await loadPeers();
  const model = buildTfModel(size);
  const { x, y } = randomBatch(batch, size);
  const tx = tf.tensor4d(x, [batch, size, size, 3]);
  const ty = tf.tensor2d(y, [batch, 1]);
  const before = peakMB().mb;
  for (let i = 0; i < steps; i++) await model.trainOnBatch(tx, ty);
  const after = peakMB().mb;
  console.log(JSON.stringify({ engine, batch, size, steps, source: start.source, startMB: start.mb, baselineMB: before, peakMB: after }));
} else {
  const { setBackend } = await import('../src/index.js');
  const { batchTensors, buildSeedModel } = await import('./models.js');
  setBackend(engine as 'cpu');
  const model = buildSeedModel(size);
  const { x, y } = batchTensors(batch, size);
  const before = peakMB().mb;
  for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
  const after = peakMB().mb;
  console.log(JSON.stringify({ engine, batch, size, steps, source: start.source, startMB: start.mb, baselineMB: before, peakMB: after }));
}
process.exit(0);
