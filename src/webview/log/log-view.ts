/**
 * A virtualised log viewer: only the rows in view (plus a small overscan) exist in the DOM, so a
 * 50–100 MB log streams without freezing input. Appends only mark the view dirty; rendering
 * happens once per animation frame. Search runs in time slices of a few milliseconds so typing
 * stays responsive while it scans hundreds of thousands of lines.
 */
import { plainText } from './ansi';
import { LogStore } from './log-store';
import { renderLine } from './render-line';

/** Row height in px; main.css sets the same on `.log-row`. */
export const ROW_HEIGHT = 18;
/** Browsers cap element heights (~33 M px in Chromium); beyond this the scrollbar is scaled. */
const MAX_SCROLL_PX = 8_000_000;
const OVERSCAN = 10;
/** Search works this long per slice before yielding to input and rendering. */
const SEARCH_SLICE_MS = 6;

export interface LogViewState {
  scrollLine: number;
  follow: boolean;
  search: string;
}

export class LogView {
  readonly store = new LogStore();
  readonly element: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly sizer: HTMLElement;
  private readonly rows: HTMLElement;
  private readonly status: HTMLElement;
  private dirty = false;
  private frame = 0;
  private follow = true;
  private renderedKey = '';
  private query = '';
  private matches: number[] = [];
  private searchedUpTo = 0;
  private current = -1;
  private searchTimer: ReturnType<typeof setTimeout> | undefined;
  /** Called when follow/scroll/search change (for setState). */
  onStateChange: (() => void) | undefined;

  constructor(private readonly doc: Document) {
    this.element = doc.createElement('div');
    this.element.className = 'log-view';
    this.status = doc.createElement('div');
    this.status.className = 'log-status';
    this.scroller = doc.createElement('div');
    this.scroller.className = 'log-scroller';
    this.scroller.tabIndex = 0;
    this.scroller.setAttribute('role', 'log');
    this.sizer = doc.createElement('div');
    this.sizer.className = 'log-sizer';
    this.rows = doc.createElement('div');
    this.rows.className = 'log-rows';
    this.sizer.appendChild(this.rows);
    this.scroller.appendChild(this.sizer);
    this.element.append(this.scroller, this.status);
    this.scroller.addEventListener('scroll', () => {
      const atBottom = this.scroller.scrollTop + this.scroller.clientHeight >= this.scroller.scrollHeight - ROW_HEIGHT;
      if (this.follow !== atBottom) {
        this.follow = atBottom;
        this.onStateChange?.();
      }
      this.schedule();
    });
  }

  get state(): LogViewState {
    return { scrollLine: this.firstVisible(), follow: this.follow, search: this.query };
  }

  /** Restores a saved position (after the content has been re-streamed). */
  restore(s: Partial<LogViewState>): void {
    if (s.search !== undefined) this.setQuery(s.search);
    if (s.follow === false && s.scrollLine !== undefined) {
      this.follow = false;
      this.scrollToLine(s.scrollLine);
    }
  }

  clear(): void {
    this.store.clear();
    this.matches = [];
    this.searchedUpTo = 0;
    this.current = -1;
    this.follow = true;
    this.schedule();
  }

  append(text: string): void {
    this.store.append(text);
    if (this.query) this.continueSearch();
    this.schedule();
  }

  private scale(): number {
    const full = this.store.length * ROW_HEIGHT;
    return full > MAX_SCROLL_PX ? MAX_SCROLL_PX / full : 1;
  }

  private firstVisible(): number {
    const total = this.store.length;
    const viewRows = Math.ceil(this.scroller.clientHeight / ROW_HEIGHT);
    const maxTop = Math.max(1, this.scroller.scrollHeight - this.scroller.clientHeight);
    if (this.scale() === 1) return Math.floor(this.scroller.scrollTop / ROW_HEIGHT);
    // Scaled: the scroll fraction maps onto the line range.
    return Math.floor((this.scroller.scrollTop / maxTop) * Math.max(0, total - viewRows));
  }

  scrollToLine(line: number): void {
    const total = this.store.length;
    if (this.scale() === 1) {
      this.scroller.scrollTop = Math.max(0, line * ROW_HEIGHT - this.scroller.clientHeight / 3);
    } else {
      const viewRows = Math.ceil(this.scroller.clientHeight / ROW_HEIGHT);
      const maxTop = Math.max(1, this.scroller.scrollHeight - this.scroller.clientHeight);
      this.scroller.scrollTop = (line / Math.max(1, total - viewRows)) * maxTop;
    }
    this.schedule();
  }

  private schedule(): void {
    this.dirty = true;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.dirty) this.render();
    });
  }

  /** Draws the rows in view. Cheap when nothing in view changed (key check). */
  render(): void {
    this.dirty = false;
    const total = this.store.length;
    const height = Math.min(total * ROW_HEIGHT, MAX_SCROLL_PX);
    if (this.sizer.style.height !== `${height}px`) this.sizer.style.height = `${height}px`;
    if (this.follow) this.scroller.scrollTop = this.scroller.scrollHeight;
    const first = Math.max(0, this.firstVisible() - OVERSCAN);
    const count = Math.ceil(this.scroller.clientHeight / ROW_HEIGHT) + 2 * OVERSCAN;
    const last = Math.min(total, first + count);
    // The partial last line may have grown, so a view that includes it is always redrawn.
    const key = `${first}:${last}:${this.query}:${this.current}:${last === total ? this.store.chars : ''}`;
    this.status.textContent = this.statusText(total);
    if (key === this.renderedKey) return;
    this.renderedKey = key;
    const top = this.scale() === 1 ? first * ROW_HEIGHT : this.scroller.scrollTop - (this.firstVisible() - first) * ROW_HEIGHT;
    this.rows.style.transform = `translateY(${Math.max(0, top)}px)`;
    const frag = this.doc.createDocumentFragment();
    const currentLine = this.current >= 0 ? this.matches[this.current] : -1;
    for (let i = first; i < last; i++) {
      const row = this.doc.createElement('div');
      row.className = i === currentLine ? 'log-row current' : 'log-row';
      renderLine(this.doc, row, this.store.line(i), this.store.startState(i), this.query);
      frag.appendChild(row);
    }
    this.rows.replaceChildren(frag);
  }

  private statusText(total: number): string {
    const size = this.store.chars >= 1_048_576 ? `${(this.store.chars / 1_048_576).toFixed(1)} MB` : `${Math.ceil(this.store.chars / 1024)} KB`;
    const base = `${total.toLocaleString('en-US')} lines, ${size}${this.follow ? ' · following' : ''}`;
    if (!this.query) return base;
    const scanning = this.searchedUpTo < this.store.completeLength ? ' (searching…)' : '';
    return `${base} · ${this.current + 1}/${this.matches.length} matches for "${this.query}"${scanning}`;
  }

  /** Starts a new search (empty clears it). */
  setQuery(query: string): void {
    if (query === this.query) return;
    this.query = query;
    this.matches = [];
    this.searchedUpTo = 0;
    this.current = -1;
    this.onStateChange?.();
    if (query) this.continueSearch();
    this.schedule();
  }

  private continueSearch(): void {
    if (this.searchTimer !== undefined) return;
    const step = (): void => {
      this.searchTimer = undefined;
      const deadline = performance.now() + SEARCH_SLICE_MS;
      const needle = this.query.toLowerCase();
      const before = this.matches.length;
      // The unterminated last line is searched once it is complete (it may still grow).
      const end = this.store.completeLength;
      while (this.searchedUpTo < end && performance.now() < deadline) {
        const stop = Math.min(end, this.searchedUpTo + 2000);
        for (let i = this.searchedUpTo; i < stop; i++) {
          if (plainText(this.store.line(i)).toLowerCase().includes(needle)) this.matches.push(i);
        }
        this.searchedUpTo = stop;
      }
      if (before === 0 && this.matches.length > 0 && this.current < 0) this.goTo(0);
      this.schedule();
      if (this.searchedUpTo < end) this.searchTimer = setTimeout(step, 0);
    };
    this.searchTimer = setTimeout(step, 0);
  }

  /** Moves to the next (or previous) match and scrolls it into view. */
  next(backwards = false): void {
    if (this.matches.length === 0) return;
    const n = this.matches.length;
    this.goTo(((backwards ? this.current - 1 : this.current + 1) % n + n) % n);
  }

  private goTo(index: number): void {
    this.current = index;
    const line = this.matches[index];
    if (line === undefined) return;
    this.follow = false;
    this.scrollToLine(line);
    this.onStateChange?.();
  }
}
