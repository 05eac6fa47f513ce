// Writes a directory of files so that a reader sees either the old directory or the complete
// new one, never a mix: everything goes into a sibling temp directory first (fsynced), then
// the old directory is renamed aside, the new one renamed into place, and the old one
// removed. If the second rename fails, the old one is renamed back. A process killed between
// the two renames leaves the previous version intact in `.NAME.old-PID-*` next to the target:
// loadModel loads it from there (readers retry while a live save is between its renames),
// and the next save puts it back before replacing it. Temporaries left by dead processes are
// removed by the next save. Saves to one directory from one process run one after another.
import { hasOwn } from '../util/own-map.js';
import { lazyFunctions } from '../util/node-builtins.js';

// Node built-ins fetched on first call (see util/node-builtins.ts).
const fs = lazyFunctions('node:fs/promises', ['mkdir', 'open', 'readdir', 'rename', 'rm', 'stat'], 'saveModel');
const { basename, dirname, join, resolve } = lazyFunctions('node:path', ['basename', 'dirname', 'join', 'resolve'], 'saveModel');

/**
 * The file-system calls the writer uses. Tests replace members to simulate a failure at a
 * given step (a rename that fails, a disk that fills up); not part of the public API.
 */
export const fsOps = {
  mkdir: (path: string) => fs.mkdir(path, { recursive: true }).then(() => undefined),
  writeFile: async (path: string, data: Uint8Array | string): Promise<void> => {
    const fh = await fs.open(path, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  rename: (from: string, to: string) => fs.rename(from, to),
  rm: (path: string) => fs.rm(path, { recursive: true, force: true }),
};

let counter = 0;
/** Tags of this process's saves now between their first write and their cleanup. */
const inFlight = new Set<string>();
/** Per target directory, the end of the last save queued in this process. */
const queues = new Map<string, Promise<unknown>>();

/** Parsed `.NAME.tmp-TAG` / `.NAME.old-TAG` sibling of `dir`, or null for other names. */
export function parseSibling(dir: string, name: string): { kind: 'tmp' | 'old'; tag: string; pid: number } | null {
  const prefix = basename(siblingPrefix(dir));
  if (!name.startsWith(prefix)) return null;
  const m = /^(tmp|old)-((\d+)-[0-9a-z]+-\d+)$/.exec(name.slice(prefix.length));
  return m ? { kind: m[1] as 'tmp' | 'old', tag: m[2], pid: Number(m[3]) } : null;
}

/** True when the save that made a sibling with this tag may still be running. */
export function saveIsLive(tag: string, pid: number): boolean {
  if (pid === process.pid) return inFlight.has(tag);
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Before a save: puts back the previous version left by a save killed between its renames
 * (when `dir` is missing), and removes temporaries of saves that are no longer running.
 */
async function recoverStale(dir: string): Promise<void> {
  const parent = dirname(dir);
  const names = (await fs.readdir(parent).catch(() => [] as string[])).sort();
  const stale = names.map((n) => ({ n, s: parseSibling(dir, n) })).filter((e) => e.s && !saveIsLive(e.s.tag, e.s.pid));
  const olds = stale.filter((e) => e.s!.kind === 'old');
  if (olds.length && !(await fs.stat(dir).catch(() => null))) {
    const newest = olds.sort((a, b) => a.s!.tag.split('-')[1].localeCompare(b.s!.tag.split('-')[1])).pop()!;
    await fsOps.rename(join(parent, newest.n), dir);
    stale.splice(stale.indexOf(newest), 1);
  }
  for (const e of stale) await fsOps.rm(join(parent, e.n));
}

/** Prefix of the temp and old sibling directories of `dir`. */
export function siblingPrefix(dir: string): string {
  return join(dirname(dir), `.${basename(dir)}.`);
}

async function syncDir(path: string): Promise<void> {
  // Makes the renames durable on POSIX; directories cannot be opened for sync on Windows.
  try {
    const fh = await fs.open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* best effort */
  }
}

/**
 * Replaces directory `dir` with exactly `files` (name → content), atomically as described
 * above. An existing `dir` may only hold the names being written: a directory with other
 * files in it is refused rather than replaced, so a mistaken path cannot delete user data.
 */
export async function writeDirAtomic(dir: string, files: Record<string, Uint8Array | string>, owner: string): Promise<void> {
  dir = dir.length > 1 ? dir.replace(/[\\/]+$/, '') : dir;
  const key = resolve(dir);
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.then(() => writeDirNow(dir, files, owner), () => writeDirNow(dir, files, owner));
  const settled = run.catch(() => undefined);
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return run;
}

async function writeDirNow(dir: string, files: Record<string, Uint8Array | string>, owner: string): Promise<void> {
  await recoverStale(dir);
  const existing = await fs.stat(dir).catch(() => null);
  if (existing) {
    if (!existing.isDirectory()) throw new Error(`${owner}: '${dir}' exists and is not a directory`);
    const others = (await fs.readdir(dir)).filter((f) => !hasOwn(files, f));
    if (others.length) {
      throw new Error(`${owner}: '${dir}' holds other files (${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''}); save into a new or empty directory, or one that holds only a saved model`);
    }
  }
  await fsOps.mkdir(dirname(dir));
  const tag = `${process.pid}-${Date.now().toString(36)}-${counter++}`;
  const tmp = `${siblingPrefix(dir)}tmp-${tag}`;
  const old = `${siblingPrefix(dir)}old-${tag}`;
  inFlight.add(tag);
  try {
    await writeAndSwap(dir, files, owner, existing !== null, tmp, old);
  } finally {
    inFlight.delete(tag);
  }
}

async function writeAndSwap(dir: string, files: Record<string, Uint8Array | string>, owner: string, existing: boolean, tmp: string, old: string): Promise<void> {
  try {
    await fsOps.mkdir(tmp);
    for (const [name, data] of Object.entries(files)) await fsOps.writeFile(join(tmp, name), data);
    await syncDir(tmp);
  } catch (e) {
    await fsOps.rm(tmp).catch(() => undefined);
    throw new Error(`${owner}: writing '${dir}' failed, previous contents kept: ${(e as Error).message}`);
  }
  let movedAside = false;
  try {
    if (existing) {
      await fsOps.rename(dir, old);
      movedAside = true;
    }
    await fsOps.rename(tmp, dir);
  } catch (e) {
    const restored = !movedAside || (await fsOps.rename(old, dir).then(() => true, () => false));
    await fsOps.rm(tmp).catch(() => undefined);
    const where = restored ? 'previous contents kept' : `previous contents kept in '${old}'`;
    const code = (e as NodeJS.ErrnoException).code;
    const concurrent = code === 'ENOTEMPTY' || code === 'EEXIST' || (code === 'ENOENT' && !movedAside && existing);
    const cause = concurrent ? `another process saved to '${dir}' at the same time (${code}); this save was not written` : (e as Error).message;
    throw new Error(`${owner}: replacing '${dir}' failed, ${where}: ${cause}`);
  }
  await syncDir(dirname(dir));
  if (movedAside) await fsOps.rm(old);
}
