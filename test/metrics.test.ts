import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Accuracy,
  AUC,
  BatchAveragedPrecision,
  BinaryAccuracy,
  ConfusionMatrix,
  getMetric,
  Precision,
  Recall,
} from '../src/train/metrics/index.js';

const f32 = (a: number[]): Float32Array => new Float32Array(a);

function close(actual: number, expected: number, { atol = 1e-9, rtol = 1e-9 } = {}, what = ''): void {
  const err = Math.abs(actual - expected);
  if (!(err <= atol + rtol * Math.abs(expected))) {
    assert.unreachable(`${what} expected ${expected}, got ${actual} (error ${err}, atol ${atol}, rtol ${rtol})`);
  }
}

test('streaming Precision differs from the batch-averaged precision on a 3-batch epoch', () => {
  const streaming = new Precision();
  const batchAvg = new BatchAveragedPrecision();
  // Batch A [4,1]: one TP (0.9), three FP (0.8, 0.7, 0.6). Batch value 1/(4 + 1e-7) ≈ 0.25.
  // Batch B [1,1]: one TP. Batch value 1/(1 + 1e-7) ≈ 1.
  // Batch C [2,1]: p = 0.2 and 0.5, both negative (0.5 is not > 0.5; round(0.5) = 0 half-to-even),
  //   so no predicted positives: batch value 0/(0 + 1e-7) = 0, and two FN for the streaming count.
  const batches: [number[], number[]][] = [
    [[1, 0, 0, 0], [0.9, 0.8, 0.7, 0.6]],
    [[1], [0.9]],
    [[1, 1], [0.2, 0.5]],
  ];
  for (const [y, p] of batches) {
    streaming.update(f32(y), f32(p), y.length, 1);
    batchAvg.update(f32(y), f32(p), y.length, 1);
  }
  // Streaming: TP = 2, FP = 3 over the epoch → 2/5 = 0.4.
  assert.is(streaming.truePositives, 2);
  assert.is(streaming.falsePositives, 3);
  close(streaming.result(), 0.4);
  // Batch-averaged: (0.25 + 1 + 0)/3 = 0.41667 (up to the 1e-7 in each denominator).
  close(batchAvg.result(), (1 / (4 + 1e-7) + 1 / (1 + 1e-7) + 0) / 3, { atol: 1e-12, rtol: 0 });
  close(batchAvg.result(), 0.4166667, { atol: 1e-6, rtol: 0 });
  assert.is(batchAvg.count, 3);
  // After batches A and B only, the gap is larger: 0.625 averaged vs 2/5 streaming.
  const ab = new BatchAveragedPrecision();
  ab.update(f32(batches[0][0]), f32(batches[0][1]), 4, 1);
  ab.update(f32(batches[1][0]), f32(batches[1][1]), 1, 1);
  close(ab.result(), 0.625, { atol: 1e-6, rtol: 0 });
});

test('BatchAveragedPrecision rounds half to even: round(0.5) = 0; rejects sample weights', () => {
  const m = new BatchAveragedPrecision();
  // y·p = 0.5 → round 0 (TP 0); p = 0.51 → round 1. Predicted positives: round(0.5)=0, round(0.51)=1 → 0/1.
  m.update(f32([1, 0]), f32([0.5, 0.51]), 2, 1);
  close(m.result(), 0, { atol: 1e-12, rtol: 0 });
  assert.throws(() => m.update(f32([1]), f32([0.9]), 1, 1, f32([1])), /batch_averaged_precision: sample weights are not supported/);
});

test('Precision and Recall reset per epoch', () => {
  const p = new Precision();
  const r = new Recall();
  // Epoch 1: y = [1, 0, 1], p = [0.9, 0.9, 0.1] → TP 1, FP 1, FN 1.
  p.update(f32([1, 0, 1]), f32([0.9, 0.9, 0.1]), 3, 1);
  r.update(f32([1, 0, 1]), f32([0.9, 0.9, 0.1]), 3, 1);
  close(p.result(), 0.5);
  close(r.result(), 0.5);
  p.reset();
  r.reset();
  assert.is(p.truePositives + p.falsePositives, 0);
  assert.is(r.truePositives + r.falseNegatives, 0);
  assert.is(p.result(), 0);
  // Epoch 2 sees only its own batch: TP 1, FP 0 → 1; recall 1/1.
  p.update(f32([1, 0]), f32([0.7, 0.3]), 2, 1);
  r.update(f32([1, 0]), f32([0.7, 0.3]), 2, 1);
  assert.is(p.result(), 1);
  assert.is(r.result(), 1);
});

test('threshold is strict: p = 0.5 is negative; precision is 0 with no predicted positives', () => {
  const p = new Precision();
  p.update(f32([1, 1, 0]), f32([0.5, 0.5, 0.1]), 3, 1);
  assert.is(p.truePositives, 0);
  assert.is(p.falsePositives, 0);
  assert.is(p.result(), 0);
  const r = new Recall();
  r.update(f32([1, 1, 0]), f32([0.5, 0.50001, 0.1]), 3, 1);
  assert.is(r.truePositives, 1);
  assert.is(r.falseNegatives, 1);
  close(r.result(), 0.5);
  // float32 0.3 is 0.30000001 > 0.3 in float64; Keras compares in float32, so it is negative.
  const p3 = new Precision({ threshold: 0.3 });
  p3.update(f32([1, 0]), f32([0.31, 0.3]), 2, 1);
  assert.is(p3.truePositives, 1);
  assert.is(p3.falsePositives, 0);
  assert.equal(p3.getConfig(), { name: 'precision', threshold: 0.3 });
});

test('Precision and Recall weight counts by sampleWeight over [2,2] outputs', () => {
  const p = new Precision();
  const r = new Recall();
  // Sample 0 (w 3): y [1, 0], p [0.9, 0.8] → TP 3, FP 3. Sample 1 (w 1): y [1, 1], p [0.2, 0.7] → FN 1, TP 1.
  const y = f32([1, 0, 1, 1]);
  const pred = f32([0.9, 0.8, 0.2, 0.7]);
  p.update(y, pred, 2, 2, f32([3, 1]));
  r.update(y, pred, 2, 2, f32([3, 1]));
  assert.is(p.truePositives, 4);
  assert.is(p.falsePositives, 3);
  close(p.result(), 4 / 7);
  assert.is(r.falseNegatives, 1);
  close(r.result(), 4 / 5);
});

test('BinaryAccuracy [4,1]: exact label match after p > 0.5; weighted mean over samples', () => {
  const a = new BinaryAccuracy();
  // Predictions 1, 1, 0 (0.5 is not > 0.5), 0 against labels 1, 0, 1, 0 → 2 of 4.
  a.update(f32([1, 0, 1, 0]), f32([0.9, 0.6, 0.5, 0.1]), 4, 1);
  close(a.result(), 0.5);
  // Weighted [1,2]: sample 0 (w 1) wrong, sample 1 (w 2) half right → (0 + 2·0.5)/3 + streaming.
  const w = new BinaryAccuracy();
  w.update(f32([1, 0, 1, 1]), f32([0.1, 0.9, 0.8, 0.1]), 2, 2, f32([1, 2]));
  close(w.total, 1);
  close(w.count, 3);
  close(w.result(), 1 / 3);
  assert.is(a.name, 'binary_accuracy');
});

test('categorical Accuracy [2,3] with one-hot labels, class indices and ties', () => {
  const a = new Accuracy();
  // argmax rows: 2 and 1; labels 2 and 0 → 1 of 2.
  a.update(f32([0, 0, 1, 1, 0, 0]), f32([0.1, 0.2, 0.7, 0.3, 0.6, 0.1]), 2, 3);
  close(a.result(), 0.5);
  a.update(f32([2, 1]), f32([0.1, 0.2, 0.7, 0.3, 0.6, 0.1]), 2, 3);
  close(a.result(), 3 / 4);
  // Tie between classes 0 and 1: argmax takes the first.
  const t = new Accuracy();
  t.update(f32([0, 1]), f32([0.4, 0.4, 0.2, 0.4, 0.4, 0.2]), 2, 3);
  close(t.result(), 0.5);
  assert.throws(() => t.update(f32([3, 0]), f32([0.4, 0.4, 0.2, 0.4, 0.4, 0.2]), 2, 3), /accuracy: yTrue\[0\] = 3 is not a class index in \[0, 2\]/);
});

test('AUC ROC [4,1]: perfect ranking → 1, reversed → 0', () => {
  const perfect = new AUC();
  perfect.update(f32([0, 0, 1, 1]), f32([0.1, 0.2, 0.8, 0.9]), 4, 1);
  close(perfect.result(), 1);
  const reversed = new AUC();
  reversed.update(f32([1, 1, 0, 0]), f32([0.1, 0.2, 0.8, 0.9]), 4, 1);
  close(reversed.result(), 0);
  assert.is(perfect.thresholds.length, 200);
  assert.is(perfect.thresholds[0], -1e-7);
  close(perfect.thresholds[1], 1 / 199);
  assert.is(perfect.thresholds[199], 1 + 1e-7);
  // 200 thresholds: every threshold sees 4 samples.
  assert.is(perfect.truePositives[0] + perfect.falseNegatives[0] + perfect.falsePositives[0] + perfect.trueNegatives[0], 4);
});

test('AUC ROC middle case streamed over two batches: 4 of 6 pairs ranked right → 0.6667', () => {
  // Positives 0.35, 0.8; negatives 0.1, 0.4, 0.6. Pairs (pos > neg): 0.35 > 0.1 only; 0.8 > all three.
  // AUC = 4/6; every score falls in its own 1/199 bucket, so the thresholded value is exact.
  const auc = new AUC();
  auc.update(f32([1, 0]), f32([0.35, 0.1]), 2, 1);
  auc.update(f32([0, 1, 0]), f32([0.4, 0.8, 0.6]), 3, 1);
  close(auc.result(), 4 / 6, { atol: 1e-2, rtol: 0 });
  close(auc.result(), 4 / 6, { atol: 1e-9, rtol: 0 });
  // Weight 2 on the 0.35 positive: (2·1 + 1·3) / (3·3) = 5/9.
  const weighted = new AUC();
  weighted.update(f32([1, 0, 0, 1, 0]), f32([0.35, 0.1, 0.4, 0.8, 0.6]), 5, 1, f32([2, 1, 1, 1, 1]));
  close(weighted.result(), 5 / 9, { atol: 1e-9, rtol: 0 });
  auc.reset();
  assert.is(auc.result(), 0);
});

test('AUC PR uses the Keras interpolation: perfect → 1, hand-computed middle case 0.7972674', () => {
  const perfect = new AUC({ curve: 'PR' });
  perfect.update(f32([0, 0, 1, 1]), f32([0.1, 0.2, 0.8, 0.9]), 4, 1);
  close(perfect.result(), 1, { atol: 1e-9, rtol: 0 });
  // Scores: pos 0.8, neg 0.4, pos 0.2. Operating points (TP, P = TP + FP, FN) as the threshold
  // rises: (2, 3, 0) → (1, 2, 1) → (1, 1, 1) → (0, 0, 2).
  // (2,3)→(1,2): slope 1, intercept 1 − 2 = −1, ratio 3/2: (1 − ln 1.5)/(1 + 1) = 0.2972674.
  // (1,2)→(1,1): dTP = 0 → 0.   (1,1)→(0,0): slope 1, intercept 0, ratio 1: 1/(0 + 2) = 0.5.
  const pr = new AUC({ curve: 'PR' });
  pr.update(f32([1, 0, 1]), f32([0.8, 0.4, 0.2]), 3, 1);
  close(pr.result(), (1 - Math.log(1.5)) / 2 + 0.5, { atol: 1e-9, rtol: 0 });
  close(pr.result(), 0.7972674, { atol: 1e-6, rtol: 0 });
  assert.equal(pr.getConfig(), { name: 'auc', numThresholds: 200, curve: 'PR' });
  assert.throws(() => new AUC({ numThresholds: 1 }), /auc: numThresholds must be an integer ≥ 2, got 1/);
});

test('ConfusionMatrix binary [5,1]: counts, accuracy, table', () => {
  const cm = new ConfusionMatrix();
  // (true, pred): (0,0) (1,1) (1,0) (0,1) (0,0); 0.5 predicts 0.
  cm.update(f32([0, 1, 1, 0, 0]), f32([0.2, 0.9, 0.5, 0.7, 0.1]), 5, 1);
  assert.equal(cm.matrix(), [
    [2, 1],
    [1, 1],
  ]);
  close(cm.result(), 3 / 5);
  assert.is(cm.total, 5);
  assert.is(cm.toString(), ['        pred 0  pred 1', 'true 0       2       1', 'true 1       1       1'].join('\n'));
  cm.reset();
  assert.equal(cm.matrix(), [
    [0, 0],
    [0, 0],
  ]);
  assert.throws(() => cm.update(f32([0.7]), f32([0.9]), 1, 1), /confusion_matrix: yTrue\[0\] = 0.699999988079071, expected a binary label 0 or 1/);
});

test('ConfusionMatrix 3 classes [3,3] with one-hot and index labels, weighted', () => {
  const cm = new ConfusionMatrix({ numClasses: 3 });
  const p = f32([0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.2, 0.5, 0.3]); // argmax 0, 2, 1
  cm.update(f32([1, 0, 0, 0, 0, 1, 0, 0, 1]), p, 3, 3); // true 0, 2, 2
  cm.update(f32([0, 1, 1]), p, 3, 3, f32([1, 0.5, 2])); // true 0, 1, 1
  assert.equal(cm.matrix(), [
    [2, 0, 0],
    [0, 2, 0.5],
    [0, 1, 1],
  ]);
  close(cm.result(), 5 / 6.5);
  assert.ok(cm.toString().includes('true 1       0       2   0.500'));
  assert.throws(() => cm.update(f32([0, 1]), f32([0.1, 0.9, 0.2, 0.8]), 2, 2), /confusion_matrix: yPred has 2 units per sample, expected 1 or numClasses = 3/);
  assert.throws(() => new ConfusionMatrix({ numClasses: 3 }).update(f32([1]), f32([0.9]), 1, 1), /1-unit output gives 2 classes, but numClasses is 3/);
});

test('getMetric resolves Keras names by output units; unknown names list the known ones', () => {
  const bin = getMetric('accuracy', 1);
  assert.ok(bin instanceof BinaryAccuracy);
  assert.is(bin.name, 'accuracy');
  const cat = getMetric('accuracy', 10);
  assert.ok(cat instanceof Accuracy);
  assert.is(cat.name, 'accuracy');
  assert.is(getMetric('acc', 1).name, 'acc');
  assert.is(getMetric('binary_accuracy', 1).name, 'binary_accuracy');
  assert.ok(getMetric('precision', 1) instanceof Precision);
  assert.is(getMetric('precision', 1).name, 'precision');
  assert.is(getMetric('recall', 1).name, 'recall');
  assert.ok(getMetric('auc', 1) instanceof AUC);
  assert.is(getMetric('auc', 1).name, 'auc');
  const mine = new Precision({ threshold: 0.7, name: 'p70' });
  assert.is(getMetric(mine, 1), mine);
  assert.throws(() => getMetric('f1', 1), /getMetric: unknown metric 'f1' \(known: accuracy, acc, binary_accuracy, binaryAccuracy, categorical_accuracy, .*precision, recall, auc, mae, /);
  assert.throws(() => getMetric('accuracy', 0), /outputUnits must be a positive integer, got 0/);
});

test('bad inputs throw errors naming the metric and the values', () => {
  const p = new Precision();
  assert.throws(() => p.update(f32([1, 0]), f32([0.5, 0.5, 0.5]), 2, 1), /precision: yPred has 3 values, expected batch·units = 2·1 = 2/);
  assert.throws(() => p.update(f32([1]), f32([0.5, 0.5]), 2, 1), /precision: yTrue has 1 values, expected 2/);
  assert.throws(() => new Recall().update(f32([1, 0]), f32([NaN, 0.2]), 2, 1), /recall: yPred\[0\] is NaN/);
  assert.throws(() => new AUC().update(f32([1, 0]), f32([0.3, NaN]), 2, 1), /auc: yPred\[1\] is NaN/);
  assert.throws(() => new BinaryAccuracy().update(f32([1, 0]), f32([0.3, 0.2]), 2, 1, f32([1, 1, 1])), /binary_accuracy: sampleWeight has 3 values, expected batch = 2/);
  assert.throws(() => new Precision({ threshold: 1.5 }), /precision: threshold must be in \[0, 1\], got 1.5/);
  assert.throws(() => new Precision({ thresold: 0.3 } as never), /Precision: unknown option 'thresold'/);
  // A failed update leaves the counts unchanged.
  assert.is(p.truePositives + p.falsePositives, 0);
});

test.run();
