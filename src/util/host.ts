// What training needs from its host beyond the language, with a browser's equivalent beside Node's:
// Node's process.stdout and setImmediate do not exist in a web page (or a Web Worker).

interface NodeStdout {
  write(s: string): unknown;
  isTTY?: boolean;
}

function nodeStdout(): NodeStdout | undefined {
  return (globalThis as { process?: { stdout?: NodeStdout } }).process?.stdout;
}

let pending = '';

/** Progress text: to Node's stdout; elsewhere each finished line to `console.log` (no terminal to redraw). */
export function writeOut(s: string): void {
  const stdout = nodeStdout();
  if (stdout) {
    stdout.write(s);
    return;
  }
  pending += s;
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) console.log(line);
}

/** Whether progress may redraw its line in place: only on Node's stdout when it is a terminal. */
export function outIsTTY(): boolean {
  return Boolean(nodeStdout()?.isTTY);
}

const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;

/** Lets timers, I/O and (in a page) rendering run: `setImmediate` in Node, a zero `setTimeout` elsewhere. */
export function yieldToHost(): Promise<void> {
  return new Promise<void>((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}
