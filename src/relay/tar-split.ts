// A minimal reader of tar headers (ustar, GNU and pax long names) for the swarm task's boot script:
// it never extracts anything itself. It reads the bundle's first entry (manifest.json) and routes
// every following entry, with its extended headers, to the writer of its top-level folder `m<k>`
// (a `tar -x --strip-components=1` per mount). Node built-ins only.

const BLOCK = 512;

/** Reads exact byte counts from an async stream of Buffers. */
export class ByteReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** Between 1 and `max` bytes (what is buffered, else the next chunk), or throws at the end of the stream. */
  async readSome(max: number): Promise<Buffer> {
    while (this.length === 0) {
      const next = await this.source.next();
      if (next.done === true) throw new Error('the tar stream ended early');
      this.chunks.push(next.value);
      this.length += next.value.length;
    }
    const first = this.chunks[0];
    const n = Math.min(max, first.length);
    const out = first.subarray(0, n);
    if (n === first.length) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.length -= n;
    return out;
  }

  /** Exactly `n` bytes, or throws when the stream ends first. */
  async read(n: number): Promise<Buffer> {
    while (this.length < n && !this.ended) {
      const next = await this.source.next();
      if (next.done === true) this.ended = true;
      else {
        this.chunks.push(next.value);
        this.length += next.value.length;
      }
    }
    if (this.length < n) throw new Error('the tar stream ended early');
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }
}

/** One entry's header as far as routing needs it. */
export interface TarHeader {
  name: string;
  type: string;
  size: number;
}

function cString(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  return (nul < 0 ? field : field.subarray(0, nul)).toString('utf8');
}

function numeric(buf: Buffer, start: number, len: number): number {
  const field = buf.subarray(start, start + len);
  if ((field[0] & 0x80) !== 0) {
    let v = 0;
    for (let i = 1; i < len; i++) v = v * 256 + field[i];
    return v;
  }
  const text = cString(buf, start, len).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** The header in `block`, or undefined for an all-zero block (end of archive). Throws on a bad checksum. */
export function parseHeader(block: Buffer): TarHeader | undefined {
  if (block.every((b) => b === 0)) return undefined;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  if (sum !== numeric(block, 148, 8)) throw new Error('bad tar header checksum');
  const type = String.fromCharCode(block[156] || 48);
  const isUstar = block.subarray(257, 263).toString('latin1') === 'ustar\0';
  const prefix = isUstar ? cString(block, 345, 155) : '';
  const name = cString(block, 0, 100);
  return { name: prefix !== '' ? `${prefix}/${name}` : name, type, size: numeric(block, 124, 12) };
}

/** Types whose size counts data blocks (others carry none). */
const HAS_DATA = new Set(['0', '7', 'x', 'g', 'L', 'K']);

/** Blocks of data following a header. */
export function dataBlocks(h: TarHeader): number {
  return HAS_DATA.has(h.type) ? Math.ceil(h.size / BLOCK) : 0;
}

/** `path` and `size` of a pax extended header's records. */
export function paxRecords(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = parseInt(data.subarray(at, space).toString('latin1'), 10);
    if (!Number.isSafeInteger(len) || len <= 0 || at + len > data.length) throw new Error('bad pax header');
    const record = data.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === 'path') out.path = value;
    if (key === 'size') out.size = Number(value);
    at += len;
  }
  return out;
}

/** Where an entry goes: its raw blocks (extended headers, header, data) in order, and its real name. */
export interface TarEntry {
  name: string;
  header: TarHeader;
  /** Header blocks to copy as they are: pending extended headers, then the entry's own header. */
  headerBlocks: Buffer;
  /** Bytes of data blocks (padded) that follow. */
  dataBytes: number;
}

const MAX_EXTENDED = 1024 * 1024;

/**
 * The next entry of the stream (pax `x` and GNU `L`/`K` headers folded into it; global `g` headers
 * dropped), or undefined at the end of the archive. The caller then reads `dataBytes` itself.
 */
export async function nextEntry(reader: ByteReader): Promise<TarEntry | undefined> {
  const pending: Buffer[] = [];
  let longName: string | undefined;
  let paxPath: string | undefined;
  let paxSize: number | undefined;
  for (;;) {
    const block = await reader.read(BLOCK);
    const h = parseHeader(block);
    if (h === undefined) return undefined;
    if (h.type === 'x' || h.type === 'g' || h.type === 'L' || h.type === 'K') {
      if (h.size > MAX_EXTENDED) throw new Error('tar extended header too large');
      const data = await reader.read(dataBlocks(h) * BLOCK);
      if (h.type === 'g') continue;
      pending.push(block, data);
      if (h.type === 'L') longName = cString(data, 0, h.size);
      if (h.type === 'x') {
        const records = paxRecords(data.subarray(0, h.size));
        paxPath = records.path ?? paxPath;
        paxSize = records.size ?? paxSize;
      }
      continue;
    }
    if (paxSize !== undefined) h.size = paxSize;
    pending.push(block);
    return { name: paxPath ?? longName ?? h.name, header: h, headerBlocks: Buffer.concat(pending), dataBytes: dataBlocks(h) * BLOCK };
  }
}
