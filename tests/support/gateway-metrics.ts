/**
 * Reads a running gateway's queue depth the way a monitoring system would: from `/metrics`,
 * which stays open while the API needs a login (the sum of `siem_gateway_queue_events` over lanes).
 */
export async function queuedEvents(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^siem_gateway_queue_events(?:\{[^}]*\})? (\d+)/gm)) sum += Number(m[1]);
  return sum;
}
