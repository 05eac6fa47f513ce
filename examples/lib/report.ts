import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { Diagnostic } from '../../src/index.js';

/** One point of a precision–recall curve. */
export interface PrPoint {
  threshold: number;
  precision: number;
  recall: number;
}

/**
 * Precision and recall at every distinct score used as threshold (positive iff score > t),
 * from the highest threshold down.
 */
export function precisionRecallCurve(yTrue: ArrayLike<number>, scores: ArrayLike<number>): PrPoint[] {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const positives = Array.from(yTrue).filter((v) => v > 0.5).length;
  const points: PrPoint[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (yTrue[i] > 0.5) tp++;
    else fp++;
    if (k + 1 < order.length && scores[order[k + 1]] === scores[i]) continue;
    points.push({ threshold: scores[i], precision: tp / (tp + fp), recall: positives ? tp / positives : 0 });
  }
  return points;
}

/** A small terminal line chart of one or more series over epochs. */
export function asciiChart(series: { name: string; values: number[] }[], opts: { height?: number; title?: string } = {}): string {
  const height = opts.height ?? 8;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  if (all.length === 0) return '';
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (hi - lo < 1e-9) {
    hi += 0.5;
    lo -= 0.5;
  }
  const width = Math.max(...series.map((s) => s.values.length));
  const marks = ['●', '○', '▲', '△', '■', '□'];
  const grid = Array.from({ length: height }, () => Array<string>(width * 3).fill(' '));
  series.forEach((s, si) => {
    s.values.forEach((v, x) => {
      if (!Number.isFinite(v)) return;
      const row = height - 1 - Math.round(((v - lo) / (hi - lo)) * (height - 1));
      grid[row][x * 3 + 1] = marks[si % marks.length];
    });
  });
  const label = (row: number): string => (hi - ((hi - lo) * row) / (height - 1)).toFixed(3).padStart(7);
  const lines = grid.map((cells, row) => `${label(row)} ┤${cells.join('')}`);
  lines.push(`${' '.repeat(8)}└${'─'.repeat(width * 3)}  epoch 1…${width}`);
  const legend = series.map((s, si) => `${marks[si % marks.length]} ${s.name}`).join('   ');
  return [opts.title ? `${opts.title}` : null, ...lines, `${' '.repeat(9)}${legend}`].filter((l): l is string => l !== null).join('\n');
}

async function toSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Everything the HTML report shows. */
export interface ReportData {
  title: string;
  settings: Record<string, string | number>;
  history: Record<string, number[]>;
  pr: PrPoint[];
  threshold: number;
  confusion: { matrix: number[][]; classNames: string[] };
  summary: string;
  notes?: string[];
  /** The training doctor's findings (`history.diagnostics`), shown beside the training curves. */
  diagnostics?: readonly Diagnostic[];
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function diagnosticsHtml(list: readonly Diagnostic[]): string {
  if (list.length === 0) return '<p>The training doctor found nothing wrong.</p>';
  const items = list.map((d) => {
    const where = `epoch ${d.epoch + 1}${d.step !== undefined ? `, step ${d.step + 1}` : ''}${d.layer ? `, ${d.layer}` : ''}`;
    return `<li><b>${escapeHtml(d.code)}</b> <small>(${escapeHtml(where)})</small><br>${escapeHtml(d.message)}</li>`;
  });
  return `<ul class="doctor">${items.join('')}</ul>`;
}

/**
 * Writes `report.html` into `outDir`: training curves (train vs validation) and the
 * precision–recall curve with the chosen threshold, as SVG drawn by Vega-Lite.
 */
export async function writeReport(outDir: string, data: ReportData): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const curves: { epoch: number; value: number; metric: string; split: string }[] = [];
  for (const [key, values] of Object.entries(data.history)) {
    const split = key.startsWith('val_') ? 'validation' : 'training';
    const metric = key.replace(/^val_/, '');
    values.forEach((value, i) => curves.push({ epoch: i + 1, value, metric, split }));
  }
  const curvesSvg = await toSvg({
    data: { values: curves },
    facet: { field: 'metric', type: 'nominal', title: null },
    columns: 2,
    spec: {
      width: 300,
      height: 180,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', scale: { zero: false } },
        color: { field: 'split', type: 'nominal', title: null },
      },
    },
    resolve: { scale: { y: 'independent' } },
  } as vl.TopLevelSpec);
  // Positive iff score > threshold: the curve point of the smallest score above the threshold.
  const above = data.pr.filter((p) => p.threshold > data.threshold);
  const chosen = above.length ? above[above.length - 1] : { threshold: data.threshold, precision: 0, recall: 0 };
  const prSvg = await toSvg({
    width: 360,
    height: 300,
    layer: [
      { data: { values: data.pr }, mark: { type: 'line', interpolate: 'step-after' }, encoding: { x: { field: 'recall', type: 'quantitative', scale: { domain: [0, 1] } }, y: { field: 'precision', type: 'quantitative', scale: { domain: [0, 1] } } } },
      {
        data: { values: [{ ...chosen, label: `threshold ${data.threshold}` }] },
        mark: { type: 'point', filled: true, size: 120, color: 'firebrick' },
        encoding: { x: { field: 'recall', type: 'quantitative' }, y: { field: 'precision', type: 'quantitative' } },
      },
      {
        data: { values: [{ ...chosen, label: `threshold ${data.threshold}: P ${chosen.precision.toFixed(3)}, R ${chosen.recall.toFixed(3)}` }] },
        mark: { type: 'text', align: 'right', dx: -8, dy: -8, color: 'firebrick' },
        encoding: { x: { field: 'recall', type: 'quantitative' }, y: { field: 'precision', type: 'quantitative' }, text: { field: 'label' } },
      },
    ],
  } as vl.TopLevelSpec);
  const { matrix, classNames } = data.confusion;
  const confusionRows = matrix
    .map((row, i) => `<tr><th>true ${escapeHtml(classNames[i] ?? String(i))}</th>${row.map((v) => `<td>${v}</td>`).join('')}</tr>`)
    .join('');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(data.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}.doctor li{margin-bottom:.8em}pre{background:#f6f6f6;padding:1em;overflow:auto}</style>
</head><body>
<h1>${escapeHtml(data.title)}</h1>
<h2>Settings</h2>
<table>${Object.entries(data.settings).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`).join('')}</table>
<h2>Training curves and the doctor's diagnostics</h2>
<div style="display:flex;gap:1.5em;align-items:flex-start"><div>${curvesSvg}</div><div style="flex:1;min-width:280px">${diagnosticsHtml(data.diagnostics ?? [])}</div></div>
<h2>Precision–recall on the validation set</h2>
${prSvg}
<h2>Confusion matrix (validation, threshold ${data.threshold})</h2>
<table><tr><th></th>${classNames.map((c) => `<th>predicted ${escapeHtml(c)}</th>`).join('')}</tr>${confusionRows}</table>
${data.notes?.length ? `<h2>Notes</h2><ul>${data.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
<h2>Model</h2>
<pre>${escapeHtml(data.summary)}</pre>
</body></html>
`;
  const path = join(outDir, 'report.html');
  writeFileSync(path, html);
  return path;
}
