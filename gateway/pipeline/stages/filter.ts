/**
 * `filter`: keeps or drops events by a field match or a Sigma detection (match.ts). `drop` drops
 * what matches; `keep` drops what does not. Every drop is counted under the stage's name.
 */
import { type Predicate } from '../match.ts';
import type { Stage } from '../stage.ts';

export function createFilterStage(options: {
  name: string;
  action: 'keep' | 'drop';
  matches: Predicate;
}): Stage {
  const keep = options.action === 'keep';
  return {
    name: options.name,
    type: 'filter',
    dropReason: 'filtered',
    process(event) {
      return options.matches(event) === keep ? event : null;
    },
  };
}
