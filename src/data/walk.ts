// Walks class folders for image files, safe against symbolic links: a loop, a dangling link
// or a link into another class folder becomes a skipped file with a reason (node's raw ELOOP
// or ENOENT aborted the whole scan, and a link from one class folder into another counted
// its images twice, once under the wrong label).
import type { SkippedFile } from './scan.js';
import { lazyFunctions } from '../util/node-builtins.js';

// Node built-ins fetched on first call (see util/node-builtins.ts).
const { readdir, realpath, stat } = lazyFunctions('node:fs/promises', ['readdir', 'realpath', 'stat'], 'reading an image directory');
const { join, relative, isAbsolute } = lazyFunctions('node:path', ['join', 'relative', 'isAbsolute'], 'reading an image directory');

const inside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** Why a link cannot be followed, from its error. */
function linkReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return 'symbolic link loop (the link leads back to itself)';
  if (code === 'ENOENT') return 'dangling symbolic link (its target does not exist)';
  return `unreadable link: ${(e as Error).message}`;
}

/** True when `path` is a directory or a link to one; false for anything else, including a broken link. */
export async function isDirectoryEntry(path: string, entry: { isDirectory(): boolean; isSymbolicLink(): boolean }): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/**
 * The image files under each of `classDirs` (recursively, in code-point order), following
 * links, each real file at most once and only under the class folder it really lies in.
 * Problems go to `skipped`.
 */
export async function listClassImages(classDirs: readonly string[], isImageName: (name: string) => boolean, skipped: SkippedFile[]): Promise<string[][]> {
  const roots = await Promise.all(classDirs.map((d) => realpath(d)));
  const seenFiles = new Map<string, string>();
  const walk = async (dir: string, label: number, ancestors: Set<string>, out: string[]): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      let real = path;
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        try {
          real = await realpath(path);
          isDir = (await stat(real)).isDirectory();
        } catch (err) {
          if (isDir || isImageName(e.name) || (err as NodeJS.ErrnoException).code === 'ELOOP') skipped.push({ path, reason: linkReason(err) });
          continue;
        }
      } else if (isDir) real = await realpath(path);
      if (isDir) {
        if (ancestors.has(real)) {
          skipped.push({ path, reason: `symbolic link loop (leads back to ${real})` });
          continue;
        }
        await walk(path, label, new Set([...ancestors, real]), out);
        continue;
      }
      if (!isImageName(e.name)) continue;
      // A plain file inside a linked folder has a different real path too.
      if (!e.isSymbolicLink()) real = await realpath(path);
      const owner = roots.findIndex((r, j) => j !== label && inside(r, real) && !inside(roots[label], real));
      if (owner >= 0) {
        skipped.push({ path, reason: `link to ${real} in another class folder (${classDirs[owner]}); it would be counted under the wrong label` });
        continue;
      }
      const first = seenFiles.get(real);
      if (first !== undefined) {
        skipped.push({ path, reason: `the same file as ${first} (through a link); counted once` });
        continue;
      }
      seenFiles.set(real, path);
      out.push(path);
    }
  };
  const lists: string[][] = [];
  for (let label = 0; label < classDirs.length; label++) {
    const out: string[] = [];
    await walk(classDirs[label], label, new Set([roots[label]]), out);
    lists.push(out);
  }
  return lists;
}
