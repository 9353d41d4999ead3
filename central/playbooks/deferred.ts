/**
 * Playbooks are built after the link they send commands over, yet the alerts (built before) and the
 * link itself call them: central's assembly (central/index.ts) hands those callers this stand-in and
 * sets the real service once it exists. Before that, alerts and events pass by and the link's calls
 * are ignored (an offer, only made after a gateway's welcome, finds the service built).
 */
import type { Event } from '../../protocols/event/schema.ts';
import type { Alert } from '../alerts/types.ts';
import type { LinkPlaybooks } from '../link/session-deps.ts';
import type { Playbooks } from './index.ts';

export function deferPlaybooks() {
  let playbooks: Playbooks | undefined;
  const link: LinkPlaybooks = {
    offer: (gateway, running) => playbooks!.link.offer(gateway, running),
    status: (gateway, message) => playbooks?.link.status(gateway, message),
    commandResult: (gateway, message) => playbooks?.link.commandResult(gateway, message),
    ready: (gateway) => playbooks?.link.ready(gateway),
  };
  return {
    set(built: Playbooks) {
      playbooks = built;
    },
    onAlert: (alert: Alert, actor: string) => void playbooks?.onAlert(alert, actor),
    onEvents: (events: readonly Event[]) => playbooks?.onEvents(events),
    link,
  };
}
