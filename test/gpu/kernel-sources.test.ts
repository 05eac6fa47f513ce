// Kernel sources as gpu.js parses them: no bundler artefacts, in tsx and in dist/.
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KERNEL_FUNCTIONS } from '../../src/backend/gpu/index.js';

const ARTEFACTS = ['(0, import_', '__name(', 'import_', 'require('];

// In 'webgpu' the device worker compiles exactly this text (fn.toString() is what it is sent).
test('kernel sources as gpu.js sees them carry no bundler artefacts (tsx)', () => {
  const names = Object.keys(KERNEL_FUNCTIONS);
  assert.ok(names.length >= 24, `only ${names.length} kernels`);
  for (const [name, fn] of Object.entries(KERNEL_FUNCTIONS)) {
    const src = fn.toString();
    assert.ok(src.startsWith('function '), `${name}: source does not start with 'function ': ${src.slice(0, 40)}`);
    for (const bad of ARTEFACTS) assert.not.ok(src.includes(bad), `${name}: source contains '${bad}'`);
  }
});

// gpu.js compiles the text of each kernel function. In the bundles, esbuild may rename a kernel
// (`add` → `add2`) and its parameters (`mean` → `mean2`) and print numbers and semicolons its own
// way; anything else would change the kernel gpu.js sees. So each kernel of every bundle must be
// token for token the source's, up to a consistent renaming of non-member identifiers.
const KEYWORDS = new Set(['function', 'return', 'const', 'let', 'var', 'if', 'else', 'for', 'while', 'break', 'continue', 'this', 'Math', 'true', 'false']);

function tokens(text: string): string[] {
  const out = text.match(/[A-Za-z_$][\w$]*|(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|[=!<>]=?=?|&&|\|\||[+\-*/%]=?|\S/g) ?? [];
  return out.filter((t) => t !== ';').map((t) => (/^[\d.]/.test(t) ? String(Number(t)) : t));
}

/** Whether `dist` is `src` up to a one-to-one renaming of identifiers that are not members or keywords. */
function sameKernel(src: string[], dist: string[]): boolean {
  if (src.length !== dist.length) return false;
  const fwd = new Map<string, string>();
  const back = new Map<string, string>();
  for (let i = 0; i < src.length; i++) {
    const [a, b] = [src[i], dist[i]];
    const renamable = /^[A-Za-z_$]/.test(a) && !KEYWORDS.has(a) && src[i - 1] !== '.';
    if (!renamable) {
      if (a !== b) return false;
      continue;
    }
    if ((fwd.get(a) ?? b) !== b || (back.get(b) ?? a) !== a) return false;
    fwd.set(a, b);
    back.set(b, a);
  }
  return true;
}

/** The text of every function declaration named `name` or `name<digits>` in `text`. */
function declarations(text: string, name: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(new RegExp(`function ${name}\\d*\\(`, 'g'))) {
    let depth = 0;
    let i = text.indexOf('{', m.index);
    for (; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) break;
    }
    found.push(text.slice(m.index, i + 1));
  }
  return found;
}

for (const bundle of ['index.js', 'index.cjs', 'index.browser.js']) {
  test(`kernel sources in dist/${bundle} are the sources gpu.js is given from tsx (after npm run build)`, () => {
    const file = new URL(`../../dist/${bundle}`, import.meta.url);
    if (!existsSync(file)) {
      console.log(`test/gpu: dist/${bundle} missing: run \`npm run build\` first; dist check SKIPPED`);
      return;
    }
    const text = readFileSync(file, 'utf8');
    for (const [name, fn] of Object.entries(KERNEL_FUNCTIONS)) {
      const want = tokens(fn.toString());
      const candidates = declarations(text, name);
      assert.ok(candidates.length > 0, `dist/${bundle} has no 'function ${name}(' or renamed '${name}N(' (minified?)`);
      const match = candidates.find((c) => sameKernel(want, tokens(c)));
      assert.ok(match, `dist/${bundle}: no declaration of ${name} matches its source; first candidate:\n${candidates[0].slice(0, 300)}`);
      for (const bad of ARTEFACTS) assert.not.ok(match.includes(bad), `dist/${bundle} ${name}: source contains '${bad}'`);
    }
  });
}

test.run();
