import type { AcceptanceCriterion, Ticket } from '../../../src/core/ssot/model';

/** Shared fixtures of the scope-derivation tests (scope-*.test.ts). */

/** A Python package at the top level (no src/), tests under tests/, a config folder. */
export const PY_REPO = [
  'arbitrage/__init__.py',
  'arbitrage/engine/__init__.py',
  'arbitrage/engine/fees.py',
  'arbitrage/engine/pricing.py',
  'arbitrage/domain/pnl_calculator.py',
  'tests/test_fees.py',
  'tests/engine/test_pricing.py',
  'tests/conftest.py',
  'config/config.yaml',
  'scripts/run_alpha_pipeline.py',
  'justfile',
  'docs/v2/V2_ARCHITECTURE.md',
];

/** An OPEN AC (ledger row unless `extra` says otherwise). */
export function ac(id: string, title: string, extra: Partial<AcceptanceCriterion> = {}): AcceptanceCriterion {
  const [ticketId = '', localId = ''] = id.split('::');
  return { id, ticketId, localId, title, status: 'OPEN', rawStatus: 'OPEN', source: { file: 'L.md', line: 1 }, ...extra };
}

/** An OPEN ticket with its roadmap AC rows. */
export function ticket(id: string, title: string, acs: AcceptanceCriterion[] = []): Ticket {
  return { id, title, status: 'OPEN', rawStatus: 'OPEN', acs, source: { file: 'R.md', line: 1 } };
}

