export { SimCloud } from './sim-cloud.js';
export { SimStateFile } from './sim-state.js';
export { loadScenario, parseScenario, type Scenario } from './scenario.js';
