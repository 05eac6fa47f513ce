// The one "unknown option" check: every layer, op, model method, callback and data function
// rejects a misspelt key with the same message, naming the owner, the key and what is known.

/**
 * Throws `owner: unknown option 'key'; known: a, b` for the first key of `options` outside
 * `allowed`. `undefined` options pass.
 *
 * @example
 * checkOptionKeys('fit', { epoch: 3 }, ['epochs', 'batchSize']); // throws "fit: unknown option 'epoch'; known: epochs, batchSize"
 */
export function checkOptionKeys(owner: string, options: object | undefined, allowed: Iterable<string>): void {
  if (options === undefined) return;
  const known = [...allowed];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new Error(`${owner}: unknown option '${key}'; known: ${known.join(', ') || 'none'}`);
  }
}
