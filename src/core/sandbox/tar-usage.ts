import { Transform, type TransformCallback } from 'node:stream';

const BLOCK = 512;
const PAGE = 4096;

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** The size field of a ustar header: octal text, or base-256 when the top bit of its first byte is set. */
function headerSize(h: Buffer): number {
  const f = h.subarray(124, 136);
  if ((f[0] ?? 0) & 0x80) {
    let n = (f[0] ?? 0) & 0x7f;
    for (let i = 1; i < f.length; i++) n = n * 256 + (f[i] ?? 0);
    return n;
  }
  const text = f.toString('latin1').replace(/[\0 ].*$/s, '').trim();
  const n = text ? parseInt(text, 8) : 0;
  return Number.isFinite(n) ? n : 0;
}

/**
 * A pass-through for a tar stream (`git archive` → `tar -x`) that estimates what the extracted
 * tree takes on a tmpfs — a page per entry plus each file's data rounded up to pages — and calls
 * `onOver` once that passes `budgetBytes`. It only reads the block structure (a header every
 * 512-byte block boundary, then the entry's data), which is all a budget needs; the estimate is
 * never below the bytes streamed, so a header it misreads cannot make a large tree look small.
 */
export class TarUsageMeter extends Transform {
  /** Bytes streamed so far. */
  streamed = 0;
  /** The per-entry estimate so far. */
  private estimate = 0;
  private over = false;
  /** Bytes of the current entry's data (padded) still to skip. */
  private skip = 0;
  /** A header split across chunks. */
  private partial: Buffer[] = [];
  private partialLen = 0;

  constructor(
    private readonly budgetBytes: number,
    private readonly onOver: (usage: number) => void,
  ) {
    super();
  }

  /** Estimated bytes on a tmpfs so far. */
  get usage(): number {
    return Math.max(this.estimate, this.streamed);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.streamed += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      if (this.partialLen === 0 && chunk.length - i >= BLOCK) {
        // The common case: the whole header is in this chunk (no copy).
        this.header(chunk.subarray(i, i + BLOCK));
        i += BLOCK;
        continue;
      }
      const need = BLOCK - this.partialLen;
      const take = chunk.subarray(i, i + need);
      i += take.length;
      this.partial.push(take);
      this.partialLen += take.length;
      if (this.partialLen < BLOCK) break;
      const header = Buffer.concat(this.partial, BLOCK);
      this.partial = [];
      this.partialLen = 0;
      this.header(header);
    }
    if (!this.over && this.usage > this.budgetBytes) {
      this.over = true;
      this.onOver(this.usage);
    }
    cb(null, chunk);
  }

  private header(h: Buffer): void {
    // End-of-archive blocks are all zeros; a real header has a name and a checksum.
    if (h[0] === 0 && h[148] === 0 && h.every((b) => b === 0)) return;
    const size = headerSize(h);
    const type = String.fromCharCode(h[156] ?? 0);
    this.skip = roundUp(size, BLOCK);
    // pax / GNU long-name records describe the next entry; they take no room of their own.
    if ('xgLK'.includes(type)) return;
    this.estimate += PAGE + (type === '0' || type === '\0' || type === '7' ? roundUp(size, PAGE) : 0);
  }
}
