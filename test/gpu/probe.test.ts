// The headless-GL driver probe: what it reports for software and hardware drivers, and the cause
// it carries when the process's shared-object map cannot be read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { glDriver } from '../../src/backend/gpu/probe.js';

test('glDriver: Mesa llvmpipe or swrast in the maps is a software rasterizer; other drivers are hardware', () => {
  assert.equal(glDriver(() => '7f00-7f10 r-xp 0 08:01 1 /usr/lib/x86_64-linux-gnu/dri/swrast_dri.so\n'), {
    software: true,
    reason: 'headless GL on a software rasterizer (Mesa swrast/llvmpipe)',
  });
  assert.equal(glDriver(() => '7f00-7f10 r-xp 0 08:01 1 /usr/lib/x86_64-linux-gnu/libnvidia-glcore.so.550\n'), {
    software: false,
    reason: 'headless GL on a hardware driver',
  });
});

test('glDriver: an unreadable /proc/self/maps is taken for software and the reason carries the error', () => {
  const r = glDriver(() => {
    throw new Error("ENOENT: no such file or directory, open '/proc/self/maps'");
  });
  assert.is(r.software, true);
  assert.is(r.reason, "headless GL on a driver of unknown kind, taken for a software rasterizer: reading /proc/self/maps failed (ENOENT: no such file or directory, open '/proc/self/maps')");
});

test('glDriver: the default reader reads /proc/self/maps on Linux', () => {
  if (process.platform !== 'linux') return;
  const r = glDriver();
  assert.not.match(r.reason, /failed/, r.reason);
  assert.match(r.reason, /^headless GL on (a software rasterizer|a hardware driver)/);
});

test.run();
