/* global document */
// Renders this server's OpenAPI document (/api/openapi.json) as a list of operations. Same-origin
// only, no external asset, text set with textContent (never HTML from the document), so the
// dashboards' Content-Security-Policy holds. Needs a login: the document is not public.
const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
};
const info = document.getElementById('info');
const ops = document.getElementById('ops');
const res = await fetch('/api/openapi.json', { credentials: 'same-origin' });
if (res.status === 401) {
  info.textContent = 'Log in to the dashboard first (';
  const a = el('a', 'log in');
  a.href = '/';
  info.append(a, ') and reload this page.');
} else if (!res.ok) {
  info.textContent = `The document could not be read (HTTP ${res.status}).`;
} else {
  const doc = await res.json();
  document.getElementById('title').textContent = `${doc.info.title} — API ${doc.info.version}`;
  info.textContent = `${doc.info.description} OpenAPI ${doc.openapi}: `;
  const raw = el('a', 'openapi.json');
  raw.href = '/api/openapi.json';
  info.append(raw);
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const box = el('div', undefined, 'op');
      const head = el('div');
      head.append(el('span', method.toUpperCase(), 'method'), el('span', path, 'path'));
      head.append(el('span', `permission: ${op['x-permission']}`, 'perm'));
      box.append(head, el('div', op.summary));
      const details = el('details');
      details.append(el('summary', 'parameters, body, responses'));
      const detail = { parameters: op.parameters, requestBody: op.requestBody, responses: op.responses };
      details.append(el('pre', JSON.stringify(detail, null, 2)));
      box.append(details);
      ops.append(box);
    }
  }
  const schemas = el('details');
  schemas.append(el('summary', 'Schemas'), el('pre', JSON.stringify(doc.components.schemas, null, 2)));
  ops.append(el('h2', 'Components'), schemas);
}
