// Checks of callback configurations: unknown keys throw (a misspelt `patienc` or
// `onEpochEnds` was silently ignored) and values have the right type.
import { checkOptionKeys } from '../util/options.js';
import { hasOwn } from '../util/own-map.js';

const HOOKS = ['setModel', 'onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'];
const EARLY_STOPPING_KEYS = ['monitor', 'minDelta', 'patience', 'mode', 'baseline', 'restoreBestWeights'];

/** Throws naming `owner` and the key when `config` is not an object or holds a key outside `allowed`. */
export function checkConfigKeys(owner: string, config: unknown, allowed: readonly string[]): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error(`${owner}: expected an options object, got ${String(config)}`);
  checkOptionKeys(owner, config, allowed);
}

/** EarlyStopping's options: known keys, a string monitor, finite numbers, a known mode. */
export function checkEarlyStoppingConfig(config: unknown): void {
  checkConfigKeys('EarlyStopping', config, EARLY_STOPPING_KEYS);
  const c = config as Record<string, unknown>;
  const bad = (key: string, expected: string): never => {
    throw new Error(`EarlyStopping: ${key} must be ${expected}, got ${JSON.stringify(c[key])}`);
  };
  if (c.monitor !== undefined && (typeof c.monitor !== 'string' || c.monitor === '')) bad('monitor', 'a non-empty string');
  if (c.minDelta !== undefined && !(typeof c.minDelta === 'number' && Number.isFinite(c.minDelta))) bad('minDelta', 'a finite number');
  if (c.baseline !== undefined && !(typeof c.baseline === 'number' && Number.isFinite(c.baseline))) bad('baseline', 'a finite number');
  if (c.restoreBestWeights !== undefined && typeof c.restoreBestWeights !== 'boolean') bad('restoreBestWeights', 'true or false');
  if (c.mode !== undefined && c.mode !== 'auto' && c.mode !== 'min' && c.mode !== 'max') bad('mode', "'auto', 'min' or 'max'");
}

/** LambdaCallback's hooks: only the hook names of `Callback`, each a function (own keys only). */
export function checkHooks(hooks: unknown): void {
  checkConfigKeys('LambdaCallback', hooks, HOOKS);
  for (const key of HOOKS) {
    if (hasOwn(hooks as object, key) && typeof (hooks as Record<string, unknown>)[key] !== 'function') {
      throw new Error(`LambdaCallback: ${key} must be a function, got ${typeof (hooks as Record<string, unknown>)[key]}`);
    }
  }
}
