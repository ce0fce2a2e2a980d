import { strict as assert } from 'node:assert';
import { configSchema, defaultConfig } from '../../../src/core/config/schema';
import { assessRisk, assessTicketRisk, wordPattern, type TicketRiskInput } from '../../../src/core/plan/risk';

function ticketRisk(over: Partial<TicketRiskInput>) {
  return assessTicketRisk({ ticketId: 'D301', texts: [], modify: ['pkg/x.py'], files: ['pkg/x.py'], config: defaultConfig(), ...over });
}

describe('risk with reasons (issue 15 §4)', () => {
  it('a profit ticket is CRIT, and says which evidence.profitTickets glob made it so', () => {
    const config = configSchema.parse({ evidence: { profitTickets: ['D3*'] } });
    const r = ticketRisk({ config });
    assert.equal(r.level, 'CRIT');
    assert.equal(r.auditorRequired, true);
    assert.deepEqual(r.why, ['profit ticket (evidence.profitTickets D3*) → CRIT']);
  });

  it('words in the ticket and AC text raise the level, naming the word and where it is', () => {
    const r = ticketRisk({ texts: [{ id: 'D301', text: 'Order book tidy-up' }, { id: 'D301::AC-2', text: 'model the slippage of a fill' }] });
    assert.equal(r.level, 'HIGH');
    assert.ok(r.why.includes("word 'slippage' in D301::AC-2 → HIGH"), r.why.join('; '));
    assert.ok(r.why.includes("word 'order' in D301 → HIGH"), r.why.join('; '));
    const crit = ticketRisk({ texts: [{ id: 'D301::AC-1', text: 'Daily PnL report' }] });
    assert.equal(crit.level, 'CRIT');
    assert.deepEqual(crit.why, ["word 'PnL' in D301::AC-1 → CRIT"]);
  });

  it('Korean words match inside a word (particles attach to the noun)', () => {
    assert.equal(ticketRisk({ texts: [{ id: 'D301::AC-1', text: '주문을 취소하면 수수료가 환불된다' }] }).level, 'HIGH');
    const r = ticketRisk({ texts: [{ id: 'D301::AC-3', text: '일일 손익 계산 로직 수정' }] });
    assert.equal(r.level, 'CRIT');
    assert.deepEqual(r.why, ["word '손익' in D301::AC-3 → CRIT"]);
    assert.equal(ticketRisk({ texts: [{ id: 'D301', text: '엔진 코어 리팩터링' }] }).level, 'HIGH');
  });

  it('Latin words match whole words only (plural allowed), case-insensitively; spaces match _ and -', () => {
    assert.equal(wordPattern('order').test('cross the border'), false);
    assert.equal(wordPattern('auth').test('the author wrote'), false);
    assert.equal(wordPattern('order').test('cancel all ORDERS'), true);
    assert.equal(wordPattern('fee').test('fees: maker/taker'), true);
    assert.equal(wordPattern('engine core').test('touch Engine_Core/book.py'), true);
    assert.equal(wordPattern('P&L').test('the p&l table'), true);
    assert.equal(ticketRisk({ texts: [{ id: 'D301', text: 'Reword the README introduction' }] }).level, 'MED');
  });

  it("the idiom 'in order to' / 'in order for' is prose, not the word 'order': no Auditor for it", () => {
    assert.equal(wordPattern('order').test('Split the module in order to keep files short'), false);
    assert.equal(wordPattern('Order').test('In  order for the cache to hit, sort the keys'), false);
    const prose = ticketRisk({ texts: [{ id: 'D301::AC-1', text: 'rename the helper in order to read it aloud' }] });
    assert.equal(prose.level, 'MED');
    assert.deepEqual(prose.why, []);
    // A trading order is still one, also next to the idiom's words.
    assert.equal(wordPattern('order').test('send an order to the exchange'), true);
    assert.equal(wordPattern('order').test('an order for 10 lots'), true);
    assert.equal(wordPattern('order').test('place the orders in order to test the fills'), true);
    assert.equal(wordPattern('order').test('In order to cancel an order, look it up'), true);
    assert.equal(ticketRisk({ texts: [{ id: 'D302::AC-1', text: 'InventoryLimit refuses orders beyond max position' }] }).level, 'HIGH');
  });

  it('file names never raise the risk: path rules apply only to the files the plan may modify', () => {
    // The repository: tests/ holds *pnl* and *profit* files; a ticket that modifies pkg/x.py stays MED.
    const files = ['pkg/x.py', 'tests/test_pnl.py', 'tests/test_profit_calc.py', 'engine/core/book.py'];
    const r = ticketRisk({ modify: ['pkg/x.py', 'tests/test_x.py'], files });
    assert.equal(r.level, 'MED');
    assert.deepEqual(r.why, []);
    assert.deepEqual(r.reasons, []);
  });

  it('the config path rules apply to the derived modify scope, with the matching path', () => {
    const r = ticketRisk({ modify: ['engine/core/x.py'], files: ['engine/core/x.py', 'tests/test_pnl.py'] });
    assert.equal(r.level, 'HIGH');
    assert.deepEqual(r.why, ['path rule **/core/** matches engine/core/x.py → HIGH']);
    assert.deepEqual(r.reasons, [{ pattern: '**/core/**', level: 'HIGH', path: 'engine/core/x.py' }]);
  });

  it('a scope larger than risk.largeScope raises the level one step, never past CRIT', () => {
    const files = Array.from({ length: 42 }, (_, i) => `pkg/m${i}.py`);
    const r = ticketRisk({ modify: ['pkg/**'], files });
    assert.equal(r.level, 'HIGH');
    assert.deepEqual(r.why, ['large scope: 42 files (risk.largeScope 30) → HIGH']);
    const small = configSchema.parse({ risk: { largeScope: 50 } });
    assert.equal(ticketRisk({ modify: ['pkg/**'], files, config: small }).level, 'MED');
    const crit = ticketRisk({ modify: ['pkg/**'], files, texts: [{ id: 'D301', text: 'profit split' }] });
    assert.equal(crit.level, 'CRIT');
    assert.equal(crit.why.length, 1);
  });

  it('configured word lists replace that level’s defaults; the other levels keep theirs', () => {
    const config = configSchema.parse({ risk: { words: { HIGH: ['websocket'] }, default: 'LOW' } });
    assert.equal(ticketRisk({ config, texts: [{ id: 'D301', text: 'slippage model' }] }).level, 'LOW');
    assert.equal(ticketRisk({ config, texts: [{ id: 'D301', text: 'reconnect the WebSocket' }] }).level, 'HIGH');
    assert.equal(ticketRisk({ config, texts: [{ id: 'D301', text: 'profit' }] }).level, 'CRIT');
    const med = configSchema.parse({ risk: { words: { MED: ['feature'] }, default: 'LOW' } });
    assert.deepEqual(ticketRisk({ config: med, texts: [{ id: 'D301::AC-1', text: 'new feature' }] }).why, ["word 'feature' in D301::AC-1 → MED"]);
  });

  it('assessRisk keeps its signature and explains its path rules', () => {
    const r = assessRisk(['engine/**'], ['engine/pnl.py'], defaultConfig());
    assert.equal(r.level, 'CRIT');
    assert.deepEqual(r.why, ['path rule **/*pnl* matches engine/pnl.py → CRIT']);
  });
});
