/**
 * A one-line progress bar on stderr. On a TTY it redraws in place (at most every 100 ms);
 * elsewhere (forced with `progress: true`) it prints a line every 2 s and a final line.
 */
export class ProgressBar {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /** Whether a bar should be shown: `progress` when given, otherwise only on a TTY. */
  static enabled(progress: boolean | undefined): boolean {
    return progress ?? Boolean(process.stderr.isTTY);
  }

  setTotal(total: number): void {
    this.total = total;
  }

  tick(n = 1): void {
    this.done += n;
    const now = Date.now();
    if (now - this.lastDraw >= (this.tty ? 100 : 2000)) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  finish(note = ''): void {
    this.draw(true, note);
  }

  private draw(final: boolean, note = ''): void {
    const width = 30;
    const frac = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const filled = Math.round(frac * width);
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    const bar = `${this.label} [${'='.repeat(filled)}${filled < width ? '>' : ''}${'.'.repeat(Math.max(0, width - filled - 1))}] ${this.done}/${this.total} ${secs}s${note ? ' ' + note : ''}`;
    if (this.tty) this.stream.write(`\r${bar}\x1b[K${final ? '\n' : ''}`);
    else this.stream.write(`${bar}\n`);
  }
}
