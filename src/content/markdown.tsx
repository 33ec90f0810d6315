/**
 * A safe subset of Markdown for お知らせ and pages, rendered to Preact nodes (so every text is escaped):
 * paragraphs, line breaks, "## " and "### " headings, "- " lists, **bold**, and [links](https://…) to
 * http(s) addresses or paths of this site. Anything else is shown as the text it is.
 */
import type { ComponentChildren, VNode } from 'preact';

function safeHref(href: string): string | undefined {
  if (/^https?:\/\/[^\s<>"]+$/i.test(href)) return href;
  if (/^\/(?![/\\])[^\s<>"]*$/.test(href)) return href;
  return undefined;
}

function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  const re = /\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1] !== undefined) out.push(<strong>{m[1]}</strong>);
    else {
      const href = safeHref(m[3]!);
      out.push(
        href ? (
          <a href={href} rel={href.startsWith('http') ? 'noopener noreferrer' : undefined}>
            {m[2]}
          </a>
        ) : (
          m[0]
        ),
      );
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function withBreaks(lines: string[]): ComponentChildren[] {
  return lines.flatMap((l, i) => (i === 0 ? inline(l) : [<br />, ...inline(l)]));
}

export function Markdown({ source }: { source: string }): VNode {
  const blocks = source
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/)
    .map((b) => b.trim())
    .filter(Boolean);
  return (
    <div class="prose">
      {blocks.map((block) => {
        const lines = block.split('\n');
        if (lines.every((l) => /^- /.test(l)))
          return (
            <ul>
              {lines.map((l) => (
                <li>{inline(l.slice(2))}</li>
              ))}
            </ul>
          );
        if (lines.length === 1 && lines[0]!.startsWith('### ')) return <h3>{inline(lines[0]!.slice(4))}</h3>;
        if (lines.length === 1 && lines[0]!.startsWith('## ')) return <h2>{inline(lines[0]!.slice(3))}</h2>;
        return <p>{withBreaks(lines)}</p>;
      })}
    </div>
  );
}
