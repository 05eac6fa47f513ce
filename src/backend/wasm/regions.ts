import type { RegionAllocator } from '../arena.js';
import type { Engine } from './engine.js';

/**
 * Most bytes resident regions may take; the rest of the 2 GiB stays for the ops' scratch. Beyond
 * it (very large images or batches) outputs are copied out of the memory as they used to be.
 */
const RESIDENT_MAX_BYTES = 1 << 30;

/**
 * The allocator of regions of the engine's memory between regionBase and workBase, for the
 * arenas' resident outputs: first fit among released regions (split, the rest stays free), else
 * cut at workBase (the ops' scratch moves up above it; `grow` makes the bytes exist). Released
 * neighbours merge, and free space at the top goes back to scratch, so shapes that come and go
 * (a last partial batch, predict at several batch sizes) reuse memory rather than pile it up.
 */
export function regionAllocator(e: Engine, grow: (end: number) => boolean): RegionAllocator {
  /** Released regions, by offset, none adjacent (merged on release). */
  const free: { offset: number; bytes: number }[] = [];
  /** Bytes of each region handed out, by offset. */
  const taken = new Map<number, number>();
  return {
    alloc(size) {
      const bytes = Math.ceil(size / 64) * 64;
      let best = -1;
      for (let i = 0; i < free.length; i++) {
        if (free[i].bytes >= bytes && (best < 0 || free[i].bytes < free[best].bytes)) best = i;
      }
      let offset: number;
      if (best >= 0) {
        const f = free[best];
        offset = f.offset;
        if (f.bytes === bytes) free.splice(best, 1);
        else {
          f.offset += bytes;
          f.bytes -= bytes;
        }
      } else {
        offset = e.workBase;
        const end = offset + bytes;
        if (end - e.regionBase > RESIDENT_MAX_BYTES || !grow(end)) return -1;
        e.workBase = end;
      }
      taken.set(offset, bytes);
      return offset;
    },
    release(_size, offset) {
      // Regions of an engine replaced since (another build chosen) are not in `taken`.
      const bytes = taken.get(offset);
      if (bytes === undefined) return;
      taken.delete(offset);
      let i = 0;
      while (i < free.length && free[i].offset < offset) i++;
      free.splice(i, 0, { offset, bytes });
      if (i + 1 < free.length && offset + bytes === free[i + 1].offset) {
        free[i].bytes += free[i + 1].bytes;
        free.splice(i + 1, 1);
      }
      if (i > 0 && free[i - 1].offset + free[i - 1].bytes === offset) {
        free[i - 1].bytes += free[i].bytes;
        free.splice(i, 1);
      }
      const top = free[free.length - 1];
      if (top && top.offset + top.bytes === e.workBase) {
        e.workBase = top.offset;
        free.pop();
      }
    },
  };
}
