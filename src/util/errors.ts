/**
 * Runs `fn`; an error it throws is rethrown naming `op`, the public entry point the user
 * called, instead of an internal lookup (`getLoss: unknown loss` → `compile: unknown loss`).
 * Other prefixes (`SGD: learningRate …`) are kept after `op`. The original is the `cause`.
 */
export function renameErrors<T>(op: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    const message = e.message.replace(/^get[A-Z]\w*: /, '');
    throw new Error(`${op}: ${message}`, { cause: e });
  }
}
