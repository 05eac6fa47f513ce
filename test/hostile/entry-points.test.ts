// Other public entry points tried as an attacker: sizes that cannot be allocated, keys that
// are Object.prototype members, misspelt or mistyped callback options. Each error must name
// the entry point and the value, and be thrown before anything is allocated or changed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadImage } from '../../src/image/load.js';
import { ModelCheckpoint } from '../../src/io/index.js';
import { Dense, Flatten } from '../../src/layers/index.js';
import { Sequential, type FitArgs } from '../../src/model/sequential.js';
import { tensor } from '../../src/tensor.js';
import { EarlyStopping, LambdaCallback, type Callback } from '../../src/train/callbacks.js';
import { SGD } from '../../src/train/optimizers.js';
import { setSeed } from '../../src/util/random.js';
import { rejects, throws } from '../helpers.js';
import { resolve } from 'node:path';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/rgb.png');

test('sizes no typed array can hold are named, with the layer and the weight, before allocating', () => {
  throws(() => new Sequential({ layers: [new Dense({ units: 1e9, inputShape: [10] })] }), /Sequential\.add: Dense '.*': weight 'kernel': shape \[10, 1000000000\] has 10,000,000,000 values, more than the 2,147,483,647 a tensor or weight can hold/, 'Dense 1e9 units');
  throws(() => new Sequential({ layers: [new Flatten({ inputShape: [1e9, 1e9, 3] }), new Dense({ units: 1 })] }), /weight 'kernel': shape \[3000000000000000000, 1\] has .* values, more than the 2,147,483,647/, 'huge inputShape');
  throws(() => tensor(0, [1e5, 1e5, 1e5]), /^tensor: shape \[100000, 100000, 100000\] has 1,000,000,000,000,000 values, more than the 2,147,483,647/, 'tensor');
  throws(() => tensor([1, 2]).reshape([65536, 65536, 0.5] as number[]), /reshape: shape .* has dimension 0.5/, 'reshape fraction');
});

test('loadImage targetSize over the pixel budget is refused before the resize allocates', async () => {
  await rejects(loadImage(FIXTURE, { targetSize: [100000, 100000] }), /^loadImage: targetSize asks for 100000×100000 = 10,000,000,000 pixels, over the limit of 89,478,485/, 'targetSize');
  const ok = await loadImage(FIXTURE, { targetSize: [3, 2] });
  assert.equal([...ok.shape], [3, 2, 3]);
});

test("monitor or filepath fields named like Object.prototype members ('constructor') are missing, not functions", async () => {
  throws(() => new ModelCheckpoint({ filepath: '/tmp/ckpt-{constructor}' }).formatPath(0, { loss: 1 }), /ModelCheckpoint: filepath field '\{constructor\}' is not in the logs; available: epoch, loss/, 'filepath');
  setSeed(1);
  const m = new Sequential({ layers: [new Dense({ units: 1, activation: 'sigmoid', inputShape: [2] })] });
  m.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'binaryCrossentropy' });
  const x = tensor([0, 1, 1, 0], [2, 2]);
  const y = tensor([0, 1], [2, 1]);
  await rejects(m.fit(x, y, { verbose: 0, callbacks: [new EarlyStopping({ monitor: 'constructor' })] }), /EarlyStopping: monitored 'constructor' is not in the logs; available: loss/, 'EarlyStopping');
  await rejects(m.fit(x, y, { verbose: 0, callbacks: [new ModelCheckpoint({ filepath: '/tmp/never', saveBestOnly: true, monitor: 'toString' })] }), /ModelCheckpoint: monitored 'toString' is not in the logs/, 'ModelCheckpoint monitor');
});

test('EarlyStopping and LambdaCallback: misspelt or mistyped options throw instead of being ignored', () => {
  throws(() => new EarlyStopping({ patienc: 3 } as never), /EarlyStopping: unknown option 'patienc'; known: monitor, minDelta, patience/, 'misspelt key');
  throws(() => new EarlyStopping({ minDelta: NaN }), /EarlyStopping: minDelta must be a finite number, got null/, 'NaN minDelta');
  throws(() => new EarlyStopping({ mode: 'maximum' } as never), /EarlyStopping: mode must be 'auto', 'min' or 'max', got "maximum"/, 'mode');
  throws(() => new EarlyStopping({ restoreBestWeights: 'yes' } as never), /restoreBestWeights must be true or false, got "yes"/, 'restoreBestWeights');
  throws(() => new LambdaCallback({ onEpochEnds: () => undefined } as never), /LambdaCallback: unknown option 'onEpochEnds'; known: setModel, onTrainBegin/, 'misspelt hook');
  throws(() => new LambdaCallback({ onEpochEnd: 'log' } as never), /LambdaCallback: onEpochEnd must be a function, got string/, 'hook not a function');
  throws(() => new LambdaCallback(JSON.parse('{"__proto__": {"onEpochEnd": 1}}') as Callback), /LambdaCallback: unknown option '__proto__'/, '__proto__ hook');
  const cb = new LambdaCallback({ onEpochEnd: () => undefined });
  assert.is(Object.getPrototypeOf(cb), LambdaCallback.prototype);
  assert.is(typeof (cb as Callback).onEpochEnd, 'function');
});

test('fit option objects with inherited or prototype keys: a null-prototype object works, unknown own keys throw', async () => {
  setSeed(2);
  const m = new Sequential({ layers: [new Dense({ units: 1, activation: 'sigmoid', inputShape: [2] })] });
  m.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'binaryCrossentropy' });
  const x = tensor([0, 1, 1, 0], [2, 2]);
  const y = tensor([0, 1], [2, 1]);
  const args = Object.assign(Object.create(null), { epochs: 1, verbose: 0 }) as FitArgs;
  const h = await m.fit(x, y, args);
  assert.is(h.epoch.length, 1);
  await rejects(m.fit(x, y, JSON.parse('{"verbose": 0, "__proto__": {"epochs": 1000}}') as FitArgs), /^fit: unknown option '__proto__'/, 'own __proto__ key');
});

test.run();
