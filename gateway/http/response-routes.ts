/**
 * The gateway's response controls on its local API (issue 21 ask 4): what the playbooks central
 * pushed are, and what they block here now (`read`); and an admin's local undo of one block,
 * for the plant whose WAN link is down when a block must be lifted (`admin`). The undo is queued
 * as a `gateway.playbook_action` audit event (trigger `gateway_api`, the user as actor), so that
 * central marks the action undone when the link is back.
 */
import type { Hono } from 'hono';
import { apiError } from '../../server-shared/http-errors.ts';
import { requirePermission } from '../../server-shared/web-auth/permissions.ts';
import type { ResponseControls } from '../playbooks/controls.ts';
import type { GatewayPlaybooks } from '../playbooks/index.ts';

export interface ResponseRouteDeps {
  playbooks: GatewayPlaybooks;
  controls: ResponseControls;
}

export function registerResponseRoutes(app: Hono, deps: ResponseRouteDeps): void {
  app.get('/api/response', requirePermission('read'), (c) => {
    const running = deps.playbooks.running();
    return c.json({
      playbooks_version: running?.version ?? null,
      playbooks: running?.playbooks ?? [],
      entries: deps.controls.list(),
    });
  });

  app.delete('/api/response/:id', requirePermission('admin'), (c) => {
    const actor = c.get('auth')?.actor ?? '-';
    const entry = deps.playbooks.localUndo(c.req.param('id'), actor);
    if (!entry) throw apiError(404, 'not_found', 'no such response entry (expired or undone already)');
    return c.json(entry);
  });
}
