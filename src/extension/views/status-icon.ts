import type { Status } from '../../core/ssot/model';

/** A codicon id and an optional theme colour id: what a ThemeIcon is made of, without `vscode`. */
export interface IconSpec {
  id: string;
  color?: string;
}

/** What every row of our trees carries; built without `vscode`, so the row models are unit-tested. */
export interface RowView {
  /** Unique and stable across refreshes (keeps expansion state). */
  key: string;
  label: string;
  description: string;
  tooltip: string;
  icon: IconSpec;
  /** `;`-joined tokens for `when` clauses, e.g. `ticket;status:BLOCKED`. */
  contextValue: string;
}

/**
 * One icon per canonical status, shared by every view so a status always looks the same.
 * Colours are theme colour ids (they follow the user's theme); BLOCKED uses the error colour so a
 * blocked ticket stands out in a long list.
 */
export function statusIcon(status: Status): IconSpec {
  switch (status) {
    case 'DONE':
      return { id: 'pass-filled', color: 'testing.iconPassed' };
    case 'OPEN':
      return { id: 'circle-large-outline' };
    case 'IN_PROGRESS':
      return { id: 'play-circle', color: 'charts.blue' };
    case 'PARTIAL':
      return { id: 'circle-large-filled', color: 'charts.yellow' };
    case 'BLOCKED':
      return { id: 'error', color: 'errorForeground' };
    case 'LOST_EVIDENCE':
      return { id: 'warning', color: 'list.warningForeground' };
    case 'UNKNOWN':
      return { id: 'question', color: 'descriptionForeground' };
  }
}
