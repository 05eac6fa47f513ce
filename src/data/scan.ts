import { checkImageFile, decodeImage, ImageDecodeError } from '../image/decode.js';
import { ProgressBar } from '../util/data-progress.js';
import { ownRecord } from '../util/own-map.js';
import { isDirectoryEntry, listClassImages } from './walk.js';
import { lazyFunctions } from '../util/node-builtins.js';

// Node built-ins fetched on first call (see util/node-builtins.ts).
const { readdir, readFile } = lazyFunctions('node:fs/promises', ['readdir', 'readFile'], 'reading an image directory');
const { basename, extname, join } = lazyFunctions('node:path', ['basename', 'extname', 'join'], 'reading an image directory');

/** What to do with a file that cannot be decoded: throw (default) or skip it with one warning. */
export type OnBadFile = 'error' | 'skip';

/** One labelled sample of a directory: its path and class index. */
export interface LabelledFile {
  path: string;
  label: number;
}

/** A file left out, with the reason. */
export interface SkippedFile {
  path: string;
  reason: string;
}

/** The result of {@link scanImageDirectory}. */
export interface DirectoryScan {
  layout: 'folders' | 'flat';
  classNames: string[];
  /** Sorted by class, then by path. */
  files: LabelledFile[];
  skipped: SkippedFile[];
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

function isImageName(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Throws one error listing the bad files, or warns once listing all of them, per `onBadFile`.
 * `fn` names the calling function in the message.
 */
export function reportBadFiles(fn: string, skipped: readonly SkippedFile[], onBadFile: OnBadFile): void {
  if (skipped.length === 0) return;
  const lines = skipped.map((s) => `  ${s.path}: ${s.reason}`);
  if (onBadFile === 'error') {
    const shown = lines.slice(0, 20).join('\n');
    const more = skipped.length > 20 ? `\n  … and ${skipped.length - 20} more` : '';
    throw new ImageDecodeError(
      skipped[0].path,
      `${skipped[0].reason}\n${fn}: ${skipped.length} bad file(s) (pass onBadFile: 'skip' to leave them out):\n${shown}${more}`,
    );
  }
  console.warn(`${fn}: skipped ${skipped.length} bad file(s):\n${lines.join('\n')}`);
}

/**
 * Lists the labelled images of a directory in either layout:
 * - folders: `dir/<class>/**.{png,jpg,jpeg}`, classes sorted by name (as Keras) or as given;
 *   image files directly in `dir` are then ignored.
 * - flat (no sub-folders): Kaggle naming `dir/<class>.<anything>.<ext>`, e.g. `cat.123.jpg`;
 *   the class is the text before the first dot. A flat file without a class (`123.jpg`)
 *   is a bad file.
 *
 * Files are validated during the scan with {@link checkImageFile}: the magic bytes and the
 * end-of-file marker are read (two small reads per file), and only files missing the end
 * marker are decoded fully. So text files named `.jpg`, empty files and truncated PNG/JPEG
 * files are found here, before training starts. Bad files are not thrown or warned about
 * here: they come back in `skipped` for the caller to report with {@link reportBadFiles}.
 * Files with other extensions are ignored, as in Keras.
 */
export async function scanImageDirectory(
  dir: string,
  options: { classNames?: readonly string[]; progress?: boolean; fn: string },
): Promise<DirectoryScan> {
  const { fn } = options;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new Error(`${fn}: cannot read directory "${dir}": ${e instanceof Error ? e.message : String(e)}`);
  }
  const subdirs: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (await isDirectoryEntry(join(dir, e.name), e)) subdirs.push(e.name);
  }
  subdirs.sort(byCodePoint);

  const candidates: LabelledFile[] = [];
  const skipped: SkippedFile[] = [];
  let classNames: string[];
  let layout: DirectoryScan['layout'];
  if (subdirs.length > 0) {
    layout = 'folders';
    if (options.classNames) {
      const missing = options.classNames.filter((c) => !subdirs.includes(c));
      if (missing.length) throw new Error(`${fn}: classNames [${missing.join(', ')}] have no folder in "${dir}" (folders: ${subdirs.join(', ')})`);
      classNames = [...options.classNames];
    } else classNames = subdirs;
    const lists = await listClassImages(classNames.map((c) => join(dir, c)), isImageName, skipped);
    lists.forEach((paths, label) => paths.forEach((path) => candidates.push({ path, label })));
  } else {
    layout = 'flat';
    const names = entries.filter((e) => !e.isDirectory() && isImageName(e.name)).map((e) => e.name).sort(byCodePoint);
    const byClass = new Map<string, string[]>();
    for (const name of names) {
      const parts = basename(name).split('.');
      if (parts.length < 3 || parts[0] === '') {
        skipped.push({ path: join(dir, name), reason: `no class in the file name (flat layout expects "<class>.<id>.<ext>", e.g. "cat.123.jpg")` });
        continue;
      }
      const list = byClass.get(parts[0]) ?? [];
      list.push(join(dir, name));
      byClass.set(parts[0], list);
    }
    if (options.classNames) {
      const missing = options.classNames.filter((c) => !byClass.has(c));
      if (missing.length) throw new Error(`${fn}: classNames [${missing.join(', ')}] have no "<class>.<id>.<ext>" files in "${dir}" (found: ${[...byClass.keys()].join(', ')})`);
      classNames = [...options.classNames];
    } else classNames = [...byClass.keys()].sort(byCodePoint);
    classNames.forEach((c, label) => {
      for (const path of byClass.get(c)!) candidates.push({ path, label });
    });
  }

  const bar = ProgressBar.enabled(options.progress) ? new ProgressBar(`Scanning ${dir}`, candidates.length) : undefined;
  const ok = await mapLimit(candidates, 32, async (file) => {
    const check = await checkImageFile(file.path);
    let reason: string | undefined;
    if (check.status === 'bad') reason = check.reason;
    else if (check.status === 'unsure') {
      try {
        decodeImage(await readFile(file.path), file.path);
      } catch (e) {
        reason = e instanceof ImageDecodeError ? e.reason : e instanceof Error ? e.message : String(e);
      }
    }
    bar?.tick();
    if (reason !== undefined) skipped.push({ path: file.path, reason });
    return reason === undefined;
  });
  const files = candidates.filter((_, i) => ok[i]);
  bar?.finish(`${files.length} images, ${classNames.length} classes${skipped.length ? `, ${skipped.length} bad` : ''}`);
  if (files.length === 0) throw new Error(`${fn}: no readable PNG or JPEG images in "${dir}"${skipped.length ? ` (${skipped.length} bad files)` : ''}`);
  skipped.sort((a, b) => byCodePoint(a.path, b.path));
  return { layout, classNames, files, skipped };
}

/** Number of files per class name. */
export function countClasses(files: readonly LabelledFile[], classNames: readonly string[]): Record<string, number> {
  const perLabel = classNames.map(() => 0);
  for (const f of files) perLabel[f.label]++;
  return ownRecord(classNames.map((c, i) => [c, perLabel[i]] as const));
}
