/**
 * The recording view of a device's DMA (`device.dma`): mask changes, allocations and mappings with
 * their IOVA and size, frees and unmaps on the device's DMA track — and the bytes the device can read.
 *
 * Host memory is written by the driver through a typed array, which nothing can watch. So the trace
 * keeps a copy of every mapping the device has and compares the mapping with that copy at three
 * moments; the changed span ([first, last] differing byte) is written as a "host memory" instant
 * (IOVA, base64 bytes, and `at`, the moment):
 * * 'write' — before each BAR write: any write may start a DMA (edu's DMA_CMD, an NVMe doorbell), so
 *   replay writes these bytes into the model's memory first and the model reads what the device read;
 * * 'deliver' — before an interrupt is delivered (or a bus driver's MSI message passed on): a device
 *   finishes its DMA before it interrupts, so these are the bytes the device wrote, which replay
 *   compares with what the model wrote;
 * * 'unmap' / 'close' — the last look at a mapping.
 * Not captured: memory the driver changes after the write that started a DMA while the device still
 * reads it (the model reads the bytes as of the write). The comparison costs a memcmp of every
 * mapping at those moments, only while tracing.
 */
import type { DmaBuffer, DmaMapping, HostMemory, PciDma } from '../pci/device.ts';
import { CAT, hexString, TID } from './format.ts';
import { overlay } from './overlay.ts';
import type { DeviceTracks } from './tracks.ts';

interface Watched {
  readonly iova: bigint;
  readonly bytes: Uint8Array;
  readonly seen: Uint8Array;
}

export class TracedDma {
  /** What the device's `dma` property returns while traced. */
  readonly view: PciDma;
  readonly #dma: PciDma;
  readonly #tracks: DeviceTracks;
  readonly #watched = new Set<Watched>();

  constructor(dma: PciDma, tracks: DeviceTracks) {
    this.#dma = dma;
    this.#tracks = tracks;
    tracks.name(TID.dma, 'DMA');
    this.view = overlay(dma, {
      setMask: (mask: bigint): void => this.#setMask(mask),
      alloc: (size: number, options?: { hugepage?: boolean }): DmaBuffer => this.#alloc(size, options),
      map: (memory: HostMemory, options?: Parameters<PciDma['map']>[1]): DmaMapping => this.#map(memory, options),
    });
  }

  /** Writes what changed in the device's mappings since the last look (see the module comment). */
  snapshot(at: 'write' | 'deliver' | 'unmap' | 'close'): void {
    if (this.#tracks.recorder.stopped) return; // nothing is written any more: no memcmp per delivery
    for (const w of this.#watched) {
      const { bytes, seen } = w;
      // Freed native memory is detached (zero-length); an unchanged mapping costs one memcmp.
      if (bytes.length !== seen.length || Buffer.compare(bytes, seen) === 0) continue;
      let first = 0;
      while (bytes[first] === seen[first]) first++;
      let last = bytes.length - 1;
      while (bytes[last] === seen[last]) last--;
      const changed = bytes.subarray(first, last + 1);
      seen.set(changed, first);
      const r = this.#tracks.recorder;
      this.#tracks.instant(TID.dma, 'host memory', CAT.dma, r.nextSeq(), r.now(), {
        at, iova: hexString(w.iova + BigInt(first)), length: changed.length, data: Buffer.from(changed).toString('base64'),
      });
    }
  }

  #setMask(mask: bigint): void {
    const r = this.#tracks.recorder;
    const seq = r.nextSeq();
    const ts = r.now();
    this.#dma.setMask(mask);
    this.#tracks.instant(TID.dma, 'set mask', CAT.dma, seq, ts, { mask: hexString(mask) });
  }

  #watch(iova: bigint, bytes: Uint8Array): Watched {
    const watched = { iova, bytes, seen: new Uint8Array(bytes.length) };
    this.#watched.add(watched);
    return watched;
  }

  #unwatched(watched: Watched, name: string, release: () => void): void {
    this.snapshot('unmap');
    this.#watched.delete(watched);
    const r = this.#tracks.recorder;
    const seq = r.nextSeq();
    const ts = r.now();
    release();
    this.#tracks.instant(TID.dma, name, CAT.dma, seq, ts, { iova: hexString(watched.iova) });
  }

  #alloc(size: number, options?: { hugepage?: boolean }): DmaBuffer {
    const r = this.#tracks.recorder;
    const seq = r.nextSeq();
    const ts = r.now();
    const buffer = this.#dma.alloc(size, options);
    this.#tracks.slice(TID.dma, 'alloc', CAT.dma, seq, ts, { iova: hexString(buffer.iova), size: buffer.size });
    // Fresh DMA memory is zero-filled on both backends: the copy starts equal to it.
    const watched = this.#watch(buffer.iova, buffer.bytes);
    let freed = false;
    return overlay(buffer, {
      free: (): void => {
        if (freed) return;
        freed = true;
        this.#unwatched(watched, 'free', () => buffer.free());
      },
    });
  }

  #map(memory: HostMemory, options?: Parameters<PciDma['map']>[1]): DmaMapping {
    const r = this.#tracks.recorder;
    const seq = r.nextSeq();
    const ts = r.now();
    const mapping = this.#dma.map(memory, options);
    this.#tracks.slice(TID.dma, 'map', CAT.dma, seq, ts, { iova: hexString(mapping.iova), size: mapping.size });
    // Existing memory may hold data already: the copy starts zeroed, so the next look records it.
    const watched = this.#watch(mapping.iova, memory.bytes.subarray(0, Math.min(mapping.size, memory.bytes.length)));
    let unmapped = false;
    return overlay(mapping, {
      unmap: (): void => {
        if (unmapped) return;
        unmapped = true;
        this.#unwatched(watched, 'unmap', () => mapping.unmap());
      },
    });
  }
}
