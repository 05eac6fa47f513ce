/** The codes the training doctor raises; each one's threshold is documented where it is computed. */
export type DiagnosticCode =
  | 'lr-too-low'
  | 'lr-too-high'
  | 'non-finite'
  | 'not-learning'
  | 'constant-predictions'
  | 'one-class-validation'
  | 'imbalance'
  | 'dead-units'
  | 'overfitting'
  | 'bn-statistics';

/**
 * One finding of the training doctor, as `fit` returns it in `history.diagnostics`.
 *
 * @example
 * { code: 'lr-too-low', epoch: 0, message: 'updates are 2.1e-6 of the weights …' }
 */
export interface Diagnostic {
  code: DiagnosticCode;
  /** 0-based epoch, as in `history.epoch`. */
  epoch: number;
  /** 0-based batch index within the epoch, for findings tied to one step. */
  step?: number;
  /** The layer the finding is about, if one. */
  layer?: string;
  /** The evidence in numbers and the suggested fix. */
  message: string;
}

/** The Keras-style warning line `fit` prints for a diagnostic when `verbose` is on. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `epoch ${d.epoch + 1}${d.step !== undefined ? `, step ${d.step + 1}` : ''}${d.layer ? `, layer '${d.layer}'` : ''}`;
  return `WARNING:tscnn:doctor: [${d.code}] (${where}) ${d.message}`;
}

/** Formats a number for messages: 3 significant digits, exponent form when small or large. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

/** The median of a non-empty list (NaN when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
