/**
 * The public よくある質問 search (issue 11 §8): every word of the query must be found (AND), Japanese inflection
 * does not matter (「届かない」 finds 「届きません」, 「ログインできない」 finds 「ログインできません」), and entries whose
 * question holds every word come first.
 *
 * The method is a small rule-based word splitter, no dictionary and no network: each query word is cut where the
 * script changes (kanji, katakana, hiragana, Latin/digits), because in Japanese a change of script is nearly always
 * a word boundary. A kanji run keeps its kanji and drops the okurigana after it (届|かない → 届, 忘|れた → 忘), which
 * is where verbs and adjectives inflect; a standalone hiragana run loses its inflectional ending (でき|ない → でき) and
 * a leading particle (が|でき → でき); light verbs after a noun (ロック|された, 登録|します) are dropped. Each piece that
 * is left must appear in the folded text (search-text.ts). Kuromoji would need a dictionary of some 20 MB and a package
 * that is not installed; a segmenter without stemming (TinySegmenter) would still leave 届か against 届き.
 */
import type { Faq } from '../db/schema.ts';
import { foldForSearch } from './search-text.ts';

/** One word of the query: what it was (folded) and the pieces that must all be found for it to match. */
export interface QueryWord {
  word: string;
  keys: string[];
}

type Script = 'kanji' | 'katakana' | 'hiragana' | 'latin';

const HIRAGANA = /[\u3041-\u309f]/;
const KATAKANA = /[\u30a0-\u30ff\u31f0-\u31ff]/;
const KANJI = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\u3006]/;
const LATIN = /[\p{L}\p{N}@#%&+_.\-/]/u;

/** Inflectional endings, longest first (ません before ます, なかった before た). */
const ENDINGS = [
  'ませんでした',
  'ないです',
  'ませんか',
  'なかった',
  'ていません',
  'ています',
  'ていない',
  'ている',
  'ません',
  'ました',
  'られる',
  'られた',
  'たいです',
  'ない',
  'ます',
  'れる',
  'たい',
  'なく',
  'ので',
  'から',
  'って',
  'た',
  'て',
  'る',
  'か',
  'ね',
  'よ',
];
const LEADING_PARTICLES = ['が', 'を', 'に', 'は', 'へ', 'と', 'も', 'の', 'や'];
/** What is left of する / される / させる once the ending is gone: no meaning of its own after a noun. */
const LIGHT_VERBS = new Set(['され', 'させ', 'しな', 'しま', 'しまし']);

function scriptOf(c: string): Script | undefined {
  if (HIRAGANA.test(c)) return 'hiragana';
  if (KATAKANA.test(c) && c !== '・') return 'katakana';
  if (KANJI.test(c)) return 'kanji';
  if (LATIN.test(c)) return 'latin';
  return undefined; // punctuation and spaces separate pieces
}

/** Cuts a word (NFKC, lower case, kana not yet folded) into runs of one script; digits stay with a following kanji (1時間). */
function scriptRuns(word: string): Array<{ script: Script; text: string }> {
  const runs: Array<{ script: Script; text: string }> = [];
  let boundary = true;
  for (const c of word) {
    let script = scriptOf(c);
    if (!script) {
      boundary = true;
      continue;
    }
    const last = runs.at(-1);
    // The long-vowel mark ー belongs to the kana before it (めーる typed in hiragana stays one run).
    if (c === 'ー' && last && !boundary && (last.script === 'hiragana' || last.script === 'katakana'))
      script = last.script;
    const digitsThenKanji =
      last && !boundary && script === 'kanji' && last.script === 'latin' && /^\d+$/.test(last.text);
    if (last && !boundary && (last.script === script || digitsThenKanji)) {
      last.text += c;
      if (digitsThenKanji) last.script = 'kanji';
    } else runs.push({ script, text: c });
    boundary = false;
  }
  return runs;
}

function stripEnding(kana: string): string {
  for (let again = true; again; ) {
    again = false;
    for (const e of ENDINGS) {
      if (kana.length > e.length && kana.endsWith(e)) {
        kana = kana.slice(0, -e.length);
        again = true;
        break;
      }
    }
  }
  return kana;
}

/** English words lose a plural or tense ending (arrives, arriving → arriv; locked → lock); short words stay as typed. */
function stemLatin(text: string): string {
  if (!/^[a-z]+$/.test(text) || text.length <= 4) return text;
  return text.replace(/(ing|ed|es|s)$/, '');
}

/** The pieces of one query word that must all be found (see the module comment); never empty for a non-empty word. */
export function wordKeys(word: string): string[] {
  const runs = scriptRuns(word.normalize('NFKC').toLowerCase());
  const keys: string[] = [];
  runs.forEach((run, i) => {
    const before = runs[i - 1]?.script;
    if (run.script === 'kanji') keys.push(run.text);
    else if (run.script === 'katakana') keys.push(foldForSearch(run.text));
    else if (run.script === 'latin') {
      // An address (from@mail.…jp) keeps its dots; a sentence's full stop does not count.
      const text = run.text.replace(/^[.\-/]+|[.\-/]+$/g, '');
      if (text) keys.push(stemLatin(text));
    } else if (before !== 'kanji') {
      // A hiragana word of its own (できない, ろっく), or a verb after a katakana noun (ログイン|できない).
      let kana = stripEnding(run.text);
      const particle = LEADING_PARTICLES.find((p) => kana.startsWith(p));
      if (particle && kana.length - particle.length >= 2) kana = stripEnding(kana.slice(particle.length));
      const light = before !== undefined && LIGHT_VERBS.has(kana);
      if (!light && kana.length >= 2) keys.push(kana);
    }
    // else: okurigana after kanji (届|かない), where the word inflects; the kanji alone carries the meaning.
  });
  const folded = foldForSearch(word);
  return keys.length ? [...new Set(keys)] : [folded];
}

/**
 * The words of a query (split on half- or full-width spaces, at most 5 of at most 50 characters), each with the pieces it must match. The pieces come from the word before kana folding, because the change
 * from katakana to hiragana (ログイン|できない) is what tells the pieces apart.
 */
export function queryWords(query: string): QueryWord[] {
  const words = query
    .normalize('NFKC')
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 5)
    .map((w) => w.slice(0, 50));
  return words.map((w) => ({ word: foldForSearch(w), keys: wordKeys(w) }));
}

function holds(text: string, w: QueryWord): boolean {
  return w.keys.every((k) => text.includes(k));
}

/**
 * The published entries that match every word, best first: entries whose question (ja or en) holds every word, then
 * those whose question holds more of the words, then the rest; ties keep the editors' order (category, sort_order).
 * With no words, every entry in the editors' order.
 */
export function rankFaq(entries: Faq[], words: QueryWord[]): Faq[] {
  if (words.length === 0) return entries;
  const scored: Array<{ f: Faq; title: number; i: number }> = [];
  entries.forEach((f, i) => {
    const all = f.search_text;
    if (!words.every((w) => holds(all, w))) return;
    const question = foldForSearch(`${f.question_ja} ${f.question_en}`);
    scored.push({ f, title: words.filter((w) => holds(question, w)).length, i });
  });
  return scored.sort((a, b) => b.title - a.title || a.i - b.i).map((s) => s.f);
}
