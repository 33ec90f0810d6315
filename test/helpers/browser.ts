/**
 * Browser tests: Debian's Chromium driven by playwright-core (never `npx playwright install`),
 * axe-core for accessibility, and full-page screenshots under test-results/ (git-ignored).
 *
 * If Chromium is missing or cannot start, launchBrowser() throws under CI=true and otherwise
 * returns the reason, so that the test file can skip with a clear message.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const RESULTS_DIR = join(process.cwd(), 'test-results');
/** WCAG 2.2 AA, as JIS X 8341-3 asks (W3). */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');

export type Launched = { ok: true; browser: Browser } | { ok: false; reason: string };

export async function launchBrowser(): Promise<Launched> {
  let reason: string;
  if (!existsSync(CHROMIUM_PATH)) {
    reason = `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium fonts-noto-cjk, or set CHROMIUM_PATH)`;
  } else {
    try {
      const browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
      return { ok: true, browser };
    } catch (err) {
      reason = `Chromium at ${CHROMIUM_PATH} did not start: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  if (process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  return { ok: false, reason };
}

export interface AxeProblem {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core on the page (the context must have bypassCSP to inject it); returns every serious or critical violation. */
export async function seriousA11yViolations(page: Page): Promise<AxeProblem[]> {
  await page.addScriptTag({ path: AXE_PATH });
  const violations = await page.evaluate(async (tags) => {
    const axe = (globalThis as any).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v: any) => ({
      id: v.id, impact: v.impact ?? null, help: v.help,
      targets: v.nodes.map((n: any) => `${JSON.stringify(n.target)}${n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, ' ')}` : ''}`),
    }));
  }, AXE_TAGS);
  return (violations as AxeProblem[]).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function formatA11y(screen: string, problems: AxeProblem[]): string {
  return `${screen}: ${problems.length} serious/critical axe violation(s)\n` +
    problems.map((p) => `  [${p.impact}] ${p.id}: ${p.help}\n${p.targets.map((t) => `    ${t}`).join('\n')}`).join('\n');
}

/** Saves a full-page screenshot as test-results/NAME.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** A short description of the focused element: role-ish tag and its visible text or label. */
export async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return 'body';
    const tag = el.tagName.toLowerCase();
    if (tag === 'input') {
      const input = el as HTMLInputElement;
      const label = input.labels?.[0]?.childNodes[0]?.textContent ?? '';
      return `input:${label.trim()}`;
    }
    return `${tag}:${(el.textContent ?? '').trim()}`;
  });
}

/** How long a page may take to show something (the suite runs on a loaded 2-core machine). */
export const WAIT = 5_000;

/** Escapes text for use inside a RegExp. */
export const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A tile's link: its title, then its optional subtitle. */
export const tileName = (title: string, sub?: string) => new RegExp(`^${esc(title)}${sub ? `\\s*${esc(sub)}` : ''}$`);

export async function shown(locator: Locator): Promise<void> {
  await locator.waitFor({ state: 'visible', timeout: WAIT });
}

/** Clicks something that loads a new page (a link or a form's button, PRG included) and waits for it. */
export async function follow(page: Page, locator: Locator): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: WAIT });
  await locator.click();
  await navigated;
  await page.waitForLoadState('load');
}

/** A form field by its visible label: the label text, then the optional required marker *. */
export const field = (page: Page, label: string) => page.getByLabel(new RegExp(`^${esc(label)}\\s*\\*?$`));
