/**
 * The anonymous top page (/csm) is the same for every first-time visitor of a language: it is rendered once and
 * kept until the next scheduled change of its news (a publish or end time), an edit in this instance's console,
 * or at most PAGE_CACHE_SECONDS (the bound on how late an edit made through another instance shows).
 * Only a response that sets no cookie is kept, so nothing personal (a CSRF token, a session) is ever shared.
 */
import type { Lang } from '../web/i18n/i18n.ts';

export interface TopPageCache {
  get(lang: Lang, now: number): string | undefined;
  /** Call before reading the news: a page rendered across an invalidation is not kept. */
  generation(): number;
  set(lang: Lang, html: string, now: number, nextChange: number | null, generation: number): void;
  invalidate(): void;
}

export function createTopPageCache(ttlMs: number): TopPageCache {
  const entries = new Map<Lang, { html: string; until: number }>();
  let generation = 0;
  return {
    get(lang, now) {
      const e = entries.get(lang);
      if (!e) return undefined;
      if (e.until <= now) {
        entries.delete(lang);
        return undefined;
      }
      return e.html;
    },
    generation: () => generation,
    set(lang, html, now, nextChange, gen) {
      if (ttlMs <= 0 || gen !== generation) return;
      entries.set(lang, { html, until: Math.min(now + ttlMs, nextChange ?? Number.POSITIVE_INFINITY) });
    },
    invalidate() {
      generation++;
      entries.clear();
    },
  };
}
