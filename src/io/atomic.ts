// Writes a directory of files so that a reader sees either the old directory or the complete
// new one, never a mix: everything goes into a sibling temp directory first (fsynced), then
// the old directory is renamed aside, the new one renamed into place, and the old one
// removed. If the second rename fails, the old one is renamed back. A process killed between
// the two renames leaves the previous version intact in `.NAME.old-*` next to the target
// (loadModel says so when the target is missing).
import * as fs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { hasOwn } from '../util/own-map.js';

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
    throw new Error(`${owner}: replacing '${dir}' failed, ${where}: ${(e as Error).message}`);
  }
  await syncDir(dirname(dir));
  if (movedAside) await fsOps.rm(old);
}
