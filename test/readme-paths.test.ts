// The README's Architecture section is the newcomer's map: every file or folder it names in
// backticks (src/…, asm/…, kernels/…, test/…) must exist, so a rename that forgets the map fails here.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The text of the `## Architecture` section, up to the next `## ` heading. */
function architectureSection(text: string): string {
  const start = text.indexOf('\n## Architecture\n');
  if (start < 0) throw new Error('README.md: no "## Architecture" section');
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

/** Backticked repository paths in `text`, e.g. `src/backend/wasm/engine.ts` or `test/ops/`. */
function repoPaths(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/`((?:src|asm|kernels|test)\/[^`\s]*)`/g)) found.add(m[1]);
  return [...found];
}

test('repoPaths finds backticked paths and ignores the rest', () => {
  assert.equal(repoPaths('a `src/x.ts` b `asm/` c `fit` d `test/ops/` e src/y.ts'), ['src/x.ts', 'asm/', 'test/ops/']);
});

test('README Architecture: the section names files, and every one exists', () => {
  const paths = repoPaths(architectureSection(readme));
  assert.ok(paths.length >= 30, `expected the file map and op table to name at least 30 paths, found ${paths.length}`);
  const missing = paths.filter((p) => !existsSync(root + p));
  assert.equal(missing, [], `README Architecture names paths that do not exist: ${missing.join(', ')}`);
});

test.run();
