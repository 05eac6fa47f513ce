// Entry of the decoding pool's worker threads (see DecodePool): one job in, one reply out,
// the pixel buffer transferred rather than copied. Also a tsup entry, so that it exists as
// dist/decode-worker.js and .cjs next to the bundles that start it.
import { parentPort } from 'node:worker_threads';
import { loadSharp } from '../image/sharp-decoder.js';
import { decodeFile, type DecodeJob, type DecodeReply } from './decode-pool.js';

const port = parentPort;
if (!port) throw new Error('decode-worker: must run as a worker thread of DecodePool');

let sharpTuned = false;

port.on('message', (job: DecodeJob) => {
  void (async (): Promise<void> => {
    let reply: DecodeReply;
    const transfer: ArrayBuffer[] = [];
    try {
      if (job.decoder === 'sharp' && !sharpTuned) {
        const sharp = await loadSharp();
        if (!(sharp instanceof Error)) {
          sharp.concurrency(1);
          sharp.cache(false);
        }
        sharpTuned = true;
      }
      const r = await decodeFile(job);
      if (r.ok) {
        const { width, height, channels, data } = r.image;
        // sharp's pixels can sit in a pooled Buffer; copy those so the transfer moves only this image.
        const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer ? data : data.slice();
        transfer.push(own.buffer as ArrayBuffer);
        reply = { id: job.id, ok: true, width, height, channels, data: own };
      } else reply = { id: job.id, ok: false, reason: r.reason };
    } catch (e) {
      reply = { id: job.id, ok: 'crash', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    }
    port.postMessage(reply, transfer);
  })();
});
port.postMessage('ready');
