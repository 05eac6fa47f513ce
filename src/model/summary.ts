// Keras' summary table: a header, one block of rows per layer (a cell may hold several lines,
// as the "Connected to" column of a functional model does), then the parameter counts; and the
// small helpers of LayersModel's public lookups (getLayer, predict's output rows).
import type { Layer } from '../layers/layer.js';
import { wrap, type Shape, type Tensor } from '../tensor.js';

/**
 * The summary of a model named `name` with these table rows, counting the parameters of `layers`.
 *
 * @example
 * summaryTable('m', { header: ['Layer (type)', 'Output Shape', 'Param #'], rows: [['d (Dense)', '(None, 1)', '5']] }, m.layers);
 */
export function summaryTable(name: string, table: { header: string[]; rows: string[][] }, layers: readonly Layer[]): string {
  const { header, rows } = table;
  const minWidths = [29, 26, 10, 20];
  const widths = header.map((_, c) => Math.max(minWidths[c], ...rows.flatMap((r) => r[c].split('\n').map((s) => s.length + 1))));
  if (header.length === 3) widths[2] = 10;
  const total = widths.reduce((a, b) => a + b, 0) + header.length;
  const line = (cells: string[]): string[] => {
    const parts = cells.map((c) => c.split('\n'));
    const height = Math.max(...parts.map((p) => p.length));
    return Array.from({ length: height }, (_, k) => ' ' + parts.map((p, i) => (p[k] ?? '').padEnd(widths[i])).join(' ').trimEnd());
  };
  let trainable = 0;
  let nonTrainable = 0;
  for (const l of layers) {
    const c = l.countParams();
    trainable += c.trainable;
    nonTrainable += c.nonTrainable;
  }
  return [
    `Model: "${name}"`,
    '_'.repeat(total),
    ...line(header),
    '='.repeat(total),
    ...rows.flatMap((r, i) => [...line(r), ...(i < rows.length - 1 ? [''] : [])]),
    '='.repeat(total),
    `Total params: ${(trainable + nonTrainable).toLocaleString('en-US')}`,
    `Trainable params: ${trainable.toLocaleString('en-US')}`,
    `Non-trainable params: ${nonTrainable.toLocaleString('en-US')}`,
    '_'.repeat(total),
  ].join('\n');
}

/** The layer of `layers` named `nameOrIndex`, or at that index; throws naming the model and what was asked for. */
export function findLayer(model: string, layers: readonly Layer[], nameOrIndex: string | number): Layer {
  if (typeof nameOrIndex === 'number') {
    const layer = Number.isInteger(nameOrIndex) ? layers[nameOrIndex] : undefined;
    if (!layer) throw new Error(`getLayer: index ${nameOrIndex} is out of range; model '${model}' has ${layers.length} layers`);
    return layer;
  }
  const layer = layers.find((l) => l.name === nameOrIndex);
  if (!layer) throw new Error(`getLayer: model '${model}' has no layer named ${JSON.stringify(nameOrIndex)} (layers: ${layers.map((l) => l.name).join(', ')})`);
  return layer;
}

/** Batches of one output's rows (`rowSize` values each), joined into one `[n, ...sampleShape]` tensor. */
export function joinRows(parts: readonly Float32Array[], rowSize: number, sampleShape: readonly number[]): Tensor {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return wrap(out, [out.length / rowSize, ...sampleShape] as unknown as Shape);
}
