// Device arrays (src/device-storage.ts) on each gpu.js mode: op results stay on the device until the host
// reads them (one counted readback), ops take them back without an upload, host writes make the host copy
// the truth, scope (tidy) and dispose free device memory, a backend's disposal brings held state back,
// and a long training loop grows nothing on the device.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackend, setBackend } from '../../src/backend/index.js';
import { createGpuBackend, type GpuBackend } from '../../src/backend/gpu/index.js';
import { referenceBackend } from '../../src/backend/reference/index.js';
import { deviceState } from '../../src/device-storage.js';
import { addInto } from '../../src/layers/kernel-layer.js';
import { layers, optimizers, Sequential, setSeed, tensor, Tensor } from '../../src/index.js';
import { randomBatch } from '../../bench/models.js';
import { assertClose } from '../helpers.js';
import { modes, rand } from './modes.js';

const TOL = { atol: 1e-5, rtol: 1e-5 };

for (const mode of modes) {
  test(`[${mode}] op results stay on the device until read; ops take them back without uploads`, () => {
    const b = createGpuBackend({ mode });
    try {
      const [x, y] = [rand(50), rand(50)];
      const s0 = b.stats();
      const xy = b.multiply(x, y);
      const xyy = b.multiply(xy, y);
      const s1 = b.stats();
      assert.is(s1.readbacks - s0.readbacks, 0, 'readbacks before any host read');
      assert.is(s1.uploads - s0.uploads, 3, 'uploads: x, y, y (not the intermediate xy)');
      assert.ok(new Tensor(xyy, [50]).onDevice, 'result on the device');
      assert.is(s1.residentArrays - s0.residentArrays, 2);
      assert.is(s1.residentBytes - s0.residentBytes, 400);
      const want = referenceBackend.multiply(referenceBackend.multiply(x, y), y);
      assertClose(xyy, want, TOL, 'x·y·y');
      assert.is(b.stats().readbacks - s1.readbacks, 1, 'the first host read is one readback');
      assertClose(xyy.slice(), want, TOL, 'read again');
      assert.is(b.stats().readbacks - s1.readbacks, 1, 'later reads come from the host copy');
    } finally {
      b.dispose();
    }
  });

  test(`[${mode}] a host write makes the host copy the truth; fill(0) then accumulate reads no copy`, () => {
    const b = createGpuBackend({ mode });
    try {
      const [x, y] = [rand(20), rand(20)];
      const xy = b.multiply(x, y);
      xy[3] = 7;
      const up = b.stats().uploads;
      const z = b.multiply(xy, y);
      assert.is(b.stats().uploads - up, 2, 'the written array is uploaded again, with y');
      const want = referenceBackend.multiply(x, y);
      want[3] = 7;
      assertClose(z, referenceBackend.multiply(want, y), TOL, 'after a host write');

      const grad = b.hold(new Float32Array(20));
      grad.fill(0);
      const s = b.stats();
      addInto(grad, z);
      addInto(grad, z);
      assert.is(b.stats().uploads - s.uploads, 2, 'only the combine factors are uploaded, not the zeroed gradient or z');
      assert.is(b.stats().readbacks - s.readbacks, 0);
      assert.ok(new Tensor(grad, [20]).onDevice, 'accumulated on the device');
      assertClose(grad, referenceBackend.multiply(referenceBackend.multiply(want, y), Float32Array.from({ length: 20 }, () => 2)), TOL, 'grad = 2z');
    } finally {
      b.dispose();
    }
  });

  test(`[${mode}] scope frees what its ops made, keeps state updated in place; dispose frees one array`, () => {
    const b = createGpuBackend({ mode });
    try {
      const w0 = rand(30);
      const w = b.hold(w0);
      const g = rand(30);
      const before = b.stats().residentArrays;
      let unread: Float32Array | null = null;
      const read = b.scope(() => {
        unread = b.multiply(g, g);
        const r = b.multiply(w, g);
        b.sgdUpdate(w, r, null, 0.1, 0, false);
        return r.slice();
      });
      assert.is(b.stats().residentArrays, before, 'arrays made in the scope are freed; w is still held');
      const want = w0.slice();
      referenceBackend.sgdUpdate(want, referenceBackend.multiply(w0, g), null, 0.1, 0, false);
      assertClose(w, want, TOL, 'w after the update in the scope');
      assertClose(read, referenceBackend.multiply(w0, g), TOL, 'a value read inside the scope');
      assert.throws(() => unread![0], /read after it was disposed/, 'an array never read before its scope ended');

      const t = new Tensor(b.multiply(g, g), [30]);
      assert.is(b.stats().residentArrays, before + 1);
      t.dispose();
      assert.is(b.stats().residentArrays, before, 'dispose frees it now');
    } finally {
      b.dispose();
    }
  });

  test(`[${mode}] disposing the backend brings held arrays back to the host`, () => {
    const b = createGpuBackend({ mode });
    const w0 = rand(12);
    const w = b.hold(w0);
    b.sgdUpdate(w, w0, null, 0.5, 0, false);
    const reads = b.stats().readbacks;
    b.dispose();
    assert.is(b.stats().readbacks - reads, 1, 'read back once, at dispose');
    assertClose(w, w0.map((v) => v * 0.5), TOL, 'w after dispose');
    assert.is(b.stats().residentArrays, 0);
  });

  // A small model (conv, batch norm, relu, pool, dropout, dense; SGD with momentum) for many steps: after
  // the first step nothing on the device grows, and each step reads back one array. Switching to the cpu
  // backend after it brings the weights back to the host.
  test(`[${mode}] 1,000 training steps grow neither device arrays nor textures/buffers`, async () => {
    const previous = getBackend();
    try {
      const b = setBackend('gpu', { mode }) as GpuBackend;
      setSeed(3);
      const model = new Sequential();
      model.add(new layers.Conv2D({ filters: 2, kernelSize: 3, padding: 'same', inputShape: [4, 4, 1] }));
      model.add(new layers.BatchNormalization());
      model.add(new layers.Activation('relu'));
      model.add(new layers.MaxPooling2D({ poolSize: 2 }));
      model.add(new layers.Flatten());
      model.add(new layers.Dropout({ rate: 0.25 }));
      model.add(new layers.Dense({ units: 1, activation: 'sigmoid' }));
      model.compile({ optimizer: new optimizers.SGD({ learningRate: 1e-2, momentum: 0.9 }), loss: 'binaryCrossentropy', metrics: ['precision'] });
      const batches = [1, 2, 3].map((i) => {
        const { x, y } = randomBatch(2, 4, i);
        return { x: tensor(x.subarray(0, 32), [2, 4, 4, 1]), y: tensor(y, [2, 1]) };
      });
      await model.trainOnBatch(batches[0].x, batches[0].y);
      const first = b.stats();
      for (let i = 1; i < 1000; i++) await model.trainOnBatch(batches[i % 3].x, batches[i % 3].y);
      const last = b.stats();
      assert.is(last.residentArrays, first.residentArrays, `device arrays grew from ${first.residentArrays} to ${last.residentArrays}`);
      assert.is(last.residentBytes, first.residentBytes);
      assert.is(last.deviceTextures, first.deviceTextures, `device textures grew from ${first.deviceTextures} to ${last.deviceTextures}`);
      assert.is(last.deviceBuffers, first.deviceBuffers, `device buffers grew from ${first.deviceBuffers} to ${last.deviceBuffers}`);
      assert.is(last.readbacks - first.readbacks, 999, 'one readback a step');
      const onGpu = model.getWeightValues().map((w) => w.slice());
      setBackend('cpu');
      const weights = model.getWeightValues();
      weights.forEach((w, i) => assertClose(w, onGpu[i], { atol: 0, rtol: 0 }, `weight ${i} after the switch`));
      await model.trainOnBatch(batches[0].x, batches[0].y);
      model.params().forEach((p) => assert.is(deviceState(p.value), null, `${p.name} is a host array on cpu`));
    } finally {
      setBackend(previous.name === 'reference' ? 'reference' : 'cpu');
    }
  });

  // predict and evaluate free what each batch's forward made when the batch is done (a scope), not when
  // the garbage collector gets to it: 1,000 calls leave as many device arrays as one.
  test(`[${mode}] 1,000 predict calls (and 100 evaluate calls) grow no device arrays`, async () => {
    const previous = getBackend();
    try {
      const b = setBackend('gpu', { mode }) as GpuBackend;
      setSeed(5);
      const model = new Sequential();
      model.add(new layers.Conv2D({ filters: 2, kernelSize: 3, padding: 'same', inputShape: [4, 4, 1] }));
      model.add(new layers.BatchNormalization());
      model.add(new layers.Activation('relu'));
      model.add(new layers.Flatten());
      model.add(new layers.Dense({ units: 1, activation: 'sigmoid' }));
      model.compile({ optimizer: new optimizers.SGD({ learningRate: 1e-2 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
      const { x: xs, y: ys } = randomBatch(2, 4, 9);
      const x = tensor(xs.subarray(0, 32), [2, 4, 4, 1]);
      const y = tensor(ys, [2, 1]);
      await model.trainOnBatch(x, y);
      const want = (await model.predict(x)).values.slice();
      await model.evaluate(x, y);
      const first = b.stats();
      let got: Float32Array = want;
      for (let i = 0; i < 1000; i++) got = (await model.predict(x)).values;
      for (let i = 0; i < 100; i++) await model.evaluate(x, y);
      const last = b.stats();
      assert.equal(Array.from(got), Array.from(want), 'the 1,000th prediction');
      assert.is(last.residentArrays, first.residentArrays, `device arrays grew from ${first.residentArrays} to ${last.residentArrays}`);
      assert.is(last.residentBytes, first.residentBytes);
      assert.is(last.deviceTextures, first.deviceTextures, `device textures grew from ${first.deviceTextures} to ${last.deviceTextures}`);
      assert.is(last.deviceBuffers, first.deviceBuffers, `device buffers grew from ${first.deviceBuffers} to ${last.deviceBuffers}`);
      assert.is(last.readbacks - first.readbacks, 1100, 'one readback a call');
    } finally {
      setBackend(previous.name === 'reference' ? 'reference' : 'cpu');
    }
  });
}

test.run();
