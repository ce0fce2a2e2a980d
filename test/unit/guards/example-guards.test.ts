import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REQUIRE_ENGINES } from '../../support/engines';

const EXAMPLE = path.resolve(__dirname, '../../../examples/demo-project');

/**
 * The example workspace's own guard scripts (Python 3, stdlib only), run for real on a copy of the
 * example with a violation planted, and on legitimate changes that must still pass.
 */
describe('example guards (Welding, Engine-Centric)', function () {
  this.timeout(30_000);
  let tmp: string;
  before(function () {
    if (spawnSync('python3', ['--version']).status !== 0) {
      if (REQUIRE_ENGINES) throw new Error('python3 is required in CI');
      this.skip();
    }
  });
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'example-guards-'));
    fs.cpSync(EXAMPLE, tmp, { recursive: true, filter: (src) => !/[/\\](logs|__pycache__|\.pytest_cache)$/.test(src) });
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const guard = (script: string) => {
    const r = spawnSync('python3', [`scripts/${script}`], { cwd: tmp, encoding: 'utf8' });
    return { code: r.status, out: r.stdout + r.stderr };
  };
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
    fs.writeFileSync(path.join(tmp, rel), text);
  };

  it('both pass on the example as shipped', () => {
    assert.deepEqual(guard('check_no_duplicate_pnl.py'), { code: 0, out: 'Welding: PASS (3 files checked, 0 findings)\n' });
    assert.equal(guard('check_engine_centricity.py').code, 0);
  });

  it('Welding catches gross PnL re-derived outside engine/pnl.py', () => {
    write(
      'engine/report.py',
      'def daily(fills):\n    total = 0.0\n    for entry, exit_ in fills:\n        total += (exit_.price - entry.price) * entry.qty\n    return total\n',
    );
    const r = guard('check_no_duplicate_pnl.py');
    assert.equal(r.code, 1);
    assert.match(r.out, /FAIL engine\/report\.py:4: gross PnL re-derived/);
  });

  it('Welding catches net PnL re-derived as gross - fees, and a duplicated round_trip_pnl', () => {
    write('engine/slippage.py', 'def summary(b):\n    return {"net_pnl": b.gross - b.fees}\n\ndef round_trip_pnl(a, b, c):\n    return None\n');
    const r = guard('check_no_duplicate_pnl.py');
    assert.equal(r.code, 1);
    assert.match(r.out, /engine\/slippage\.py:2: net PnL re-derived as 'net_pnl = \.\.\. - fees'/);
    assert.match(r.out, /engine\/slippage\.py:4: function 'round_trip_pnl' duplicates engine\/pnl\.py/);
  });

  it('Welding lets legitimate engine code through (a report calling round_trip_pnl, a spread of prices)', () => {
    write(
      'engine/report.py',
      'from engine.pnl import round_trip_pnl\n\ndef daily(pairs, schedule):\n    rows = [round_trip_pnl(a, b, schedule) for a, b in pairs]\n    return {"net": sum(r.net for r in rows), "trades": len(rows)}\n',
    );
    write('engine/spread.py', 'def spread_bps(bid_price, ask_price):\n    return (ask_price - bid_price) / ((ask_price + bid_price) / 2) * 10_000\n');
    assert.equal(guard('check_no_duplicate_pnl.py').code, 0, guard('check_no_duplicate_pnl.py').out);
  });

  it('Engine-Centric catches money logic and classes in scripts/ and harness/', () => {
    write('scripts/daily_report.py', 'import sys\nfee = float(sys.argv[1]) * 5 / 10000\nprint(fee)\n');
    write('harness/runner.py', 'class Runner:\n    pass\n');
    const r = guard('check_engine_centricity.py');
    assert.equal(r.code, 1);
    assert.match(r.out, /FAIL harness\/runner\.py:1: class 'Runner' in the thin layer/);
    assert.match(r.out, /FAIL scripts\/daily_report\.py:2: money arithmetic on 'fee'/);
  });

  it('Engine-Centric lets a thin script through', () => {
    write('scripts/show_pnl.py', 'import json, sys\nfrom engine.pnl import round_trip_pnl\n\ndef main(argv):\n    print(json.dumps({"args": argv}))\n    return 0\n\nif __name__ == "__main__":\n    sys.exit(main(sys.argv[1:]))\n');
    assert.equal(guard('check_engine_centricity.py').code, 0);
  });

  it('a file the guard cannot parse fails it rather than passing unseen', () => {
    write('engine/broken.py', 'def x(:\n');
    const r = guard('check_no_duplicate_pnl.py');
    assert.equal(r.code, 1);
    assert.match(r.out, /engine\/broken\.py:1: cannot be parsed/);
  });
});
