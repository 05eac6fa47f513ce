// CSVLogger as keras/src/callbacks/csv_logger.py writes it: a header `epoch,<sorted log keys>`
// (with `val_` twins of every key when the first epoch had none), one row per epoch, Python's
// csv "excel" dialect (\r\n line ends, quoting only where needed), "NA" for a missing key.
import { checkOptionKeys } from '../util/options.js';
import type { Callback, Logs } from './callbacks.js';
import { lazyFunctions } from '../util/node-builtins.js';

// Node built-ins fetched on first call (see util/node-builtins.ts).
const { appendFileSync, existsSync, readFileSync, writeFileSync } = lazyFunctions('node:fs', ['appendFileSync', 'existsSync', 'readFileSync', 'writeFileSync'], 'CSVLogger');

/** Options of {@link CSVLogger}. */
export interface CSVLoggerConfig {
  /** Field separator (default ','). */
  separator?: string;
  /** Append to an existing file instead of overwriting it (default false). */
  append?: boolean;
}

/** A number as Python's `str(float)` writes it: `0.1`, `1e-05`, `1e+16`, `nan`, `inf`. */
export function pythonFloat(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return v.toFixed(1);
  const [mantissa, e] = v.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(v);
}

/**
 * Streams each epoch's logs to a CSV file, Keras semantics.
 *
 * @example
 * await model.fit(x, y, { epochs: 10, callbacks: [new CSVLogger('training.csv')] });
 */
export class CSVLogger implements Callback {
  readonly filename: string;
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | null = null;
  private writeHeader = true;
  private open = false;

  constructor(filename: string, config: CSVLoggerConfig = {}) {
    if (typeof filename !== 'string' || filename === '') throw new Error(`CSVLogger: filename must be a non-empty string, got ${JSON.stringify(filename)}`);
    checkOptionKeys('CSVLogger', config, ['separator', 'append']);
    this.filename = filename;
    this.separator = config.separator ?? ',';
    if (typeof this.separator !== 'string' || this.separator.length !== 1) throw new Error(`CSVLogger: separator must be one character, got ${JSON.stringify(config.separator)}`);
    this.append = config.append ?? false;
  }

  onTrainBegin(): void {
    this.keys = null;
    this.writeHeader = true;
    if (this.append) {
      if (existsSync(this.filename)) this.writeHeader = readFileSync(this.filename, 'utf8').length === 0;
    } else {
      writeFileSync(this.filename, '');
    }
    this.open = true;
  }

  private field(s: string): string {
    return /["\r\n]/.test(s) || s.includes(this.separator) ? `"${s.replace(/"/g, '""')}"` : s;
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    if (!this.open) throw new Error('CSVLogger: onEpochEnd before onTrainBegin');
    if (!this.keys) {
      const keys = Object.keys(logs).sort();
      if (!keys.some((k) => k.startsWith('val_'))) keys.push(...keys.map((k) => `val_${k}`));
      this.keys = keys;
    }
    const lines: string[] = [];
    if (this.writeHeader) {
      lines.push(['epoch', ...this.keys].map((k) => this.field(k)).join(this.separator));
      this.writeHeader = false;
    }
    const row = [String(epoch), ...this.keys.map((k) => (logs[k] === undefined ? 'NA' : pythonFloat(logs[k])))];
    lines.push(row.map((v) => this.field(v)).join(this.separator));
    appendFileSync(this.filename, lines.map((l) => `${l}\r\n`).join(''));
  }

  onTrainEnd(): void {
    this.open = false;
  }
}
