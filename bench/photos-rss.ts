// Peak resident memory of a fresh process that streams a folder of photos with cache: 'file':
// `node --import tsx bench/photos-rss.ts DIR`. Epoch 1 decodes (default options) and writes the
// cache file, epoch 2 reads it. Prints one JSON line. Peak from VmHWM (see bench/rss.ts for why).
import { readFileSync, rmSync } from 'node:fs';
import { imageDatasetFromDirectory } from '../src/index.js';

function peakMB(): { mb: number; source: string } {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return { mb: Number(m[1]) / 1024, source: 'VmHWM' };
  } catch {
    // not Linux
  }
  return { mb: process.resourceUsage().maxRSS / 1024, source: 'maxRSS' };
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: bench/photos-rss.ts DIR');
const cache = `${dir}.rss-cache`;
rmSync(cache, { force: true });
const ds = await imageDatasetFromDirectory(dir, { imageSize: [100, 100], batchSize: 32, seed: 1, rescale: 1 / 255, cache });
const epochs: number[] = [];
for (let e = 0; e < 2; e++) {
  const t = performance.now();
  let n = 0;
  for await (const b of ds.batches({ epoch: e })) n += b.x.shape[0];
  epochs.push(n / ((performance.now() - t) / 1000));
}
rmSync(cache, { force: true });
const peak = peakMB();
console.log(JSON.stringify({ images: ds.size, epochs, peakMB: peak.mb, source: peak.source }));
process.exit(0);
