import type { Locator, Page } from 'playwright-core';

/** One rendered row of a tree view, as a person sees it. */
export interface TreeRow {
  label: string;
  description: string;
  level: number;
  expanded: boolean | undefined;
  /** The codicon class of the row's icon (e.g. `codicon-debug-stackframe`), if any. */
  icon: string | undefined;
}

/** The pane of a view in the side bar, by its title (e.g. "Roadmap"). */
export function viewPane(page: Page, title: string): Locator {
  // The header's aria-label also carries the view's description; the title element is exact.
  const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return page.locator('.pane', { has: page.locator('.pane-header h3.title', { hasText: exact }) });
}

/** The rows the tree currently renders (it is virtualised: only visible rows exist in the DOM). */
export async function treeRows(pane: Locator): Promise<TreeRow[]> {
  return pane.locator('.monaco-list-row').evaluateAll((rows) =>
    rows.map((row) => {
      // The item's own icon, not the twistie (which is a codicon too).
      const icon = row.querySelector('.custom-view-tree-node-item-icon');
      const iconClass = icon ? Array.from(icon.classList).find((c) => c.startsWith('codicon-')) : undefined;
      const expanded = row.getAttribute('aria-expanded');
      return {
        label: row.querySelector('.label-name')?.textContent?.trim() ?? '',
        description: row.querySelector('.label-description')?.textContent?.trim() ?? '',
        level: Number(row.getAttribute('aria-level') ?? '0'),
        expanded: expanded === null ? undefined : expanded === 'true',
        icon: iconClass,
      };
    }),
  );
}

/** Waits until the tree renders at least `min` rows. */
export async function waitForRows(pane: Locator, min = 1, timeoutMs = 30_000): Promise<void> {
  await pane.locator('.monaco-list-row').nth(min - 1).waitFor({ timeout: timeoutMs });
}
