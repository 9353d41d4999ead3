/**
 * Regenerates mitre/ics_attack_techniques.tsv (a derived file of tests/data/MANIFEST.tsv) from
 * MITRE's ATT&CK for ICS STIX bundle (mitre/cti, ics-attack/ics-attack.json): the
 * attack-patterns neither revoked nor deprecated, one row each, sorted by technique id, tactics
 * = the kill-chain phase names joined by ','. The fetcher checks the result's sha256.
 */

interface StixObject {
  type?: string;
  id?: string;
  name?: string;
  revoked?: boolean;
  x_mitre_deprecated?: boolean;
  external_references?: Array<{ source_name?: string; external_id?: string }>;
  kill_chain_phases?: Array<{ phase_name?: string }>;
}

export function deriveIcsAttackTechniques(bundle: unknown): string {
  const objects = ((bundle as { objects?: StixObject[] }).objects ?? []).filter(
    (o) => o.type === 'attack-pattern' && !o.revoked && !o.x_mitre_deprecated,
  );
  const rows = objects.map((o) => {
    const id = o.external_references?.find((r) => r.source_name === 'mitre-attack')?.external_id ?? '';
    const tactics = (o.kill_chain_phases ?? []).map((k) => k.phase_name).join(',');
    return [id, o.name ?? '', tactics, o.id ?? ''];
  });
  rows.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
  return ['technique_id\tname\ttactics\tstix_id', ...rows.map((r) => r.join('\t'))].join('\n') + '\n';
}
