import * as assert from 'node:assert/strict';
import { applySgr, parseAnsiLine, plainText, PLAIN } from '../../../src/webview/log/ansi';
import { LogStore } from '../../../src/webview/log/log-store';
import { matchRanges } from '../../../src/webview/log/render-line';

const text = (line: string): string => parseAnsiLine(line).segments.map((s) => s.text).join('');

describe('webview log text (ANSI parser, pure)', () => {
  it('SEC-20 markup in a log line stays text: <img onerror>, </script> and entities come out verbatim', () => {
    for (const hostile of ['<img src=x onerror=alert(1)>', '</script><script>alert(2)</script>', '&lt;b&gt; &amp; <!-- x -->']) {
      const { segments } = parseAnsiLine(hostile);
      assert.equal(segments.length, 1);
      assert.equal(segments[0].text, hostile);
      assert.equal(segments[0].control, false);
    }
  });

  it('SEC-20 OSC 8 hyperlinks lose their target (only the visible text remains) and OSC titles vanish', () => {
    const line = 'see \x1b]8;;https://evil.example/x\x07click me\x1b]8;;\x07 and \x1b]8;;file:///etc/passwd\x1b\\here\x1b]8;;\x1b\\ \x1b]0;pwned title\x07done';
    assert.equal(text(line), 'see click me and here done');
    assert.ok(!text(line).includes('evil.example'));
    // An unterminated OSC swallows the rest of the line rather than leaking a half-sequence.
    assert.equal(text('ok \x1b]8;;https://evil.example/'), 'ok ');
  });

  it('SEC-20 bidi controls (Trojan Source) become visible ⟨U+XXXX⟩ markers, in their real order', () => {
    const { segments } = parseAnsiLine('if access \u202E} \u2066admin\u2069 {\u202C');
    const ctl = segments.filter((s) => s.control).map((s) => s.text);
    assert.deepEqual(ctl, ['⟨U+202E⟩', '⟨U+2066⟩', '⟨U+2069⟩', '⟨U+202C⟩']);
    assert.ok(!/[\u202a-\u202e\u2066-\u2069]/.test(text('a\u202Eb\u200Fc\u061Cd')));
  });

  it('SEC-20 other escapes and control characters are removed or shown as control pictures', () => {
    // Cursor movement / erase / charset / 8-bit CSI / BEL / backspace / NUL.
    assert.equal(text('a\x1b[2J\x1b[1;1Hb\x1b(Bc\x1b7d'), 'abcd');
    assert.equal(text('x\x07y\x08z\x00'), 'x\u2407y\u2408z\u2400');
    assert.equal(text('p\x9b31mq'), 'p⟨U+009B⟩31mq');
    assert.equal(text('cr\rlf'), 'cr\u240dlf');
    assert.equal(text('tab\tkept'), 'tab\tkept');
  });

  it('SGR colours and attributes become state (16, 256 and true colour), reset by 0 and 39', () => {
    const { segments, end } = parseAnsiLine('\x1b[1;31mred\x1b[39m bold \x1b[38;5;196mcube\x1b[38;2;1;2;255mrgb\x1b[0m plain');
    assert.deepEqual(
      segments.map((s) => [s.text, s.state.fg, s.state.bold]),
      [['red', 1, true], [' bold ', null, true], ['cube', 196, true], ['rgb', '#0102ff', true], [' plain', null, false]],
    );
    assert.deepEqual(end, PLAIN);
    assert.equal(applySgr(PLAIN, '').fg, null);
    assert.equal(applySgr(PLAIN, '97;104').bg, 12);
  });

  it('state carries across lines of a streamed log, even when a chunk ends mid-line', () => {
    const store = new LogStore();
    store.append('\x1b[32mgreen starts\nstill gr');
    store.append('een\r\n\x1b[0mplain\n');
    assert.equal(store.length, 3);
    assert.equal(store.line(1), 'still green');
    assert.equal(store.startState(1).fg, 2);
    assert.equal(store.startState(2).fg, 2);
    assert.equal(parseAnsiLine(store.line(2), store.startState(2)).end.fg, null);
    assert.equal(store.completeLength, 3);
  });

  it('search sees the text without escapes, case-insensitively', () => {
    assert.equal(plainText('\x1b[31mFAILED\x1b[0m tests/a.py'), 'FAILED tests/a.py');
    assert.deepEqual(matchRanges('Failed, then FAILED', 'failed'), [[0, 6], [13, 19]]);
  });
});
