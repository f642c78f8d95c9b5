import { transition } from './codepipeline-transition.js';

/** codepipeline.disableTransition: freeze a stage (see codepipeline-transition.ts). */
export const codepipelineDisableTransition = transition(false);
