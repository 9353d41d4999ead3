/**
 * Enrollment: the gateway generates an Ed25519 key pair, sends the public key with a one-time
 * token to central's `/enroll`, and keeps the private key in a credentials file readable by its
 * own user only (0600). From then on every link connection proves possession of that key; the
 * token is spent and nothing reusable is ever sent again.
 */
import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import { gatewayIdSchema } from '../protocols/event/schema.ts';
import { generateGatewayKeys } from '../protocols/link/auth.ts';

export interface GatewayCredentials {
  gateway_id: string;
  private_key: string;
  public_key: string;
  central: string;
  enrolled_at: string;
}

const credentialsSchema = z.strictObject({
  gateway_id: gatewayIdSchema,
  private_key: z.string().min(1),
  public_key: z.string().min(1),
  central: z.string(),
  enrolled_at: z.string(),
});

export async function enrollGateway(options: {
  /** Central's base URL, http(s)://host:port. */
  central: string;
  token: string;
  gatewayId: string;
  credentialsFile: string;
  /** PEM CA that central's certificate must chain to (pinning); default: system CAs. */
  ca?: string;
  /** Client certificate and key (PEM), when central requires them. */
  cert?: string;
  key?: string;
}): Promise<GatewayCredentials> {
  const keys = generateGatewayKeys();
  const url = new URL('/enroll', options.central);
  let response: { status: number; body: string };
  try {
    response = await postJson(
      url,
      { token: options.token, gateway_id: options.gatewayId, public_key: keys.publicKey },
      { ca: options.ca, cert: options.cert, key: options.key },
    );
  } catch (error) {
    throw new Error(`cannot reach central at ${url.origin}: ${(error as Error).message}`);
  }
  if (response.status !== 201) {
    let detail = response.body.slice(0, 200);
    try {
      detail = (JSON.parse(response.body) as { error?: string }).error ?? detail;
    } catch {
      // Not JSON: show the start of the body as it is.
    }
    throw new Error(`central refused the enrollment (HTTP ${response.status}): ${detail}`);
  }
  const credentials: GatewayCredentials = {
    gateway_id: options.gatewayId,
    private_key: keys.privateKey,
    public_key: keys.publicKey,
    central: url.origin,
    enrolled_at: new Date().toISOString(),
  };
  // Write-then-rename with 0600 from the start: the key is never readable by others, not even briefly.
  const temp = `${options.credentialsFile}.tmp-${process.pid}`;
  writeFileSync(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, options.credentialsFile);
  return credentials;
}

export function readCredentials(
  file: string,
  gatewayId: string,
): { ok: true; credentials: GatewayCredentials } | { ok: false; error: string } {
  let text: string;
  try {
    if (statSync(file).mode & 0o077) {
      return { ok: false, error: `${file}: credentials are readable by others; chmod 600 it` };
    }
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      error:
        code === 'ENOENT'
          ? `${file}: not enrolled yet; run "siem-gateway enroll --central URL --token TOKEN --config FILE"`
          : `${file}: cannot read credentials (${code})`,
    };
  }
  let parsed: ReturnType<typeof credentialsSchema.safeParse>;
  try {
    parsed = credentialsSchema.safeParse(JSON.parse(text));
  } catch {
    return { ok: false, error: `${file}: credentials file is not JSON` };
  }
  if (!parsed.success) return { ok: false, error: `${file}: credentials file is malformed` };
  if (parsed.data.gateway_id !== gatewayId) {
    return {
      ok: false,
      error: `${file}: enrolled as "${parsed.data.gateway_id}", but gateway.id is "${gatewayId}"; enroll again`,
    };
  }
  return { ok: true, credentials: parsed.data };
}

/** One JSON POST over http or https; with `ca`, central's certificate must chain to it (pinning). */
function postJson(
  url: URL,
  payload: unknown,
  tls: { ca?: string; cert?: string; key?: string },
): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(payload);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 15_000,
        ...(tls.ca && { ca: tls.ca }),
        ...(tls.cert && { cert: tls.cert }),
        ...(tls.key && { key: tls.key }),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < 65_536) text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
