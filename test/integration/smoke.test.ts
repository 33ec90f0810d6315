import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestPortal, requestReset, linkOf, pathOf, GOOD_PASSWORD } from '../helpers/test-app.ts';

test('smoke: whole journey on sqlite', async () => {
  const p = await startTestPortal((process.env.T as 'sqlite') ?? 'sqlite');
  try {
    await p.createUser({ username: 'clinic01', email: 'clinic01@example.jp', displayName: 'テスト医院' });
    const c = p.client();
    const sent = await requestReset(c, 'clinic01', 'clinic01@example.jp');
    console.log(sent.status, sent.text.slice(0, 600));
    const mail = await p.sink.waitFor((m) => m.subject.includes('パスワード変更用URL'));
    console.log(mail.from, mail.to, mail.subject, '\n' + mail.text);
    const page = await c.open(pathOf(linkOf(mail)));
    console.log(page.status, page.text.slice(0, 500));
    const done = await c.submit({ password: 'NewPassw0rd2026', confirm: 'NewPassw0rd2026' });
    console.log(done.status, done.text.slice(0, 400));
    const login = await c.open('/login');
    const after = await c.submit({ username: 'clinic01', password: 'NewPassw0rd2026' });
    console.log(after.status, after.text.slice(0, 400));
    const notice = await p.sink.waitFor((m) => m.subject.includes('パスワード変更のお知らせ'));
    console.log(notice.text);
    console.log(await p.audit());
    assert.ok(true);
  } finally {
    await p.close();
  }
});
