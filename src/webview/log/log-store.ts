/**
 * The lines of a streamed log, for a virtualised view: appended in chunks that may end mid-line,
 * each line remembering the SGR state it starts in (interned, so a 50 MB log costs one small
 * integer per line, not an object). Pure: no DOM.
 */
import { endState, PLAIN, stateKey, type SgrState } from './ansi';

export class LogStore {
  private readonly lines: string[] = [];
  private startIds = new Uint32Array(1024);
  private readonly states: SgrState[] = [PLAIN];
  private readonly stateIds = new Map<string, number>([[stateKey(PLAIN), 0]]);
  /** Text after the last newline: shown as the last line, completed by the next chunk. */
  private partial = '';
  private partialStart = 0;
  private lastEnd: SgrState = PLAIN;
  /** Total characters received (for the status line). */
  chars = 0;

  /** Number of lines, counting an unterminated last line. */
  get length(): number {
    return this.lines.length + (this.partial ? 1 : 0);
  }

  /** Number of lines that ended with a newline (they no longer change). */
  get completeLength(): number {
    return this.lines.length;
  }

  line(i: number): string {
    return i < this.lines.length ? (this.lines[i] ?? '') : this.partial;
  }

  startState(i: number): SgrState {
    const id = i < this.lines.length ? (this.startIds[i] ?? 0) : this.partialStart;
    return this.states[id] ?? PLAIN;
  }

  clear(): void {
    this.lines.length = 0;
    this.partial = '';
    this.partialStart = 0;
    this.lastEnd = PLAIN;
    this.chars = 0;
  }

  private intern(s: SgrState): number {
    const key = stateKey(s);
    let id = this.stateIds.get(key);
    if (id === undefined) {
      id = this.states.length;
      this.states.push(s);
      this.stateIds.set(key, id);
    }
    return id;
  }

  /** Appends a chunk; CRLF and lone CR-before-LF are normalised. Returns the first line index that changed. */
  append(chunk: string): number {
    const firstChanged = this.lines.length;
    this.chars += chunk.length;
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    if (this.startIds.length < this.lines.length + parts.length) {
      let cap = this.startIds.length;
      while (cap < this.lines.length + parts.length) cap *= 2;
      const grown = new Uint32Array(cap);
      grown.set(this.startIds);
      this.startIds = grown;
    }
    let state = this.lastEnd;
    let id = this.intern(state);
    for (let raw of parts) {
      if (raw.endsWith('\r')) raw = raw.slice(0, -1);
      this.startIds[this.lines.length] = id;
      this.lines.push(raw);
      const next = endState(raw, state);
      if (next !== state) {
        state = next;
        id = this.intern(state);
      }
    }
    this.lastEnd = state;
    this.partialStart = id;
    return firstChanged;
  }
}
