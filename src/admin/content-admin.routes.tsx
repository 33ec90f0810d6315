/**
 * Editors keep お知らせ, よくある質問 and the pages up to date: write, preview (nothing saved), save as draft,
 * publish. Every save and publication is audited with the operator.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Faq, News, NewsTable, Page } from '../db/schema.ts';
import type { Services } from '../services.ts';
import {
  findFaq,
  findNews,
  findPage,
  insertFaq,
  insertNews,
  listAllFaq,
  listAllNews,
  listPages,
  updateFaq,
  updateNews,
  upsertPage,
} from '../content/content.repository.ts';
import { Markdown } from '../content/markdown.tsx';
import { foldForSearch } from '../content/search-text.ts';
import { randomId } from '../security/tokens.ts';
import { Csrf, ErrorSummary, Field, Notice, summaryItems } from '../web/components.tsx';
import { HttpError } from '../web/errors.ts';
import { queryParam, readForm } from '../web/forms.ts';
import type { MessageKey, Translate } from '../web/i18n/i18n.ts';
import { sendPage } from '../web/render.ts';
import { japanLocalInput, parseJapanLocalInput } from '../web/japan-time.ts';
import { adminContext, requireRole } from './admin.plugin.tsx';
import { AdminLayout, jstTime, type AdminContext } from './admin-layout.tsx';

const CATEGORIES = ['general', 'online-qualification', 'e-prescription', 'ehr-sharing'] as const;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

function TextArea({
  t,
  id,
  label,
  value,
  error,
  rows = 8,
  optional = false,
}: {
  t: Translate;
  id: string;
  label: string;
  value: string;
  error?: string | undefined;
  rows?: number;
  optional?: boolean;
}) {
  return (
    <div class={`field${error ? ' field--error' : ''}`}>
      <label for={id} class="field__label">
        {label}
        {optional ? null : (
          <span class="field__req" aria-hidden="true">
            *
          </span>
        )}
      </label>
      <p id={`${id}-help`} class="field__help">
        {t('admin.content.markdownHelp')}
      </p>
      <textarea
        id={id}
        name={id}
        rows={rows}
        cols={60}
        required={!optional}
        aria-describedby={`${id}-help${error ? ` ${id}-error` : ''}`}
        aria-invalid={error ? 'true' : undefined}
      >
        {value}
      </textarea>
      {error ? (
        <div id={`${id}-error`} class="field__error">
          <p>{error}</p>
        </div>
      ) : null}
    </div>
  );
}

function Select({
  id,
  label,
  value,
  options,
}: {
  id: string;
  label: string;
  value: string;
  options: Array<[string, string]>;
}) {
  return (
    <div class="field">
      <label for={id} class="field__label">
        {label}
      </label>
      <select id={id} name={id}>
        {options.map(([v, l]) => (
          <option value={v} selected={v === value}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}

function Buttons({ t, draft }: { t: Translate; draft: boolean }) {
  return (
    <div class="actions">
      <button type="submit" name="action" value="preview" class="button button--secondary">
        {t('admin.content.preview')}
      </button>
      {draft ? (
        <button type="submit" name="action" value="draft" class="button button--secondary">
          {t('admin.content.saveDraft')}
        </button>
      ) : null}
      <button type="submit" name="action" value="publish" class="button button--primary">
        {draft ? t('admin.content.publish') : t('admin.content.save')}
      </button>
    </div>
  );
}

function statusLabel(t: Translate, status: string) {
  return t(status === 'published' ? 'admin.content.statusPublished' : 'admin.content.statusDraft');
}

export async function contentAdminRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const view = { preHandler: requireRole('admin', 'editor') };
  const change = { preHandler: [app.csrfProtection, requireRole('admin', 'editor')] };
  const actor = (r: FastifyRequest) => ({
    actor: `operator:${r.operator!.username}`,
    ip: r.ip,
    userAgent: r.meta.userAgent,
  });

  // ── お知らせ ───────────────────────────────────────────────────────────────
  app.get('/news', view, async (request, reply) => {
    const ctx = adminContext(request, reply);
    const { t } = ctx;
    const all = await listAllNews(s.db);
    const m = queryParam(request, 'm');
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: t('admin.news.heading'),
        children: (
          <>
            {m === 'published' || m === 'saved' ? (
              <Notice kind="success">
                <p>{t(m === 'published' ? 'admin.content.published' : 'admin.content.saved')}</p>
              </Notice>
            ) : null}
            <p>
              <a class="button button--primary" href="/admin/news/new">
                {t('admin.content.new')}
              </a>
            </p>
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{t('admin.col.publishAt')}</th>
                  <th scope="col">{t('admin.col.title')}</th>
                  <th scope="col">{t('admin.col.status')}</th>
                  <th scope="col">{t('admin.col.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {all.map((n) => (
                  <tr>
                    <td>{jstTime(n.publish_at)}</td>
                    <td>
                      {n.title_ja}
                      {n.title_en ? null : ` ${t('admin.news.japaneseOnly')}`}
                    </td>
                    <td>{statusLabel(t, n.status)}</td>
                    <td>
                      <a href={`/admin/news/${n.id}`}>{t('admin.content.edit')}</a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ),
      }),
    );
  });

  type NewsForm = Record<
    'title_ja' | 'title_en' | 'body_ja' | 'body_en' | 'category' | 'importance' | 'publish_at' | 'end_at',
    string
  >;

  function newsPage(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    f: NewsForm,
    errors: Partial<Record<keyof NewsForm, string>>,
    preview: boolean,
    status = 200,
  ) {
    const ctx: AdminContext = adminContext(request, reply);
    const { t } = ctx;
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: t('admin.news.heading'),
        children: (
          <>
            {preview ? (
              <section class="preview" aria-labelledby="preview-heading">
                <h2 id="preview-heading">{t('admin.content.previewHeading')}</h2>
                <h3>{f.title_ja}</h3>
                <Markdown source={f.body_ja} />
                {f.title_en.trim() ? (
                  <>
                    <h3 lang="en">{f.title_en}</h3>
                    <div lang="en">
                      <Markdown source={f.body_en} />
                    </div>
                  </>
                ) : (
                  <p>{t('admin.news.englishOptional')}</p>
                )}
              </section>
            ) : null}
            <form method="post" action={`/admin/news/${id}`} novalidate>
              <Csrf token={ctx.csrfToken} />
              <ErrorSummary t={t} show={Object.keys(errors).length > 0} items={summaryItems(errors)} />
              <Field
                t={t}
                id="title_ja"
                name="title_ja"
                label={t('admin.news.titleJa')}
                required
                value={f.title_ja}
                maxLength={200}
                error={errors.title_ja}
              />
              <TextArea t={t} id="body_ja" label={t('admin.news.bodyJa')} value={f.body_ja} error={errors.body_ja} />
              <Field
                t={t}
                id="title_en"
                name="title_en"
                label={t('admin.news.titleEn')}
                help={t('admin.news.englishOptional')}
                value={f.title_en}
                maxLength={200}
                error={errors.title_en}
              />
              <TextArea
                t={t}
                id="body_en"
                label={t('admin.news.bodyEn')}
                value={f.body_en}
                error={errors.body_en}
                optional
              />
              <Select
                id="category"
                label={t('admin.news.category')}
                value={f.category}
                options={CATEGORIES.map((c) => [c, t(`content.news.category.${c}` as MessageKey)])}
              />
              <Select
                id="importance"
                label={t('admin.news.importance')}
                value={f.importance}
                options={[
                  ['normal', t('admin.news.importance.normal')],
                  ['important', t('admin.news.importance.important')],
                ]}
              />
              <Field
                t={t}
                id="publish_at"
                name="publish_at"
                label={t('admin.news.publishAt')}
                help="YYYY-MM-DDTHH:MM"
                value={f.publish_at}
                maxLength={16}
                error={errors.publish_at}
              />
              <Field
                t={t}
                id="end_at"
                name="end_at"
                label={t('admin.news.endAt')}
                help="YYYY-MM-DDTHH:MM"
                value={f.end_at}
                maxLength={16}
                error={errors.end_at}
              />
              <Buttons t={t} draft />
            </form>
          </>
        ),
      }),
      status,
    );
  }

  async function loadNews(id: string): Promise<News | undefined> {
    if (id === 'new') return undefined;
    const n = ID.test(id) ? await findNews(s.db, id) : undefined;
    if (!n) throw new HttpError('NOT_FOUND');
    return n;
  }

  app.get<{ Params: { id: string } }>('/news/:id', view, async (request, reply) => {
    const n = await loadNews(request.params.id);
    const f: NewsForm = n
      ? {
          title_ja: n.title_ja,
          title_en: n.title_en,
          body_ja: n.body_ja,
          body_en: n.body_en,
          category: n.category,
          importance: n.importance,
          publish_at: japanLocalInput(n.publish_at),
          end_at: japanLocalInput(n.end_at),
        }
      : {
          title_ja: '',
          title_en: '',
          body_ja: '',
          body_en: '',
          category: 'general',
          importance: 'normal',
          publish_at: japanLocalInput(s.now()),
          end_at: '',
        };
    return newsPage(request, reply, request.params.id, f, {}, false);
  });

  app.post<{ Params: { id: string } }>('/news/:id', change, async (request, reply) => {
    const existing = await loadNews(request.params.id);
    const { t } = request;
    const { values } = readForm(request, {
      title_ja: 200,
      title_en: 200,
      body_ja: 20_000,
      body_en: 20_000,
      category: 40,
      importance: 20,
      publish_at: 16,
      end_at: 16,
      action: 20,
    });
    const f: NewsForm = { ...values };
    const errors: Partial<Record<keyof NewsForm, string>> = {};
    const labels: Array<[keyof NewsForm, MessageKey]> = [
      ['title_ja', 'admin.news.titleJa'],
      ['body_ja', 'admin.news.bodyJa'],
    ];
    for (const [k, label] of labels) if (!f[k].trim()) errors[k] = t('admin.content.required', { label: t(label) });
    // English is optional (issue 11 §6): none at all publishes in Japanese only; half of it is a slip, named on the empty field.
    const hasTitleEn = Boolean(f.title_en.trim());
    const hasBodyEn = Boolean(f.body_en.trim());
    if (hasTitleEn !== hasBodyEn) errors[hasTitleEn ? 'body_en' : 'title_en'] = t('admin.news.englishPair');
    const publishAt = parseJapanLocalInput(f.publish_at);
    const endAt = parseJapanLocalInput(f.end_at);
    if (publishAt === 'bad' || publishAt === undefined) errors.publish_at = t('admin.content.badDate');
    if (endAt === 'bad') errors.end_at = t('admin.content.badDate');
    else if (typeof endAt === 'number' && typeof publishAt === 'number' && endAt <= publishAt)
      errors.end_at = t('admin.content.endBeforeStart');
    const category = CATEGORIES.find((c) => c === f.category) ?? 'general';
    const importance = f.importance === 'important' ? 'important' : 'normal';
    const action = values.action;
    if (action === 'preview' || Object.keys(errors).length)
      return newsPage(
        request,
        reply,
        request.params.id,
        f,
        errors,
        action === 'preview',
        Object.keys(errors).length ? 400 : 200,
      );
    if (action !== 'draft' && action !== 'publish') throw new HttpError('BAD_REQUEST', 'unknown action');
    const now = s.now();
    const row: Omit<NewsTable, 'id' | 'created_at'> = {
      title_ja: f.title_ja.trim(),
      title_en: f.title_en.trim(),
      body_ja: f.body_ja,
      body_en: f.title_en.trim() ? f.body_en : '',
      category,
      importance,
      status: action === 'publish' ? 'published' : 'draft',
      publish_at: publishAt as number,
      end_at: (endAt as number | undefined) ?? null,
      search_text: foldForSearch(`${f.title_ja} ${f.body_ja} ${f.title_en} ${f.body_en}`),
      updated_at: now,
      updated_by: request.operator!.username,
    };
    const id = existing?.id ?? randomId();
    await s.db.transaction().execute(async (trx) => {
      if (existing) await updateNews(trx, id, row);
      else await insertNews(trx, { id, created_at: now, ...row });
      await s.audit(
        {
          event: action === 'publish' ? 'content.news.published' : 'content.news.saved',
          outcome: 'ok',
          ...actor(request),
          detail: { id, title: row.title_ja },
        },
        trx,
      );
    });
    s.topPage.invalidate();
    return reply.redirect(`/admin/news?m=${action === 'publish' ? 'published' : 'saved'}`, 303);
  });

  // ── よくある質問 ──────────────────────────────────────────────────────────
  type FaqForm = Record<'category' | 'question_ja' | 'answer_ja' | 'question_en' | 'answer_en' | 'sort_order', string>;

  app.get('/faq', view, async (request, reply) => {
    const ctx = adminContext(request, reply);
    const { t } = ctx;
    const all = await listAllFaq(s.db);
    const m = queryParam(request, 'm');
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: t('admin.faq.heading'),
        children: (
          <>
            {m === 'published' || m === 'saved' ? (
              <Notice kind="success">
                <p>{t(m === 'published' ? 'admin.content.published' : 'admin.content.saved')}</p>
              </Notice>
            ) : null}
            <p>
              <a class="button button--primary" href="/admin/faq/new">
                {t('admin.content.new')}
              </a>
            </p>
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{t('admin.faq.category')}</th>
                  <th scope="col">{t('admin.col.order')}</th>
                  <th scope="col">{t('admin.col.question')}</th>
                  <th scope="col">{t('admin.col.status')}</th>
                  <th scope="col">{t('admin.col.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {all.map((f) => (
                  <tr>
                    <td>{f.category}</td>
                    <td>{f.sort_order}</td>
                    <td>{f.question_ja}</td>
                    <td>{statusLabel(t, f.status)}</td>
                    <td>
                      <a href={`/admin/faq/${f.id}`}>{t('admin.content.edit')}</a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ),
      }),
    );
  });

  function faqPage(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    f: FaqForm,
    errors: Partial<Record<keyof FaqForm, string>>,
    preview: boolean,
    status = 200,
  ) {
    const ctx = adminContext(request, reply);
    const { t } = ctx;
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: t('admin.faq.heading'),
        children: (
          <>
            {preview ? (
              <section class="preview" aria-labelledby="preview-heading">
                <h2 id="preview-heading">{t('admin.content.previewHeading')}</h2>
                <dl class="faq">
                  <dt>Q. {f.question_ja}</dt>
                  <dd>
                    <Markdown source={f.answer_ja} />
                  </dd>
                  <dt lang="en">Q. {f.question_en}</dt>
                  <dd lang="en">
                    <Markdown source={f.answer_en} />
                  </dd>
                </dl>
              </section>
            ) : null}
            <form method="post" action={`/admin/faq/${id}`} novalidate>
              <Csrf token={ctx.csrfToken} />
              <ErrorSummary t={t} show={Object.keys(errors).length > 0} items={summaryItems(errors)} />
              <Field
                t={t}
                id="category"
                name="category"
                label={t('admin.faq.category')}
                required
                value={f.category}
                maxLength={40}
                error={errors.category}
              />
              <Field
                t={t}
                id="sort_order"
                name="sort_order"
                label={t('admin.faq.order')}
                required
                value={f.sort_order}
                maxLength={4}
                inputMode="numeric"
                error={errors.sort_order}
              />
              <Field
                t={t}
                id="question_ja"
                name="question_ja"
                label={t('admin.faq.questionJa')}
                required
                value={f.question_ja}
                maxLength={300}
                error={errors.question_ja}
              />
              <TextArea
                t={t}
                id="answer_ja"
                label={t('admin.faq.answerJa')}
                value={f.answer_ja}
                error={errors.answer_ja}
              />
              <Field
                t={t}
                id="question_en"
                name="question_en"
                label={t('admin.faq.questionEn')}
                required
                value={f.question_en}
                maxLength={300}
                error={errors.question_en}
              />
              <TextArea
                t={t}
                id="answer_en"
                label={t('admin.faq.answerEn')}
                value={f.answer_en}
                error={errors.answer_en}
              />
              <Buttons t={t} draft />
            </form>
          </>
        ),
      }),
      status,
    );
  }

  async function loadFaq(id: string): Promise<Faq | undefined> {
    if (id === 'new') return undefined;
    const f = ID.test(id) ? await findFaq(s.db, id) : undefined;
    if (!f) throw new HttpError('NOT_FOUND');
    return f;
  }

  app.get<{ Params: { id: string } }>('/faq/:id', view, async (request, reply) => {
    const e = await loadFaq(request.params.id);
    const f: FaqForm = e
      ? {
          category: e.category,
          question_ja: e.question_ja,
          answer_ja: e.answer_ja,
          question_en: e.question_en,
          answer_en: e.answer_en,
          sort_order: String(e.sort_order),
        }
      : { category: 'password', question_ja: '', answer_ja: '', question_en: '', answer_en: '', sort_order: '100' };
    return faqPage(request, reply, request.params.id, f, {}, false);
  });

  app.post<{ Params: { id: string } }>('/faq/:id', change, async (request, reply) => {
    const existing = await loadFaq(request.params.id);
    const { t } = request;
    const { values } = readForm(request, {
      category: 40,
      question_ja: 300,
      answer_ja: 20_000,
      question_en: 300,
      answer_en: 20_000,
      sort_order: 4,
      action: 20,
    });
    const f: FaqForm = { ...values };
    const errors: Partial<Record<keyof FaqForm, string>> = {};
    const labels: Array<[keyof FaqForm, MessageKey]> = [
      ['category', 'admin.faq.category'],
      ['question_ja', 'admin.faq.questionJa'],
      ['answer_ja', 'admin.faq.answerJa'],
      ['question_en', 'admin.faq.questionEn'],
      ['answer_en', 'admin.faq.answerEn'],
    ];
    for (const [k, label] of labels) if (!f[k].trim()) errors[k] = t('admin.content.required', { label: t(label) });
    if (!/^\d{1,4}$/.test(f.sort_order.trim())) errors.sort_order = t('admin.faq.orderInvalid');
    const action = values.action;
    if (action === 'preview' || Object.keys(errors).length)
      return faqPage(
        request,
        reply,
        request.params.id,
        f,
        errors,
        action === 'preview',
        Object.keys(errors).length ? 400 : 200,
      );
    if (action !== 'draft' && action !== 'publish') throw new HttpError('BAD_REQUEST', 'unknown action');
    const now = s.now();
    const row = {
      category: f.category.trim(),
      question_ja: f.question_ja.trim(),
      answer_ja: f.answer_ja,
      question_en: f.question_en.trim(),
      answer_en: f.answer_en,
      sort_order: Number(f.sort_order),
      status: action === 'publish' ? ('published' as const) : ('draft' as const),
      search_text: foldForSearch(`${f.question_ja} ${f.answer_ja} ${f.question_en} ${f.answer_en}`),
      updated_at: now,
      updated_by: request.operator!.username,
    };
    const id = existing?.id ?? randomId();
    await s.db.transaction().execute(async (trx) => {
      if (existing) await updateFaq(trx, id, row);
      else await insertFaq(trx, { id, created_at: now, ...row });
      await s.audit(
        {
          event: action === 'publish' ? 'content.faq.published' : 'content.faq.saved',
          outcome: 'ok',
          ...actor(request),
          detail: { id, question: row.question_ja },
        },
        trx,
      );
    });
    s.topPage.invalidate();
    return reply.redirect(`/admin/faq?m=${action === 'publish' ? 'published' : 'saved'}`, 303);
  });

  // ── Pages (お問い合わせ先, services, 新設・廃止・コード変更) ───────────────────
  app.get('/pages', view, async (request, reply) => {
    const ctx = adminContext(request, reply);
    const { t } = ctx;
    const pages = await listPages(s.db);
    const m = queryParam(request, 'm');
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: t('admin.pages.heading'),
        children: (
          <>
            {m === 'published' ? (
              <Notice kind="success">
                <p>{t('admin.content.published')}</p>
              </Notice>
            ) : null}
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{t('admin.col.title')}</th>
                  <th scope="col">{t('admin.col.when')}</th>
                  <th scope="col">{t('admin.col.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {pages.map((p) => (
                  <tr>
                    <td>{p.title_ja}</td>
                    <td>{jstTime(p.updated_at)}</td>
                    <td>
                      <a href={`/admin/pages/${p.slug}`}>{t('admin.content.edit')}</a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ),
      }),
    );
  });

  type PageForm = Record<'title_ja' | 'title_en' | 'body_ja' | 'body_en', string>;

  function pageEditor(
    request: FastifyRequest,
    reply: FastifyReply,
    p: Page,
    f: PageForm,
    errors: Partial<Record<keyof PageForm, string>>,
    preview: boolean,
    status = 200,
  ) {
    const ctx = adminContext(request, reply);
    const { t } = ctx;
    return sendPage(
      reply,
      AdminLayout({
        ctx,
        title: `${t('admin.pages.heading')}：${p.title_ja}`,
        children: (
          <>
            {preview ? (
              <section class="preview" aria-labelledby="preview-heading">
                <h2 id="preview-heading">{t('admin.content.previewHeading')}</h2>
                <h3>{f.title_ja}</h3>
                <Markdown source={f.body_ja} />
                <h3 lang="en">{f.title_en}</h3>
                <div lang="en">
                  <Markdown source={f.body_en} />
                </div>
              </section>
            ) : null}
            <form method="post" action={`/admin/pages/${p.slug}`} novalidate>
              <Csrf token={ctx.csrfToken} />
              <ErrorSummary t={t} show={Object.keys(errors).length > 0} items={summaryItems(errors)} />
              <Field
                t={t}
                id="title_ja"
                name="title_ja"
                label={t('admin.pages.titleJa')}
                required
                value={f.title_ja}
                maxLength={200}
                error={errors.title_ja}
              />
              <TextArea
                t={t}
                id="body_ja"
                label={t('admin.pages.bodyJa')}
                value={f.body_ja}
                error={errors.body_ja}
                rows={14}
              />
              <Field
                t={t}
                id="title_en"
                name="title_en"
                label={t('admin.pages.titleEn')}
                required
                value={f.title_en}
                maxLength={200}
                error={errors.title_en}
              />
              <TextArea
                t={t}
                id="body_en"
                label={t('admin.pages.bodyEn')}
                value={f.body_en}
                error={errors.body_en}
                rows={14}
              />
              <Buttons t={t} draft={false} />
            </form>
          </>
        ),
      }),
      status,
    );
  }

  async function loadPage(slug: string): Promise<Page> {
    const p = /^[a-z0-9-]{1,64}$/.test(slug) ? await findPage(s.db, slug) : undefined;
    if (!p) throw new HttpError('NOT_FOUND');
    return p;
  }

  app.get<{ Params: { slug: string } }>('/pages/:slug', view, async (request, reply) => {
    const p = await loadPage(request.params.slug);
    return pageEditor(
      request,
      reply,
      p,
      { title_ja: p.title_ja, title_en: p.title_en, body_ja: p.body_ja, body_en: p.body_en },
      {},
      false,
    );
  });

  app.post<{ Params: { slug: string } }>('/pages/:slug', change, async (request, reply) => {
    const p = await loadPage(request.params.slug);
    const { t } = request;
    const { values } = readForm(request, {
      title_ja: 200,
      title_en: 200,
      body_ja: 50_000,
      body_en: 50_000,
      action: 20,
    });
    const f: PageForm = {
      title_ja: values.title_ja,
      title_en: values.title_en,
      body_ja: values.body_ja,
      body_en: values.body_en,
    };
    const errors: Partial<Record<keyof PageForm, string>> = {};
    const labels: Array<[keyof PageForm, MessageKey]> = [
      ['title_ja', 'admin.pages.titleJa'],
      ['body_ja', 'admin.pages.bodyJa'],
      ['title_en', 'admin.pages.titleEn'],
      ['body_en', 'admin.pages.bodyEn'],
    ];
    for (const [k, label] of labels) if (!f[k].trim()) errors[k] = t('admin.content.required', { label: t(label) });
    if (values.action === 'preview' || Object.keys(errors).length)
      return pageEditor(
        request,
        reply,
        p,
        f,
        errors,
        values.action === 'preview',
        Object.keys(errors).length ? 400 : 200,
      );
    if (values.action !== 'publish') throw new HttpError('BAD_REQUEST', 'unknown action');
    const now = s.now();
    await s.db.transaction().execute(async (trx) => {
      await upsertPage(trx, {
        slug: p.slug,
        title_ja: f.title_ja.trim(),
        title_en: f.title_en.trim(),
        body_ja: f.body_ja,
        body_en: f.body_en,
        updated_at: now,
        updated_by: request.operator!.username,
      });
      await s.audit(
        { event: 'content.page.published', outcome: 'ok', ...actor(request), detail: { slug: p.slug } },
        trx,
      );
    });
    s.topPage.invalidate();
    return reply.redirect('/admin/pages?m=published', 303);
  });
}
