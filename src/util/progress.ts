import type { Logs } from '../train/callbacks.js';
import { outIsTTY, writeOut } from './host.js';

/** Formats logs as Keras does: `loss: 0.4213 - precision: 0.8810 - val_loss: 0.3012`. */
export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .map(([k, v]) => `${k}: ${Number.isFinite(v) ? v.toFixed(4) : String(v)}`)
    .join(' - ');
}

function formatDuration(ms: number): string {
  if (ms >= 3_600_000) return `${Math.floor(ms / 3_600_000)}:${String(Math.floor((ms % 3_600_000) / 60_000)).padStart(2, '0')}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;
  if (ms >= 60_000) return `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;
  return `${Math.round(ms / 1000)}s`;
}

/**
 * Keras-like progress for one epoch. On a terminal the line is redrawn after each batch with a bar
 * and an ETA; elsewhere (logs, CI) only the finished line is printed.
 */
export class ProgressLine {
  private readonly start = performance.now();
  private readonly tty: boolean;
  private lastDraw = 0;

  constructor(
    private readonly total: number,
    private readonly write: (s: string) => void = writeOut,
    tty = outIsTTY(),
  ) {
    this.tty = tty;
  }

  private bar(done: number): string {
    const width = 20;
    const filled = this.total > 0 ? Math.round((done / this.total) * width) : width;
    return '━'.repeat(filled) + (filled < width ? '─'.repeat(width - filled) : '');
  }

  /** After batch `done` (1-based) of the epoch. */
  update(done: number, logs: Logs): void {
    if (!this.tty) return;
    const now = performance.now();
    if (done < this.total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const elapsed = now - this.start;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : 0;
    const width = String(this.total).length;
    this.write(`\r${String(done).padStart(width)}/${this.total} ${this.bar(done)} ETA ${formatDuration(eta)} - ${formatLogs(logs)}\x1b[K`);
  }

  /** The epoch's closing line, with validation values. */
  finish(done: number, logs: Logs): void {
    const elapsed = performance.now() - this.start;
    const perStep = done > 0 ? elapsed / done : 0;
    const width = String(this.total).length;
    const head = `${String(done).padStart(width)}/${this.total} ${this.bar(done)} ${formatDuration(elapsed)} ${Math.round(perStep)}ms/step`;
    this.write(`${this.tty ? '\r' : ''}${head} - ${formatLogs(logs)}${this.tty ? '\x1b[K' : ''}\n`);
  }
}
