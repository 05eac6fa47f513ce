// Runs every test/**/*.test.ts file through uvu in one process and ends with the line
// "N passed, N failed" counted from uvu's own totals. `npm test -- conv` runs only the
// files whose path contains "conv".
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname);
const filters = process.argv.slice(2);

function collect(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = collect(root).filter((f) => filters.length === 0 || filters.some((p) => relative(root, f).includes(p)));
if (files.length === 0) {
  console.error(`test/run: no test files match ${JSON.stringify(filters)}`);
  process.exit(1);
}

let captured = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
  if (captured.length > 1 << 16) captured = captured.slice(-4096);
  return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

(globalThis as { UVU_DEFER?: number }).UVU_DEFER = 1;
const uvu = await import('uvu');
const queue = (globalThis as unknown as { UVU_QUEUE: unknown[][] }).UVU_QUEUE;
let index = 0;
for (const file of files) {
  (globalThis as { UVU_INDEX?: number }).UVU_INDEX = index++;
  queue.push([relative(root, file)]);
  await import(pathToFileURL(file).href);
}
await uvu.exec(false);
process.stdout.write = write;

// eslint-disable-next-line no-control-regex
const plain = captured.replace(/\x1b\[[0-9;]*m/g, '');
const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
if (!Number.isFinite(total) || !Number.isFinite(passed)) {
  console.log('0 passed, 1 failed');
  console.error('test/run: could not read uvu totals');
  process.exitCode = 1;
} else {
  // uvu's Total already leaves out skipped tests.
  const failed = total - passed;
  if (failed > 0) process.exitCode = 1;
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
}
