/**
 * Rules (central/api/rules.ts): the Sigma rules central manages with their level, ATT&CK
 * techniques, tags and target (edge rules are pushed to gateways, central rules run on central);
 * enable/disable one (a 409 names the correlation that still needs it); upload Sigma YAML, refused
 * whole with one row per problem (`{rule, field, why, code}`); push the enabled edge rules as one
 * set to every active gateway or to the chosen ones. What each gateway was assigned and what it
 * reports running are on the Gateways page. Changing needs the `rules` permission on the server.
 */
import { useState } from 'preact/hooks';
import { api, ApiError } from '../../../shared/api.ts';
import { dateTime } from '../../../shared/format.ts';
import { useSession } from '../../../shared/session.tsx';
import { ErrorBanner, Pill, useApi } from '../../../shared/ui.tsx';
import type { GatewayRules, RuleProblem, RuleSummary } from '../types.ts';

interface PushResult {
  id: string;
  version: string;
  rules: number;
  gateways: Array<{ id: string; sent: boolean }>;
}

/** The server's refusal as rows (400 upload, 409 disable/push); none for other errors. */
function problemsOf(e: unknown): RuleProblem[] {
  if (!(e instanceof ApiError) || !Array.isArray(e.body.problems)) return [];
  return e.body.problems as RuleProblem[];
}

export function ProblemsTable({ problems }: { problems: RuleProblem[] }) {
  if (problems.length === 0) return null;
  return (
    <div class="card table-wrap" data-testid="rule-problems">
      <h2>Refused: {problems.length === 1 ? 'one problem' : `${problems.length} problems`}</h2>
      <table>
        <thead>
          <tr>
            <th>Rule</th>
            <th>Field</th>
            <th>Why</th>
            <th>Code</th>
          </tr>
        </thead>
        <tbody>
          {problems.map((p, i) => (
            <tr key={i} class="problem">
              <td class="mono">{p.rule ?? '—'}</td>
              <td class="mono">{p.field ?? '—'}</td>
              <td>{p.why}</td>
              <td class="mono muted">{p.code}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function RulesPage() {
  const { can } = useSession();
  const [targetFilter, setTargetFilter] = useState('');
  const rules = useApi<{ rules: RuleSummary[] }>(
    targetFilter ? `/api/rules?target=${targetFilter}` : '/api/rules',
  );
  const fleet = useApi<{ gateways: GatewayRules[] }>('/api/gateways');
  const [yaml, setYaml] = useState('');
  const [uploadTarget, setUploadTarget] = useState<'edge' | 'central'>('edge');
  const [error, setError] = useState<Error | undefined>(undefined);
  const [notice, setNotice] = useState('');
  const [filter, setFilter] = useState('');
  const [chosen, setChosen] = useState<string[]>([]);
  const [pushed, setPushed] = useState<PushResult | null>(null);
  const allowed = can('rules');

  const run = async (fn: () => Promise<string>) => {
    setError(undefined);
    setNotice('');
    try {
      setNotice(await fn());
      rules.reload();
      fleet.reload();
    } catch (e) {
      setError(e as Error);
    }
  };
  const toggle = (r: RuleSummary) =>
    run(async () => {
      await api(`/api/rules/${encodeURIComponent(r.id)}`, { method: 'PATCH', body: { enabled: !r.enabled } });
      return `${r.id} ${r.enabled ? 'disabled' : 'enabled'}`;
    });
  const upload = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const out = await api<{ rules: RuleSummary[] }>('/api/rules', {
        method: 'POST',
        body: { yaml, target: uploadTarget },
      });
      setYaml('');
      return `uploaded: ${out.rules.map((r) => r.id).join(', ')}`;
    });
  };
  const push = (gateways?: string[]) =>
    run(async () => {
      const out = await api<PushResult>('/api/rules/push', {
        method: 'POST',
        body: gateways ? { gateways } : {},
      });
      setPushed(out);
      return `rule set ${out.version} (${out.rules} rules) pushed to ${out.gateways.length} gateway(s)`;
    });

  const needle = filter.toLowerCase();
  const list = (rules.data?.rules ?? []).filter(
    (r) =>
      !needle ||
      `${r.id} ${r.title} ${r.tags.join(' ')} ${r.techniques.join(' ')}`.toLowerCase().includes(needle),
  );
  const problems = problemsOf(error);
  const active = (fleet.data?.gateways ?? []).filter((g) => g.status === 'active');

  return (
    <section>
      <h1>Rules</h1>
      <ErrorBanner error={rules.error ?? error} />
      <ProblemsTable problems={problems} />
      {notice && (
        <p class="notice" data-testid="rules-notice">
          {notice}
        </p>
      )}
      <div class="card table-wrap">
        <div class="filters">
          <label>
            Find
            <input
              name="find"
              type="search"
              value={filter}
              onInput={(e) => setFilter(e.currentTarget.value)}
            />
          </label>
          <label>
            Target
            <select
              name="target-filter"
              value={targetFilter}
              onChange={(e) => setTargetFilter(e.currentTarget.value)}
            >
              <option value="">edge and central</option>
              <option value="edge">edge (pushed to gateways)</option>
              <option value="central">central</option>
            </select>
          </label>
        </div>
        <table class="rules">
          <thead>
            <tr>
              <th>Rule</th>
              <th>Level</th>
              <th>ATT&amp;CK / tags</th>
              <th>Target</th>
              <th>Source</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <tr key={`${r.target}:${r.id}`} data-rule={r.id} data-enabled={r.enabled}>
                <td>
                  <strong>{r.title}</strong>
                  <div class="muted mono">
                    {r.id} · {r.kind}
                  </div>
                </td>
                <td>{r.level ?? '—'}</td>
                <td>
                  {r.techniques.map((t) => (
                    <span class="tag technique" key={t}>
                      {t}
                    </span>
                  ))}
                  {r.tags
                    .filter((t) => !r.techniques.some((x) => t.toLowerCase().endsWith(x.toLowerCase())))
                    .map((t) => (
                      <span class="tag muted" key={t}>
                        {t}
                      </span>
                    ))}
                </td>
                <td>{r.target}</td>
                <td>
                  <span class="mono">{r.source}</span>
                  <div class="muted">
                    {dateTime(r.updated_at)}
                    {r.updated_by ? ` by ${r.updated_by}` : ''}
                  </div>
                </td>
                <td>{r.enabled ? <Pill tone="ok">enabled</Pill> : <Pill tone="muted">disabled</Pill>}</td>
                <td>
                  <button disabled={!allowed} onClick={() => void toggle(r)}>
                    {r.enabled ? 'Disable' : 'Enable'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {rules.data && list.length === 0 && <p class="muted">No rule matches.</p>}
      </div>
      <div class="card">
        <h2>Push the edge rule set to gateways</h2>
        <p class="muted">
          The enabled edge rules go as one versioned set: at once to connected gateways, on reconnect to the
          others. Running versions are on the Gateways page.
        </p>
        <div class="filters" data-testid="push-gateways">
          {active.map((g) => (
            <label key={g.id} class="check">
              <input
                type="checkbox"
                name="push-gateway"
                value={g.id}
                checked={chosen.includes(g.id)}
                onChange={(e) =>
                  setChosen(e.currentTarget.checked ? [...chosen, g.id] : chosen.filter((x) => x !== g.id))
                }
              />{' '}
              {g.id} {g.connected ? '' : '(offline)'}
            </label>
          ))}
        </div>
        <div class="actions">
          <button class="primary" disabled={!allowed} onClick={() => void push()}>
            Push to all gateways
          </button>
          <button disabled={!allowed || chosen.length === 0} onClick={() => void push(chosen)}>
            Push to {chosen.length} chosen
          </button>
        </div>
        {pushed && (
          <ul data-testid="push-result">
            {pushed.gateways.map((g) => (
              <li key={g.id}>
                {g.id}: {g.sent ? 'sent' : 'offline, gets it on reconnect'} (version{' '}
                <span class="mono">{pushed.version}</span>)
              </li>
            ))}
          </ul>
        )}
      </div>
      <div class="card">
        <h2>Upload Sigma rules</h2>
        <form onSubmit={upload}>
          <label>
            Sigma YAML (one or more documents; refused whole if any is wrong)
            <textarea
              name="yaml"
              class="mono"
              rows={12}
              value={yaml}
              placeholder={'title: …\nid: …\nlogsource:\n  product: modbus\ndetection:\n  …'}
              onInput={(e) => setYaml(e.currentTarget.value)}
            />
          </label>
          <div class="actions" style={{ marginTop: '0.5rem' }}>
            <input
              type="file"
              accept=".yml,.yaml"
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                if (file) void file.text().then(setYaml);
              }}
            />
            <label>
              Target{' '}
              <select
                name="upload-target"
                value={uploadTarget}
                onChange={(e) => setUploadTarget(e.currentTarget.value as 'edge' | 'central')}
              >
                <option value="edge">edge</option>
                <option value="central">central</option>
              </select>
            </label>
            <button type="submit" class="primary" disabled={!allowed || !yaml.trim()}>
              Upload
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}
