/** What the pipeline counts; the daemon backs it with Prometheus (/metrics), tests with nothing. */
export interface PipelineMetrics {
  /** One item (or a whole stage) failed in `stage`. */
  stageFailed(stage: string): void;
  /** A cycle ended: `ok`, `error` (a stage failed) or `overrun` (it passed its deadline). */
  cycleEnded(outcome: 'ok' | 'error' | 'overrun', seconds: number): void;
}

export const noMetrics: PipelineMetrics = {
  stageFailed: () => undefined,
  cycleEnded: () => undefined,
};
