/**
 * The rules API (issue 6; permissions per server-shared/web-auth/SPEC.md: `read` to list, `rules` to
 * change): `GET /api/rules` lists every managed Sigma rule with its enabled flag, source, level,
 * ATT&CK techniques and target (edge or central); `GET /api/rules/:id` shows one with its YAML;
 * `PATCH /api/rules/:id {enabled}` turns one on or off; `POST /api/rules` uploads Sigma YAML
 * (JSON `{yaml, target}` or a YAML body with `?target=`), refused whole with a 400 naming each
 * rule, field and reason; `POST /api/rules/push {gateways?, id?}` pushes the enabled edge rules as
 * one set to the listed (or all active) gateways over the link (link SPEC §8): at once to those
 * connected, on reconnect to the others.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { gatewayIdSchema } from '../../protocols/event/schema.ts';
import type { RulesMessage } from '../../protocols/link/codec.ts';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import type * as Api from '../../protocols/api/central.ts';
import { apiError } from '../../server-shared/http-errors.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { RuleProblem, RulesStore, RuleTarget } from '../rules/store.ts';
import { jsonBody } from './body.ts';
import './context.ts';

export interface RulesApiDeps {
  rules: RulesStore;
  registry: GatewayRegistry;
  /** Sends a set to a connected gateway; false when it is not connected (it gets it on reconnect). */
  push: (gateway: string, message: RulesMessage) => boolean;
}

const target = z.enum(['edge', 'central']);
export const patchSchema = z.strictObject({ enabled: z.boolean() });
export const uploadSchema = z.strictObject({
  yaml: z
    .string()
    .min(1)
    .max(1024 * 1024),
  target: target.default('edge'),
});
export const pushSchema = z.strictObject({
  gateways: z.array(gatewayIdSchema).min(1).max(10_000).optional(),
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/)
    .default('central-edge'),
});

/** A refused upload, disable or push: the message names the first few, `problems` lists all. */
const refused = (status: 400 | 409, problems: RuleProblem[]) =>
  apiError(
    status,
    'rule_refused',
    `rule refused: ${problems
      .slice(0, 5)
      .map((p) => `${p.rule ?? '(rule)'}${p.field ? ` ${p.field}` : ''}: ${p.why}`)
      .join('; ')}`,
    { extra: { problems } },
  );

export function rulesApi(deps: RulesApiDeps) {
  const api = new Hono();

  api.get('/rules', requirePermission('read'), async (c) => {
    const t = c.req.query('target');
    if (t !== undefined && !target.safeParse(t).success)
      throw apiError(400, 'invalid_query', 'target: expected edge or central', { field: 'target' });
    return c.json({
      rules: await deps.rules.list({ target: t as RuleTarget | undefined }),
    } satisfies Api.RulesResponse);
  });

  api.get('/rules/:id', requirePermission('read'), async (c) => {
    const rule = await deps.rules.get(c.req.param('id'));
    if (!rule) throw apiError(404, 'not_found', 'no such rule');
    return c.json(rule);
  });

  api.patch('/rules/:id', requirePermission('rules'), async (c) => {
    const { enabled } = await jsonBody(c.req, patchSchema);
    const result = await deps.rules.setEnabled(c.req.param('id'), enabled, c.get('apiUser'));
    if (!result) throw apiError(404, 'not_found', 'no such rule');
    if (!result.ok) throw refused(409, result.problems);
    return c.json(result.rule);
  });

  api.post('/rules', requirePermission('rules'), async (c) => {
    const type = c.req.header('content-type') ?? '';
    let text: string;
    let to: RuleTarget;
    if (/json/i.test(type)) {
      const body = await jsonBody(c.req, uploadSchema);
      text = body.yaml;
      to = body.target;
    } else {
      const t = target.safeParse(c.req.query('target') ?? 'edge');
      if (!t.success)
        throw apiError(400, 'invalid_query', 'target: expected edge or central', { field: 'target' });
      to = t.data;
      text = await c.req.text();
    }
    const result = await deps.rules.upload(text, to, c.get('apiUser'));
    if (!result.ok) throw refused(400, result.problems);
    return c.json({ rules: result.rules }, 201);
  });

  api.post('/rules/push', requirePermission('rules'), async (c) => {
    const body = await jsonBody(c.req, pushSchema);
    const known = await deps.registry.list();
    const active = new Set(known.filter((g) => g.status === 'active').map((g) => g.id));
    const missing = (body.gateways ?? []).filter((g) => !active.has(g));
    if (missing.length > 0)
      throw apiError(404, 'not_found', `no active gateway ${missing.slice(0, 10).join(', ')}`, {
        field: 'gateways',
      });
    const targets = body.gateways ?? [...active];
    const set = await deps.rules.edgeSet(body.id);
    if (!set.ok) throw refused(409, set.problems);
    await deps.rules.assign(targets, set.message, c.get('apiUser'));
    return c.json(
      {
        id: set.message.id,
        version: set.message.version,
        rules: set.rules,
        gateways: targets.map((id) => ({ id, sent: deps.push(id, set.message) })),
      },
      202,
    );
  });

  return api;
}
