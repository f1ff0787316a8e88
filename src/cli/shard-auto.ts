// `--shard auto`: the slice comes from the engine that started this copy of klingrun, so one Job
// or workflow definition serves every machine. Kubernetes sets JOB_COMPLETION_INDEX (0-based) in
// each pod of an Indexed Job but does not tell the pod how many completions there are; a GitHub
// Actions matrix job knows `strategy.job-index` (0-based) and `strategy.job-total` only as
// expressions, which the workflow passes on as environment variables.
import { UsageError } from '../errors.js';
import { type Shard, parseShard } from '../runner/select.js';

export const SHARD_INDEX_ENV = 'KLINGRUN_SHARD_INDEX';
export const SHARD_COUNT_ENV = 'KLINGRUN_SHARD_COUNT';
export const K8S_INDEX_ENV = 'JOB_COMPLETION_INDEX';

export interface ResolvedShard {
  readonly shard: Shard;
  /** Where an automatic slice came from, for the run to say; absent for an explicit `i/n`. */
  readonly source?: string;
}

const HOW =
  `\`--shard auto\` reads the slice from the environment: in a Kubernetes Indexed Job, ${K8S_INDEX_ENV} (set by Kubernetes) and ${SHARD_COUNT_ENV} (set it to the Job's completions); ` +
  `in a GitHub Actions matrix, ${SHARD_INDEX_ENV}: \${{ strategy.job-index }} and ${SHARD_COUNT_ENV}: \${{ strategy.job-total }}; elsewhere give --shard i/n.`;

function zeroBased(name: string, value: string, count: number): number {
  const index = Number(value);
  if (!/^\d+$/.test(value.trim()) || index >= count) {
    throw new UsageError(`\`--shard auto\`: ${name} is \`${value}\`, expected a whole number from 0 to ${count - 1} (${SHARD_COUNT_ENV} is ${count}). ${HOW}`);
  }
  return index;
}

/** `--shard` as given: `i/n`, or `auto` resolved from `env`. */
export function resolveShard(text: string, env: Readonly<Record<string, string | undefined>>): ResolvedShard {
  if (text.trim() !== 'auto') return { shard: parseShard(text) };
  const k8s = env[K8S_INDEX_ENV];
  const indexName = k8s !== undefined && k8s !== '' ? K8S_INDEX_ENV : SHARD_INDEX_ENV;
  const indexText = env[indexName];
  const countText = env[SHARD_COUNT_ENV];
  if (!indexText) throw new UsageError(`\`--shard auto\` found neither ${K8S_INDEX_ENV} nor ${SHARD_INDEX_ENV}. ${HOW}`);
  const count = Number(countText);
  if (!countText || !/^\d+$/.test(countText.trim()) || count < 1) {
    throw new UsageError(`\`--shard auto\`: ${indexName} is set but ${SHARD_COUNT_ENV} is \`${countText ?? ''}\`, expected the number of slices (1 or more). ${HOW}`);
  }
  const index = zeroBased(indexName, indexText, count);
  const engine = indexName === K8S_INDEX_ENV ? 'a Kubernetes Indexed Job' : env.GITHUB_ACTIONS === 'true' ? 'a GitHub Actions matrix' : 'the environment';
  return { shard: { index: index + 1, count }, source: `${engine} (${indexName}=${index}, ${SHARD_COUNT_ENV}=${count})` };
}
