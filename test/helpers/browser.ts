/**
 * Browser tests: Debian's Chromium driven by playwright-core (never `npx playwright install`),
 * axe-core for accessibility, and full-page screenshots under test-results/ (git-ignored).
 *
 * If Chromium is missing or cannot start, launchBrowser() throws under CI=true and otherwise
 * returns the reason, so that the test file can skip with a clear message (launchOrSkip() gives it to describe()).
 * A test file then opens its pages with browserPages(), or browserPortal() when it also needs the test portal, and
 * checks each screen with captureScreen().
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { startTestPortal, type TestPortal } from './test-app.ts';

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
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      return { ok: true, browser };
    } catch (err) {
      reason = `Chromium at ${CHROMIUM_PATH} did not start: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  if (process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  return { ok: false, reason };
}

/**
 * Launches Chromium once for a test file, at its top level: `skip` is false, or the reason to give describe() (also
 * printed as a warning) when Chromium is missing outside CI.
 */
export async function launchOrSkip(): Promise<{ launched: Launched; skip: string | false }> {
  const launched = await launchBrowser();
  const skip = launched.ok ? false : `browser tests skipped: ${launched.reason}`;
  if (!launched.ok) console.warn(skip);
  return { launched, skip };
}

export type ContextOptions = NonNullable<Parameters<Browser['newContext']>[0]>;

/** Pages of one test file, each in a fresh context (its own cookies); close() closes them and the browser. */
export interface BrowserPages {
  /** A page in a new context: ja-JP, 1100×800 and WAIT as the default timeout, then the file's defaults, then `options`. */
  newPage: (options?: ContextOptions) => Promise<Page>;
  close: () => Promise<void>;
}

/** Opens pages for one test file in `launched`'s browser; `defaults` apply to each of its contexts. */
export function browserPages(launched: Launched, defaults: ContextOptions = {}): BrowserPages {
  const contexts: BrowserContext[] = [];
  return {
    async newPage(options = {}) {
      if (!launched.ok) throw new Error('no browser');
      const context = await launched.browser.newContext({
        locale: 'ja-JP',
        viewport: { width: 1100, height: 800 },
        ...defaults,
        ...options,
      });
      context.setDefaultTimeout(WAIT);
      contexts.push(context);
      return context.newPage();
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      if (launched.ok) await launched.browser.close();
    },
  };
}

/**
 * A test portal (SQLite) for the browser, as reset-journey.test.ts explains: it keeps the test BASE_URL, so its
 * cookies are __Host-/Secure as in production, listens on 127.0.0.1, and is reached at `base`, http://localhost:PORT,
 * which Chromium treats as a secure context. Call start() in before() and close() in after() (pages, browser, portal).
 */
export interface BrowserPortal extends BrowserPages {
  start: () => Promise<{ portal: TestPortal; base: string }>;
}

/** Pages as browserPages() gives them, and the test portal they visit (started by start()). */
export function browserPortal(launched: Launched, defaults: ContextOptions = {}): BrowserPortal {
  const pages = browserPages(launched, defaults);
  let portal: TestPortal | undefined;
  return {
    newPage: pages.newPage,
    async start() {
      portal = await startTestPortal('sqlite');
      await portal.app.listen({ port: 0, host: '127.0.0.1' });
      return { portal, base: `http://localhost:${(portal.app.server.address() as AddressInfo).port}` };
    },
    async close() {
      await pages.close();
      if (portal) await portal.close();
    },
  };
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
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      targets: v.nodes.map(
        (n: any) =>
          `${JSON.stringify(n.target)}${n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, ' ')}` : ''}`,
      ),
    }));
  }, AXE_TAGS);
  return (violations as AxeProblem[]).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function formatA11y(screen: string, problems: AxeProblem[]): string {
  return (
    `${screen}: ${problems.length} serious/critical axe violation(s)\n` +
    problems.map((p) => `  [${p.impact}] ${p.id}: ${p.help}\n${p.targets.map((t) => `    ${t}`).join('\n')}`).join('\n')
  );
}

/**
 * One screen of a journey: its screenshot test-results/FILE.png (FILE = `file ?? name`) and axe-core, whose serious
 * or critical problems are added to `found` under `name` (the test asserts `found` empty at its end).
 */
export async function captureScreen(page: Page, name: string, found: string[], file = name): Promise<void> {
  await screenshot(page, file);
  const problems = await seriousA11yViolations(page);
  if (problems.length) found.push(formatA11y(name, problems));
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
