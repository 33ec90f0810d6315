/**
 * Folding for the public full-text search in Japanese: NFKC (full-width → half-width), lower case,
 * katakana → hiragana, so that 「ぱすわーど」 finds 「パスワード」 and a substring finds its word
 * (「パスワード」 in 「パスワードを忘れた」). faq-search.ts cuts the query into the pieces matched against this text.
 */
export function foldForSearch(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60))
    .replace(/\s+/g, ' ')
    .trim();
}

/** Escapes LIKE wildcards so that a typed % or _ matches itself. */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
