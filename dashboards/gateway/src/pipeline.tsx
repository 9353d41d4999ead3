/**
 * The pipeline panel of the link page: each stage's counts since the gateway started (in, handed
 * on, dropped with the reason, created), so an OT engineer can see why an event is not on central
 * — sampled, aggregated into a summary, deduplicated, filtered, or not forwarded on a thin link.
 */
import type { PipelineCounts } from './types.ts';

/** The status's pipeline counts (absent from a gateway older than the pipeline). */
export const pipelineOf = (status: object): PipelineCounts | undefined =>
  (status as { pipeline?: PipelineCounts }).pipeline;

const WHY: Record<string, string> = {
  sampled: 'kept 1 in N or one per interval',
  aggregated: 'folded into a summary event',
  sampled_or_aggregated: 'sampled or folded into an aggregate (the source’s telemetry rules)',
  deduplicated: 'identical events counted into one',
  filtered: 'dropped by a filter',
  not_forwarded: 'not forwarded (forward profile)',
};

export function PipelinePanel({ pipeline }: { pipeline: PipelineCounts | undefined }) {
  if (!pipeline) return null;
  return (
    <section class="card" aria-label="pipeline" data-testid="pipeline">
      <h2>
        Pipeline <span class="muted">forwarding {pipeline.forward}</span>
      </h2>
      <table>
        <thead>
          <tr>
            <th>Stage</th>
            <th>In</th>
            <th>Out</th>
            <th>Dropped</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {pipeline.stages.map((s) => (
            <tr key={s.name} data-testid={`stage-${s.name}`}>
              <td>
                <b>{s.name}</b>
                {s.name !== s.type && <span class="muted"> {s.type}</span>}
              </td>
              <td>{s.in.toLocaleString()}</td>
              <td>{s.out.toLocaleString()}</td>
              <td title={WHY[s.drop_reason] ?? s.drop_reason}>
                {s.dropped.toLocaleString()}
                {s.dropped > 0 && <span class="muted"> {s.drop_reason}</span>}
              </td>
              <td>{s.created.toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
