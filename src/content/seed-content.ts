/** Puts the starting お知らせ, よくある質問 and pages into an empty database (idempotent; ids are fixed). */
import type { Db } from '../db/database.ts';
import { FAQ, NEWS, PAGES } from './demo-content.ts';
import { foldForSearch } from './search-text.ts';

export async function seedContent(db: Db, now: number): Promise<void> {
  for (const [i, n] of NEWS.entries()) {
    await db
      .insertInto('news')
      .values({
        id: `seed-news-${i + 1}`,
        title_ja: n.title.ja,
        title_en: n.title.en,
        body_ja: n.body.ja,
        body_en: n.body.en,
        category: 'general',
        importance: 'normal',
        status: 'published',
        publish_at: Date.parse(`${n.date}T00:00:00+09:00`),
        end_at: null,
        search_text: foldForSearch(`${n.title.ja} ${n.body.ja} ${n.title.en} ${n.body.en}`),
        created_at: now,
        updated_at: now,
        updated_by: 'seed',
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
  for (const [i, f] of FAQ.entries()) {
    await db
      .insertInto('faq')
      .values({
        id: `seed-faq-${i + 1}`,
        category: 'password',
        question_ja: f.q.ja,
        answer_ja: f.a.ja,
        question_en: f.q.en,
        answer_en: f.a.en,
        sort_order: (i + 1) * 10,
        status: 'published',
        search_text: foldForSearch(`${f.q.ja} ${f.a.ja} ${f.q.en} ${f.a.en}`),
        created_at: now,
        updated_at: now,
        updated_by: 'seed',
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
  for (const p of PAGES) {
    await db
      .insertInto('pages')
      .values({
        slug: p.slug,
        title_ja: p.title.ja,
        title_en: p.title.en,
        body_ja: p.body.ja,
        body_en: p.body.en,
        updated_at: now,
        updated_by: 'seed',
      })
      .onConflict((oc) => oc.column('slug').doNothing())
      .execute();
  }
}
