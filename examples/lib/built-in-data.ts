import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateCatsDogs } from '../../src/data/index.js';

/** Options of the built-in synthetic set. */
export interface BuiltInDataOptions {
  count: number;
  /** Fraction of cats (the user had 25 % of one class). */
  catFraction: number;
  seed: number;
  cacheDir?: string;
}

/**
 * Generates the synthetic cats-vs-dogs set into a cache folder once (keyed by its options) and
 * returns the folder; later runs reuse it.
 */
export async function ensureBuiltInData(opts: BuiltInDataOptions): Promise<string> {
  const root = resolve(opts.cacheDir ?? join(import.meta.dirname, '..', '..', '.cache'));
  const dir = join(root, `cats-vs-dogs-n${opts.count}-cats${opts.catFraction}-seed${opts.seed}`);
  const marker = join(dir, '.complete');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === JSON.stringify(opts)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  process.stdout.write(`Generating ${opts.count} synthetic images (${Math.round(opts.catFraction * 100)} % cats) into ${dir} … `);
  const made = await generateCatsDogs({ outDir: dir, count: opts.count, catFraction: opts.catFraction, seed: opts.seed });
  writeFileSync(marker, JSON.stringify(opts));
  process.stdout.write(`${made.cats} cats, ${made.dogs} dogs in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return dir;
}
