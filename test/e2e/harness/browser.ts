import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Flags from TESTING.md: no sandbox (root), no GPU, and no traffic of the browser's own. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const SCREENS_DIR = path.resolve(__dirname, '..', '..', '..', 'test-results', 'screens');

/** Headless Chromium with a fresh profile; `close()` ends the browser and removes the profile. */
export class Workbench {
  private constructor(
    private readonly context: BrowserContext,
    readonly page: Page,
    private readonly profileDir: string,
  ) {}

  static async open(executablePath: string, url: string): Promise<Workbench> {
    const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-chromium-'));
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      return new Workbench(context, page, profileDir);
    } catch (err) {
      await context.close();
      fs.rmSync(profileDir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Trusts the folder the way a person does: the Restricted Mode banner's "Manage" opens the
   * Workspace Trust editor, whose "Trust" button trusts the folder. Resolves once the status bar no
   * longer shows Restricted Mode, with the trust editor closed again.
   */
  async trustFolder(timeoutMs = 30_000): Promise<void> {
    const page = this.page;
    const restricted = page.locator('#status\\.workspaceTrust');
    await page.locator('.part.banner a.monaco-link', { hasText: /^Manage$/ }).click({ timeout: timeoutMs });
    const trust = page.locator('.workspace-trust-editor .workspace-trust-buttons a.monaco-button', { hasText: /^Trust$/ });
    // The trust editor renders in steps; a click that lands before it is wired up is lost, so
    // click until the status bar stops showing Restricted Mode.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await trust.isVisible()) await trust.click({ timeout: 5_000 }).catch(() => undefined);
      try {
        await restricted.waitFor({ state: 'detached', timeout: 2_000 });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
    // Close the trust editor (a modal editor in recent VS Code: Escape; a tab otherwise: Ctrl+W).
    const editor = page.locator('.workspace-trust-editor');
    for (const key of ['Escape', 'Control+W', 'Escape']) {
      if (!(await editor.isVisible())) break;
      await page.keyboard.press(key);
      await editor.waitFor({ state: 'hidden', timeout: 2_000 }).catch(() => undefined);
    }
    if (await editor.isVisible()) throw new Error('the Workspace Trust editor did not close');
  }

  /** Opens an activity-bar container by its title (e.g. "Factory"). */
  async openContainer(title: string): Promise<void> {
    const item = this.page.locator(`.activitybar [aria-label^="${title}"]`).first();
    await item.waitFor({ timeout: 30_000 });
    await item.click();
  }

  /** Saves a PNG under test-results/screens/ and returns its path. */
  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(SCREENS_DIR, { recursive: true });
    const file = path.join(SCREENS_DIR, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  async close(): Promise<void> {
    try {
      await this.context.close();
    } finally {
      fs.rmSync(this.profileDir, { recursive: true, force: true });
    }
  }
}
