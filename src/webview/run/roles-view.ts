/**
 * The Run panel's roles (issue 16): a row each for the Controller's model, the Worker and the
 * Auditor with agent, model, tier, why the cost gate chose them, and the spend so far (live while
 * the cycle runs). A model without a price reads "unpriced", never "$0". Text nodes only.
 */
import type { RoleRow, RunSnapshot } from '../../shared/protocol';
import { h, icon, usd } from '../dom';

const ROLE_LABEL: Record<RoleRow['role'], string> = { controller: 'Controller', worker: 'Worker', auditor: 'Auditor' };
const ROLE_ICON: Record<RoleRow['role'], string> = { controller: 'organization', worker: 'tools', auditor: 'law' };

/** A role's spend: "—" before any call, "unpriced" when all of it was on unpriced models. */
export function roleMoney(r: RoleRow): string {
  if (r.spentUsd === null) return '—';
  if (r.unpriced) return r.spend.every((s) => s.unpriced) ? 'unpriced' : `${usd(r.spentUsd)} incl. unpriced`;
  return usd(r.spentUsd);
}

function spendDetail(r: RoleRow): string {
  // A role that called more than one model (Claude Code's small-model calls) lists each.
  if (r.spend.length < 2) return '';
  return r.spend.map((s) => `${s.model} ${s.unpriced ? 'unpriced' : usd(s.usd)}`).join(', ');
}

/** The roles table, the Auditor's reserve and the override; nothing when the run says nothing about them. */
export function rolesContent(run: RunSnapshot): HTMLElement[] {
  const routing = run.routing;
  if (!routing || routing.roles.length === 0) return [];
  const why = routing.roles.map((r) => [r.why.join('; '), spendDetail(r)].filter(Boolean).join(' · '));
  // The Why column only when some role has a reason (a past run's history line records none).
  const withWhy = why.some(Boolean);
  const rows = routing.roles.map((r, i) => h(
    'tr',
    { class: 'role-row', 'data-role': r.role },
    h('th', { scope: 'row' }, icon(ROLE_ICON[r.role]), ` ${ROLE_LABEL[r.role]}`),
    h('td', {}, r.agent ?? (r.role === 'controller' ? 'Controller model' : '—')),
    h('td', {}, r.model ?? '—'),
    h('td', {}, r.tier ?? '—'),
    h('td', { class: `num${r.unpriced ? ' unpriced' : ''}` }, roleMoney(r)),
    withWhy ? h('td', { class: 'muted why', title: why[i] ?? '' }, why[i] ?? '') : null,
  ));
  const columns = ['Role', 'Agent', 'Model', 'Tier', 'Spent', ...(withWhy ? ['Why'] : [])];
  const table = h(
    'table',
    { class: 'grid roles', 'aria-label': 'Roles: agent, model, tier and spend' },
    h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col', class: c === 'Spent' ? 'num' : '' }, c)))),
    h('tbody', {}, ...rows),
  );
  const notes: HTMLElement[] = [];
  if (routing.reserveUsd !== null) notes.push(h('p', { class: 'muted reserve' }, icon('lock'), ` Auditor reserve: ${usd(routing.reserveUsd)} of the cycle budget held back before the Worker starts`));
  if (routing.override) notes.push(h('p', { class: 'muted override' }, icon('person'), ` Override: ${routing.override}`));
  return [h('section', { class: 'roles-section', 'aria-label': 'Roles' }, table, ...notes)];
}
