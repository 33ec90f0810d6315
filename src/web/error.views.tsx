import { Layout, type PageContext } from './layout.tsx';

export function ErrorPage({ ctx, message }: { ctx: PageContext; message: string }) {
  return (
    <Layout ctx={ctx} title={ctx.t('error.title')}>
      <div class="container">
        <h1>{ctx.t('error.title')}</h1>
        <div class="alert alert--error" role="alert">
          <p>{message}</p>
        </div>
        <p>
          <a href="/csm">{ctx.t('error.toTop')}</a>
        </p>
      </div>
    </Layout>
  );
}
