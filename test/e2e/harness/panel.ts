/** The Run panel's webview, the views' context menus and run ids as the e2e suites read them. */
import type { FrameLocator, Page } from 'playwright-core';
import { viewPane } from './tree';

export function panelFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/** Right-click a row of a tree and choose a context-menu entry, as a person does. */
export async function contextMenu(page: Page, pane: string, rowLabel: string, entry: string, shot?: () => Promise<unknown>): Promise<void> {
  const row = viewPane(page, pane).locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${rowLabel}$`) }) }).first();
  await row.click({ button: 'right' });
  const item = page.locator('.monaco-menu .action-menu-item', { hasText: new RegExp(`^\\s*${entry}\\s*$`) }).first();
  await item.waitFor({ timeout: 10_000 });
  // The menu acts on mouse-up over a hovered entry, as with a real mouse.
  await item.hover();
  await shot?.();
  await item.click();
  await page.locator('.monaco-menu').first().waitFor({ state: 'hidden', timeout: 10_000 });
}

/** A run id prefix for "now" (run ids start with the UTC start time, YYYYMMDD_HHMMSS). */
export function runIdNow(): string {
  return new Date(Date.now() - 2000).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
}

/** The run the Run panel shows now ("run <id> · …"), or '' before it shows one. */
export async function panelRun(page: Page): Promise<string> {
  const tab = page.locator('.tab', { hasText: 'Factory Run' }).first();
  if (!(await tab.isVisible())) return '';
  await tab.click();
  const meta = panelFrame(page).locator('.meta').first();
  return (await meta.isVisible()) ? /run (\S+)/.exec(await meta.innerText())?.[1] ?? '' : '';
}
