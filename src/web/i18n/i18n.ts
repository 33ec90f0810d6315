/** Looks up user-facing text in the catalogs (ja first, en second). */
import { en } from './en.ts';
import { ja, type MessageKey } from './ja.ts';

export type Lang = 'ja' | 'en';
export const LANGS: readonly Lang[] = ['ja', 'en'];
export type { MessageKey };

export const catalogs: Record<Lang, Record<MessageKey, string>> = { ja, en };

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  const cat = catalogs[lang];
  return (key, params) => {
    let s = cat[key] ?? ja[key] ?? key;
    if (params) for (const [k, v] of Object.entries(params)) s = s.replaceAll(`{${k}}`, String(v));
    return s;
  };
}

export function isLang(v: unknown): v is Lang {
  return v === 'ja' || v === 'en';
}
