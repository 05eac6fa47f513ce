// The browser's gpu.js modes seen from Node: 'webgl2'/'webgl' are refused naming Node's mode, the
// GPU option takes only gpu.js' browser constructor, and kernelClasses() reports the class that ran
// (checked by identity against gpu.js' exports). The modes themselves run in test/browser.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBackend, setBackend } from '../../src/index.js';
import { createGpuBackend, probeMode } from '../../src/backend/gpu/index.js';

function message(f: () => unknown): string {
  try {
    f();
    return 'no error';
  } catch (e) {
    return (e as Error).message;
  }
}

test("probeMode: 'webgl2' and 'webgl' in Node are browser modes, naming 'headlessgl'", () => {
  for (const mode of ['webgl2', 'webgl'] as const) {
    const s = probeMode(mode);
    assert.is(s.available, false);
    assert.match(s.reason, /a browser mode .*in Node use 'headlessgl'/);
  }
});

test("setBackend('gpu', { mode: 'webgl2' }) in Node throws naming the mode, and the active backend stays", () => {
  setBackend('cpu');
  assert.match(message(() => setBackend('gpu', { mode: 'webgl2' })), /gpu backend: mode 'webgl2' cannot start here: a browser mode/);
  assert.is(getBackend().name, 'cpu');
  assert.match(message(() => setBackend('gpu', { mode: 'webgl3' as 'webgl2' })), /unknown mode 'webgl3'; known: headlessgl, webasm, webgpu, webgl2, webgl, auto/);
});

test('option GPU: anything but gpu.js\' browser constructor throws naming the option and the value', () => {
  setBackend('cpu');
  assert.match(message(() => setBackend('gpu', { mode: 'webasm', GPU: 42 })), /setBackend\('gpu'\): option GPU must be gpu\.js' GPU constructor .*got 42/);
  assert.match(message(() => setBackend('gpu', { mode: 'webasm', GPU: () => 1 })), /option GPU must be .*got another function/);
  assert.match(message(() => setBackend('gpu', { mode: 'webasm', gpu: 1 } as never)), /setBackend\('gpu'\).*gpu/);
  assert.is(getBackend().name, 'cpu');
});

test("kernelClasses(): 'webasm' reports WebAssemblyKernel once a kernel ran, nothing before", () => {
  const b = createGpuBackend({ mode: 'webasm' });
  try {
    assert.equal(b.kernelClasses(), []);
    const y = b.multiply(Float32Array.of(1, 2), Float32Array.of(3, 4));
    assert.equal(Array.from(y), [3, 8]);
    assert.equal(b.kernelClasses(), ['WebAssemblyKernel']);
  } finally {
    b.dispose();
  }
});

test.run();
