/**
 * The Z.AI simulator: a loopback double for tests, demos and benchmarks. Both API shapes,
 * streaming with Z.AI's usage quirks, a true rate ceiling and concurrency limit, quota
 * windows and scriptable faults, steerable in-process or over `/_sim/*` while traffic flows.
 */
export { startSimulator, type Simulator, type SimulatorOptions } from './server.js';
export { SCENARIO_DEFAULTS, ScenarioError, type SimFault, type SimScenario } from './scenario.js';
export { SimTimeoutError, type SimStats } from './stats.js';
export { errorBody, formatBeijingTime, quotaExhaustedMessage, statusForCode } from './errors.js';
export { REASONING_TEXT, contentDeltas, simContent, THINKING_SIGNATURE } from './responses.js';
export { MODEL_NAMES, knownModel, promptTokensFor, type ScriptedCall } from './agent.js';
