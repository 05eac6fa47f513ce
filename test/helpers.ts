// Shared test helpers: tolerance comparison that reports where and how badly it failed, a
// deterministic random source, and central-difference numeric gradients in float64.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackend, listBackends, setBackend, type BackendName } from '../src/backend/index.js';
import { Layer, type ForwardContext } from '../src/layers/layer.js';
import type { Tensor } from '../src/tensor.js';

/**
 * Registers `body` once per backend in listBackends() (new backends get the same tests), named
 * `[backend] name`, with that backend active while it runs (`getBackend()` inside `body`). Tests
 * are deferred, so the backend is chosen inside the test, never at import time.
 */
export function backendTest(name: string, body: () => void | Promise<void>): void {
  for (const backend of listBackends()) {
    test(`[${backend}] ${name}`, async () => {
      // Put the previous backend back afterwards: later suites may rely on the default.
      const previous = getBackend().name;
      setBackend(backend);
      try {
        await body();
      } finally {
        if ((listBackends() as string[]).includes(previous)) setBackend(previous as BackendName);
      }
    });
  }
}

/** Tolerances of {@link assertClose}: |actual − expected| ≤ atol + rtol·|expected|, element-wise. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * Asserts element-wise closeness with an absolute AND a relative tolerance. On failure the
 * message names the first bad index, both values there, and the max abs and rel errors.
 */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { atol, rtol }: Tolerance, what = 'values'): void {
  assert.is(actual.length, expected.length, `${what}: length ${actual.length} vs expected ${expected.length}`);
  let maxAbs = 0;
  let maxRel = 0;
  let firstBad = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const err = Math.abs(a - e);
    const bad = !(err <= atol + rtol * Math.abs(e)) || Number.isNaN(a) !== Number.isNaN(e);
    if (Number.isFinite(err)) {
      maxAbs = Math.max(maxAbs, err);
      if (e !== 0) maxRel = Math.max(maxRel, err / Math.abs(e));
    }
    if (bad && firstBad < 0) firstBad = i;
  }
  if (firstBad >= 0) {
    assert.unreachable(
      `${what}: first bad index ${firstBad}: got ${actual[firstBad]}, expected ${expected[firstBad]}; ` +
        `max abs error ${maxAbs.toExponential(3)}, max rel error ${maxRel.toExponential(3)} (atol ${atol}, rtol ${rtol})`,
    );
  }
}

/** A scalar version of {@link assertClose}. */
export function assertNear(actual: number, expected: number, tol: Tolerance, what = 'value'): void {
  assertClose([actual], [expected], tol, what);
}

/** Asserts bit-identical arrays, naming the first differing index. */
export function assertIdentical(actual: ArrayLike<number>, expected: ArrayLike<number>, what = 'values'): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.unreachable(`${what}: index ${i} differs: ${actual[i]} vs ${expected[i]}`);
  }
}

/** Asserts two weight lists (as `getWeights()` returns) are bit-identical. */
export function assertSameWeights(actual: Tensor[], expected: Tensor[], what = 'weights'): void {
  assert.is(actual.length, expected.length, `${what}: count`);
  actual.forEach((w, i) => {
    assert.equal([...w.shape], [...expected[i].shape], `${what}[${i}] shape`);
    assertIdentical(w.values, expected[i].values, `${what}[${i}]`);
  });
}

/** Deterministic uniform [0, 1) numbers (mulberry32), independent of the library's generator. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` float32 values uniform in [lo, hi) from `seed`. */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/**
 * Central-difference gradient of `f` at the float32 point `x`, computed in float64:
 * dL/dx_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / (x_i⁺ − x_i⁻). The perturbed coordinate lives in a
 * Float32Array (the layers compute in float32), so the step actually taken is
 * fround(x_i + h) − fround(x_i − h), and that is what we divide by, not 2h. `x` is restored.
 */
export function numericGradient(f: () => number, x: Float32Array, h: number): Float64Array {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const orig = x[i];
    x[i] = orig + h;
    const up = x[i];
    const fUp = f();
    x[i] = orig - h;
    const down = x[i];
    const fDown = f();
    x[i] = orig;
    grad[i] = (fUp - fDown) / (up - down);
  }
  return grad;
}

/** Σ r_i·y_i in float64: the scalar whose gradient w.r.t. y is r. */
export function dot(r: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += r[i] * y[i];
  return s;
}

/** Awaits `promise` and asserts it rejects with a message matching `pattern`; returns the message. */
export async function rejects(promise: Promise<unknown>, pattern: RegExp, what = 'call'): Promise<string> {
  try {
    await promise;
  } catch (e) {
    const msg = (e as Error).message;
    assert.match(msg, pattern, `${what}: message ${JSON.stringify(msg)} does not match ${pattern}`);
    return msg;
  }
  assert.unreachable(`${what}: expected a rejection matching ${pattern}, but it resolved`);
  return '';
}

/** Asserts `fn` throws with a message matching `pattern`; returns the message. */
export function throws(fn: () => unknown, pattern: RegExp, what = 'call'): string {
  try {
    fn();
  } catch (e) {
    const msg = (e as Error).message;
    assert.match(msg, pattern, `${what}: message ${JSON.stringify(msg)} does not match ${pattern}`);
    return msg;
  }
  assert.unreachable(`${what}: expected an error matching ${pattern}, but none was thrown`);
  return '';
}

/** The console.warn lines printed while `fn` runs (console.warn is restored after). */
export async function warnings(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args.join(' '));
  try {
    await fn();
  } finally {
    console.warn = original;
  }
  return seen;
}

/** Runs `body` with the cpu backend on `count` threads, then back to the default cpu backend. */
export function withThreads(count: number, body: () => void): void {
  setBackend('cpu', { threads: count });
  try {
    body();
  } finally {
    setBackend('cpu');
  }
}

/**
 * A user's own layer, which tscnn has no ONNX mapping and no saved config for: the identity, with
 * one weight (so a model holding it has weights to draw).
 */
export class CustomLayer extends Layer {
  readonly className = 'Custom';
  constructor(config: { inputShape?: number[] } = {}) {
    super(config, 'Custom');
    this.addWeight('w', [1], 'ones');
  }
  computeOutputShape(s: readonly number[]): number[] {
    return [...s];
  }
  forward(x: Tensor, _ctx: ForwardContext): Tensor {
    return x;
  }
  backward(dy: Tensor): Tensor {
    return dy;
  }
}
