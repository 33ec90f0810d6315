/**
 * The safe Markdown subset of お知らせ, よくある質問 and pages (issue 4 §5, B1): what it renders, and that nothing an
 * editor types becomes markup or a script-running link.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { h } from 'preact';
import { render } from 'preact-render-to-string';
import { Markdown } from '../../src/content/markdown.tsx';

const md = (source: string) => render(h(Markdown, { source }));
const inner = (source: string) =>
  md(source)
    .replace(/^<div class="prose">/, '')
    .replace(/<\/div>$/, '');

test('issue4-5: paragraphs on blank lines, line breaks, ## and ### headings, "- " lists, **bold**', () => {
  assert.equal(inner('一行目\n二行目\r\n\r\n次の段落'), '<p>一行目<br/>二行目</p><p>次の段落</p>');
  assert.equal(inner('## 見出し\n\n### 小見出し'), '<h2>見出し</h2><h3>小見出し</h3>');
  assert.equal(inner('- 一\n- **二**'), '<ul><li>一</li><li><strong>二</strong></li></ul>');
  assert.equal(inner('これは**太字**です'), '<p>これは<strong>太字</strong>です</p>');
  assert.equal(inner('\n\n   \n\n'), '', 'blank blocks are dropped');
});

test('issue4-5: "# " is not a heading (the page has its own h1), a list needs every line to be an item', () => {
  assert.equal(inner('# 大見出し'), '<p># 大見出し</p>');
  assert.equal(inner('- 一\n二'), '<p>- 一<br/>二</p>');
});

test('issue4-5: links to https/http addresses and to paths of this site; outside links get rel="noopener noreferrer"', () => {
  assert.equal(
    inner('[厚労省](https://www.mhlw.go.jp/)'),
    '<p><a href="https://www.mhlw.go.jp/" rel="noopener noreferrer">厚労省</a></p>',
  );
  assert.equal(
    inner('[旧](http://example.jp/a?b=1&c=2)'),
    '<p><a href="http://example.jp/a?b=1&amp;c=2" rel="noopener noreferrer">旧</a></p>',
  );
  assert.equal(inner('[よくある質問](/csm/faq?q=メール)'), '<p><a href="/csm/faq?q=メール">よくある質問</a></p>');
});

test('B1: script-running and off-site-by-trick links stay text', () => {
  for (const link of [
    '[x](javascript:alert(1))',
    '[x](JavaScript:alert(1))',
    '[x](jAvAsCrIpT:alert`1`)',
    '[x](data:text/html,<script>alert(1)</script>)',
    '[x](vbscript:msgbox)',
    '[x](//evil.example/)',
    '[x](/\\evil.example/)',
    '[x](https://ok.example/"onmouseover=alert(1))',
    '[x](/a"onclick=alert(1))',
    '[x](mailto:a@example.jp)',
    '[x](file:///etc/passwd)',
  ]) {
    const html = md(link);
    assert.doesNotMatch(html, /<(?!\/?(div|p)\b)/, `${link} → ${html}`);
    assert.ok(
      html.includes(link.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')),
      `${link} is shown as typed`,
    );
  }
});

test('B1: HTML typed by an editor is shown as text, never markup', () => {
  const html = md(
    '<script>alert(1)</script>\n\n<img src=x onerror=alert(2)> <iframe src="https://evil.example"></iframe>\n\n&lt;b&gt; <b>太字?</b>',
  );
  assert.doesNotMatch(html, /<(script|img|iframe|b)\b/i);
  assert.ok(html.includes('&lt;script>alert(1)&lt;/script>'));
  assert.ok(html.includes('&amp;lt;b&amp;gt;'), 'an entity typed stays the text typed');
  assert.equal(inner('**<i>x</i>**'), '<p><strong>&lt;i>x&lt;/i></strong></p>');
  assert.equal(
    inner('[<img src=x>](https://example.jp/)'),
    '<p><a href="https://example.jp/" rel="noopener noreferrer">&lt;img src=x></a></p>',
  );
});
