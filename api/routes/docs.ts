import Router from '@koa/router';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiDocument } from '../openapi/document';
import type { ApiDocs } from '../openapi/registry';
import { z } from 'zod';
import { notFound } from '../errors';

/** The Swagger UI files served from the installed package: no CDN, the docs work offline. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>SagaPay API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script>
    window.onload = () => {
      window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true, presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });
    };
  </script>
</body>
</html>
`;

/** `/openapi.json` (built once from the registered routes) and `/docs` (Swagger UI from local assets). */
export function docsRoutes(docs: ApiDocs, version: string): Router {
  const router = new Router({ sensitive: true });
  const assetsDirectory = join(require.resolve('swagger-ui-dist/package.json'), '..');
  let document: string | undefined;
  const common = { tag: 'Documentation', auth: false, errors: [] as number[], dependsOnServices: false as const };
  docs.add({ ...common, method: 'get', path: '/openapi.json', summary: 'This OpenAPI 3.1 document', responses: { 200: { description: 'the document', schema: z.record(z.string(), z.unknown()) } } });
  docs.add({ ...common, method: 'get', path: '/docs', summary: 'Interactive documentation (Swagger UI, served locally)', responses: { 200: { description: 'an HTML page' } } });
  docs.add({ ...common, method: 'get', path: '/docs/assets/:file', summary: 'Static files of the interactive documentation', responses: { 200: { description: 'a CSS, JavaScript or image file' } }, errors: [404] });

  router.get('/openapi.json', (ctx) => {
    document ??= JSON.stringify(buildOpenApiDocument(docs, version));
    ctx.type = 'application/json';
    ctx.body = document;
  });

  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = PAGE;
  });

  router.get('/docs/assets/:file', (ctx) => {
    const file = String(ctx.params.file);
    const type = ASSETS[file];
    if (!type) throw notFound();
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = readFileSync(join(assetsDirectory, file));
  });

  return router;
}
