export { step } from './step.js';
export type { StepFn, StepDefinition, Schema } from './step.js';
export { Primitive, definePrimitive } from '../primitive.js';
export type { RunOptions, RunResult } from '../primitive.js';
