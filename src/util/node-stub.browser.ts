// What the browser bundle (tsup.config.ts) gives the Node-only WebGPU worker host
// (src/backend/gpu/webgpu-worker.ts) in place of node:module, node:path, node:url and
// node:worker_threads: gpu.js' 'webgpu' mode runs Dawn in a Node worker thread, which a page has
// not. Every name throws when used, so the rest of the gpu backend loads.
function nodeOnly(name: string): never {
  throw new Error(`setBackend('gpu', { mode: 'webgpu' }): needs Node (${name} of a Node built-in); in a browser use mode 'webgl2' or 'webgl'`);
}

/** Throws: Node only. */
export function createRequire(): never {
  return nodeOnly('createRequire');
}
/** Throws: Node only. */
export function dirname(): never {
  return nodeOnly('dirname');
}
/** Throws: Node only. */
export function join(): never {
  return nodeOnly('join');
}
/** Throws: Node only. */
export function pathToFileURL(): never {
  return nodeOnly('pathToFileURL');
}
/** Throws: Node only. */
export function receiveMessageOnPort(): never {
  return nodeOnly('receiveMessageOnPort');
}
/** Throws: Node only. */
export class MessageChannel {
  constructor() {
    nodeOnly('MessageChannel');
  }
}
/** Throws: Node only. */
export class Worker {
  constructor() {
    nodeOnly('Worker');
  }
}
