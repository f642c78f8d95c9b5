import type { Logger } from 'pino';
import type { Notifier } from './cloud/ports.js';
import type { CompiledPolicy } from './policy/compile.js';
import type { PipelineDeps } from './pipeline/context.js';

export interface AwsOptions {
  readonly storePath: string;
  readonly logger: Logger;
  readonly notifiers: readonly Notifier[];
  readonly publicUrl: string;
}

/** Builds the pipeline's ports on real AWS (wired in with the AWS adapters). */
export async function buildAwsDeps(_policy: CompiledPolicy, _opts: AwsOptions): Promise<PipelineDeps> {
  throw new Error('cloud.kind: aws is not wired yet');
}
