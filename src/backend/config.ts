// The settings of the `cpu` backend's WebAssembly engine, in one place: what `setBackend('cpu',
// options)` accepts, the environment variables that supply defaults, and the effective values the
// engine reads. The environment is read here only, and only when a backend starts (setBackend, or
// the first op that needs the engine), so a bad value fails there and never at `import 'tscnn'`.
import { checkOptionKeys } from '../util/options.js';
import { platform } from './wasm/platform.js';

/** Most threads the engine runs (one control block each in its memory). */
export const MAX_THREADS = 64;

/** Convolution algorithm for 3×3 stride-1 layers: 0 im2col + GEMM, 2 Winograd F(2×2, 3×3) (F(4×4) for fused inference conv + pool and the input gradient), 4 F(4×4, 3×3). */
export type WinogradSetting = 0 | 2 | 4;

/**
 * Which WebAssembly build runs: `'auto'` the relaxed-SIMD build (fused multiply-add) where
 * WebAssembly accepts it as the process stands (Node ≥ 22), else plain SIMD; `'force'` also
 * switches on V8's `--experimental-wasm-relaxed-simd` for the whole process where needed (Node 20);
 * `'off'` always plain SIMD (bit-identical results across x64 CPUs with and without FMA).
 */
export type RelaxedSimdSetting = 'auto' | 'force' | 'off';

/** Options of `setBackend('cpu', options)`; each one left out takes its environment variable, else its default. */
export interface CpuBackendOptions {
  /**
   * Most threads (the calling one included) a large op is split over; each op uses fewer when
   * its work is small. Default: TSCNN_THREADS, else `os.availableParallelism()`; at most 64.
   */
  threads?: number;
  /**
   * 3×3 stride-1 convolutions: 2 (default: Winograd F(4×4) for an inference convolution whose 2×2
   * max pool runs fused with it, the input gradient and the forwards with at least 512 channel
   * pairs, F(2×2) for narrower forwards, F(3×3, 4×4) for the filter gradient), 4 (F(4×4) wherever
   * it can) or 0 (im2col + GEMM). Env: TSCNN_WINOGRAD.
   */
  winograd?: WinogradSetting;
  /** See {@link RelaxedSimdSetting}; default `'auto'`. Env: TSCNN_WASM_RELAXED (`auto`, `force`/`1`, `off`/`0`). */
  relaxedSimd?: RelaxedSimdSetting;
  /**
   * Whether ops inside a model step leave large outputs in the engine's memory for the next op
   * (default true) or copy them out. Env: TSCNN_RESIDENT (`1`, `0`).
   */
  residentOutputs?: boolean;
}

/** The effective settings of the `cpu` engine (every option resolved). */
export interface CpuBackendConfig {
  threads: number;
  winograd: WinogradSetting;
  relaxedSimd: RelaxedSimdSetting;
  residentOutputs: boolean;
}

/** Where defaults come from; tests pass their own (a stubbed core count, an environment). */
export interface ConfigSources {
  env: Record<string, string | undefined>;
  /** Cores the machine offers (`os.availableParallelism()`). */
  cores: number;
}

const KNOWN: (keyof CpuBackendOptions)[] = ['threads', 'winograd', 'relaxedSimd', 'residentOutputs'];

function threadsFrom(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_THREADS) {
    throw new Error(`setBackend('cpu'): ${where} must be an integer in [1, ${MAX_THREADS}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function winogradFrom(value: unknown, where: string): WinogradSetting {
  if (value !== 0 && value !== 2 && value !== 4) {
    throw new Error(`setBackend('cpu'): ${where} must be 0 (im2col + GEMM), 2 (F(2×2, 3×3)) or 4 (F(4×4, 3×3)), got ${JSON.stringify(value)}`);
  }
  return value;
}

function relaxedFrom(value: unknown, where: string): RelaxedSimdSetting {
  if (value !== 'auto' && value !== 'force' && value !== 'off') {
    throw new Error(`setBackend('cpu'): ${where} must be 'auto', 'force' or 'off', got ${JSON.stringify(value)}`);
  }
  return value;
}

function envValue(env: ConfigSources['env'], name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * The effective settings for `options` (validated; unknown keys and bad values throw, naming
 * them), with defaults from `sources`. Pure: changes nothing.
 * @example
 * resolveCpuConfig({ threads: 4 }, { env: {}, cores: 16 }); // { threads: 4, winograd: 2, relaxedSimd: 'auto', residentOutputs: true }
 */
export function resolveCpuConfig(options: CpuBackendOptions = {}, sources: ConfigSources = defaultSources()): CpuBackendConfig {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new Error(`setBackend('cpu'): options must be an object, got ${JSON.stringify(options)}`);
  }
  checkOptionKeys("setBackend('cpu')", options, KNOWN);
  const { env, cores } = sources;

  let threads: number;
  if (options.threads !== undefined) threads = threadsFrom(options.threads, 'threads');
  else {
    const v = envValue(env, 'TSCNN_THREADS');
    threads = v === undefined ? Math.max(1, Math.min(cores, MAX_THREADS)) : threadsFrom(Number(v), `TSCNN_THREADS (${JSON.stringify(v)})`);
  }

  let winograd: WinogradSetting;
  if (options.winograd !== undefined) winograd = winogradFrom(options.winograd, 'winograd');
  else {
    const v = envValue(env, 'TSCNN_WINOGRAD');
    winograd = v === undefined ? 2 : winogradFrom(Number(v), `TSCNN_WINOGRAD (${JSON.stringify(v)})`);
  }

  let relaxedSimd: RelaxedSimdSetting;
  if (options.relaxedSimd !== undefined) relaxedSimd = relaxedFrom(options.relaxedSimd, 'relaxedSimd');
  else {
    const v = envValue(env, 'TSCNN_WASM_RELAXED');
    const alias: Record<string, string> = { '0': 'off', '1': 'force' };
    relaxedSimd = v === undefined ? 'auto' : relaxedFrom(alias[v] ?? v, `TSCNN_WASM_RELAXED (${JSON.stringify(v)})`);
  }

  let residentOutputs: boolean;
  if (options.residentOutputs !== undefined) {
    if (typeof options.residentOutputs !== 'boolean') {
      throw new Error(`setBackend('cpu'): residentOutputs must be true or false, got ${JSON.stringify(options.residentOutputs)}`);
    }
    residentOutputs = options.residentOutputs;
  } else {
    const v = envValue(env, 'TSCNN_RESIDENT');
    if (v !== undefined && v !== '0' && v !== '1') throw new Error(`setBackend('cpu'): TSCNN_RESIDENT must be 0 or 1, got ${JSON.stringify(v)}`);
    residentOutputs = v !== '0';
  }
  return { threads, winograd, relaxedSimd, residentOutputs };
}

/** The process's environment and core count (in a browser: no environment; the cores where workers can share memory, else 1). */
export function defaultSources(): ConfigSources {
  return { env: platform.env(), cores: platform.cores() };
}

let current: CpuBackendConfig | null = null;
const listeners: ((next: CpuBackendConfig, previous: CpuBackendConfig | null) => void)[] = [];

/**
 * The engine's effective settings; resolved from the environment on first use when no
 * `setBackend('cpu', …)` has set them (the backend starting).
 */
export function cpuConfig(): CpuBackendConfig {
  if (current === null) applyCpuConfig(resolveCpuConfig());
  return current as CpuBackendConfig;
}

/** Makes `config` the effective settings and tells the engine (threads restart, build change). */
export function applyCpuConfig(config: CpuBackendConfig): void {
  const previous = current;
  current = Object.freeze({ ...config });
  for (const listen of listeners) listen(current, previous);
}

/** Runs `listen` on every change of the settings (the engine stops its workers, swaps its build). */
export function onCpuConfigChange(listen: (next: CpuBackendConfig, previous: CpuBackendConfig | null) => void): void {
  listeners.push(listen);
}
