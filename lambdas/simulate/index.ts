/** Simulation of journeys on a virtual clock: `waymark simulate` and the `simulate()` test helper (README.md here). */
export * from './engine';
export * from './report';
export * from './script';
export { withoutStackTraces } from '../local/stack-traces';
export * from './rule-estimate';
