export { systemClock, currentClock, useClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
