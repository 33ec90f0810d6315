/** The development mailbox (/dev/mail): the file outbox as a list, and one mail with its links clickable. */
import type { ComponentChildren } from 'preact';
import { Layout, type PageContext } from '../web/layout.tsx';
import { Notice } from '../web/components.tsx';
import { japanDateTime } from '../web/japan-time.ts';
import type { EmlMessage, EmlSummary } from './eml-reader.ts';

/** http(s) links in a mail's text; a trailing full stop, comma or bracket is the sentence's, not the link's. */
const LINK = /https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/g;

/** The text with every http(s) address as a link; everything else stays text (Preact escapes it). */
export function linkify(text: string): ComponentChildren[] {
  const parts: ComponentChildren[] = [];
  let last = 0;
  for (const m of text.matchAll(LINK)) {
    const url = m[0].replace(/[.,;:!?')\]]+$/, '');
    parts.push(text.slice(last, m.index));
    parts.push(<a href={url}>{url}</a>);
    last = m.index + url.length;
  }
  parts.push(text.slice(last));
  return parts;
}

export function DevMailListPage({ ctx, dir, mails }: { ctx: PageContext; dir: string; mails: EmlSummary[] }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('devmail.heading')}>
      <div class="container">
        <h1>{t('devmail.heading')}</h1>
        <p>{t('devmail.lead', { dir })}</p>
        {mails.length === 0 ? (
          <Notice kind="info">
            <p>{t('devmail.empty')}</p>
          </Notice>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('devmail.time')}</th>
                <th scope="col">{t('devmail.to')}</th>
                <th scope="col">{t('devmail.subject')}</th>
              </tr>
            </thead>
            <tbody>
              {mails.map((m) => (
                <tr>
                  <td>{japanDateTime(m.at, true)}</td>
                  <td>{m.to}</td>
                  <td>
                    <a href={`/dev/mail/${m.file}`}>{m.subject || t('devmail.noSubject')}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </Layout>
  );
}

export function DevMailPage({ ctx, mail }: { ctx: PageContext; mail: EmlMessage }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={mail.subject || t('devmail.noSubject')}>
      <div class="container">
        <p>
          <a href="/dev/mail">{t('devmail.back')}</a>
        </p>
        <h1>{mail.subject || t('devmail.noSubject')}</h1>
        <dl class="summary">
          <dt>{t('devmail.time')}</dt>
          <dd>{japanDateTime(mail.at, true)}</dd>
          <dt>{t('devmail.from')}</dt>
          <dd>{mail.from}</dd>
          <dt>{t('devmail.to')}</dt>
          <dd>{mail.to}</dd>
          <dt>{t('devmail.file')}</dt>
          <dd>
            <code>{mail.file}</code>
          </dd>
        </dl>
        <pre class="mail-text">{linkify(mail.text)}</pre>
      </div>
    </Layout>
  );
}
