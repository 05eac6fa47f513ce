/**
 * The calling process's Node options for a worker thread, less `--input-type`: Node passes
 * `-e`/`-p` code to no worker, and a worker started with `--input-type` alone exits before it runs
 * (`node --input-type=module -e "…"` is how scripts and one-liners import an ES module).
 */
export function workerExecArgv(argv: readonly string[] = globalThis.process?.execArgv ?? []): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input-type') i++;
    else if (!argv[i].startsWith('--input-type=')) out.push(argv[i]);
  }
  return out;
}
