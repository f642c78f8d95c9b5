import { transition } from './codepipeline-transition.js';

/** codepipeline.enableTransition: end a freeze (see codepipeline-transition.ts). */
export const codepipelineEnableTransition = transition(true);
