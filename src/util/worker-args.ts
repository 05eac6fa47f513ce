/**
 * The options a worker thread is started with: the calling process's (Node's default), less
 * `--input-type`. Node passes `-e`/`-p` code to no worker, and a worker given `--input-type`
 * alone exits before it runs (`node --input-type=module -e "…"` is how scripts and one-liners
 * import an ES module). Undefined, so that Node's own inheritance applies, when there is nothing
 * to leave out: an explicit list is checked, and Node refuses V8 and per-process options in it
 * (`--stack-size`, `--experimental-wasm-*`), which it inherits silently.
 */
export function workerExecArgv(argv: readonly string[] = globalThis.process?.execArgv ?? []): string[] | undefined {
  if (!argv.some((a) => a === '--input-type' || a.startsWith('--input-type='))) return undefined;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input-type') i++;
    else if (!argv[i].startsWith('--input-type=')) out.push(argv[i]);
  }
  return out;
}

/**
 * Starts a worker through `create` with {@link workerExecArgv}; where Node refuses some of those
 * options for a worker (ERR_WORKER_INVALID_EXEC_ARGV names them), starts it without them.
 */
export function startWithExecArgv<T>(create: (execArgv: string[] | undefined) => T): T {
  const argv = workerExecArgv();
  try {
    return create(argv);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (!argv || err.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
    const refused = (err.message ?? '').replace(/^.*flags:\s*/, '').split(/,\s*/).filter(Boolean);
    return create(argv.filter((a) => !refused.includes(a)));
  }
}
