/** SQL for お知らせ, よくある質問 and the editable pages. */
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Faq, FaqTable, News, NewsTable, Page, PagesTable } from '../db/schema.ts';

/** Published news visible at `now`, newest first. */
export async function listPublishedNews(db: Db, now: number, limit: number): Promise<News[]> {
  return (
    db
      .selectFrom('news')
      .selectAll()
      .where('status', '=', 'published')
      .where('publish_at', '<=', now)
      .where((eb) => eb.or([eb('end_at', 'is', null), eb('end_at', '>', now)]))
      // 重要 first: the column holds 'important' | 'normal', whose alphabetical order would put 'normal' first.
      .orderBy(sql`case when importance = 'important' then 0 else 1 end`)
      .orderBy('publish_at', 'desc')
      .limit(limit)
      .execute()
  );
}

/** The next time the published news change by themselves (a publish time or an end time still ahead), or null. */
export async function nextNewsChange(db: Db, now: number): Promise<number | null> {
  const r = await db
    .selectFrom('news')
    .select((eb) => [
      eb.fn.min(eb.case().when('publish_at', '>', now).then(eb.ref('publish_at')).end()).as('publish'),
      eb.fn.min(eb.case().when('end_at', '>', now).then(eb.ref('end_at')).end()).as('end'),
    ])
    .where('status', '=', 'published')
    .executeTakeFirst();
  const times = [r?.publish, r?.end].filter((v): v is number => v !== null && v !== undefined).map(Number);
  return times.length ? Math.min(...times) : null;
}

export async function listAllNews(db: Db): Promise<News[]> {
  return db.selectFrom('news').selectAll().orderBy('publish_at', 'desc').execute();
}

export async function findNews(db: Db, id: string): Promise<News | undefined> {
  return db.selectFrom('news').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertNews(db: Db, n: NewsTable): Promise<void> {
  await db.insertInto('news').values(n).execute();
}

export async function updateNews(db: Db, id: string, patch: Omit<NewsTable, 'id' | 'created_at'>): Promise<void> {
  await db.updateTable('news').set(patch).where('id', '=', id).execute();
}

export async function countNews(db: Db): Promise<number> {
  const r = await db
    .selectFrom('news')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Every published FAQ entry in the editors' order (category, sort_order), for the search in faq-search.ts. The
 * search ranks in the application rather than in SQL so that SQLite and PostgreSQL answer the same: the FAQ is a
 * few dozen entries kept by editors, and the cap only guards against a runaway table.
 */
export async function listPublishedFaq(db: Db, cap = 2000): Promise<Faq[]> {
  return db
    .selectFrom('faq')
    .selectAll()
    .where('status', '=', 'published')
    .orderBy('category')
    .orderBy('sort_order')
    .limit(cap)
    .execute();
}

export async function listAllFaq(db: Db): Promise<Faq[]> {
  return db.selectFrom('faq').selectAll().orderBy('category').orderBy('sort_order').execute();
}

export async function findFaq(db: Db, id: string): Promise<Faq | undefined> {
  return db.selectFrom('faq').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertFaq(db: Db, f: FaqTable): Promise<void> {
  await db.insertInto('faq').values(f).execute();
}

export async function updateFaq(db: Db, id: string, patch: Omit<FaqTable, 'id' | 'created_at'>): Promise<void> {
  await db.updateTable('faq').set(patch).where('id', '=', id).execute();
}

export async function findPage(db: Db, slug: string): Promise<Page | undefined> {
  return db.selectFrom('pages').selectAll().where('slug', '=', slug).executeTakeFirst();
}

export async function listPages(db: Db): Promise<Page[]> {
  return db.selectFrom('pages').selectAll().orderBy('slug').execute();
}

export async function upsertPage(db: Db, p: PagesTable): Promise<void> {
  const existing = await findPage(db, p.slug);
  if (existing) await db.updateTable('pages').set(p).where('slug', '=', p.slug).execute();
  else await db.insertInto('pages').values(p).execute();
}
