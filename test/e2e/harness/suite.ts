import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { requireChromium, requireDocker } from '../../support/engines';
import { requireCodeServer } from './code-server';
import { Session } from './session';
import { viewPane, waitForRows } from './tree';

/**
 * One code-server session per `describe` on a prepared copy of a workspace: started in `before`
 * (with the folder trusted), closed and its copy removed in `after`, and a screenshot plus the
 * log's tail for every failed test. Call inside `describe`; the getter returns the running session.
 */
export interface SuiteOptions {
  /** User settings of the session's profile (e.g. `factory.replayDirectory`). */
  settings?: Record<string, unknown>;
  /** The suite runs cycles: a Docker engine is required (skipped locally without one, a failure in CI). */
  docker?: boolean;
  /** Once the folder is trusted: open the Factory container and wait for the Roadmap's rows. */
  openFactory?: boolean;
  /** What else a failed test prints (the extension's log, say). */
  onFail?: (s: Session) => void;
}

export function sessionPerSuite(name: string, prepare: () => Promise<string> | string, opts: SuiteOptions = {}): () => Session {
  let session: Session | undefined;
  let source: string | undefined;
  before(async function () {
    this.timeout(300_000);
    if (opts.docker) requireDocker(this);
    const chromium = requireChromium(this);
    const install = requireCodeServer(this);
    source = await prepare();
    session = await new Session({ install, chromium, name, source, ...(opts.settings ? { settings: opts.settings } : {}) }).start();
    const wb = session.workbench!;
    await wb.trustFolder();
    if (opts.openFactory) {
      await wb.openContainer('Factory');
      await waitForRows(viewPane(wb.page, 'Roadmap'), 3);
    }
  });
  after(async function () {
    this.timeout(60_000);
    await session?.close();
    if (source) fs.rmSync(path.dirname(source), { recursive: true, force: true });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session?.workbench) {
      await session.workbench.screenshot(`${name}-failed-${this.currentTest.title.replace(/\W+/g, '-')}`);
      console.log(session.logTail());
      opts.onFail?.(session);
    }
  });
  return () => {
    if (!session) throw new Error(`the ${name} session did not start`);
    return session;
  };
}

/** Run a command from the palette by its title. */
export async function runCommand(page: Page, title: string): Promise<void> {
  // Keys pressed while a webview has focus stay in its iframe: give the workbench focus first.
  await page.locator('.part.sidebar .composite.title').first().click();
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill(`>${title}`);
  // Click exactly this command: a longer one matches too ("Factory: Run" in "Factory: Dry Run", "… in Marketplace").
  const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const row = page.locator('.quick-input-list .monaco-list-row .label-name', { hasText: exact }).first();
  await row.waitFor({ timeout: 10_000 });
  await row.click();
}
