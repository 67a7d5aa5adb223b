export { saga, recoverSagas } from './saga.js';
export type { SagaStep, SagaOptions, CompensationArgs, CompensateFn, CompensationRetry, RecoverOptions, SagaRecovery } from './saga.js';
export { MemorySagaLog } from './saga-log.js';
export type { SagaLog, SagaEntry, SagaRecord, SagaOutcome, MemorySagaLogOptions } from './saga-log.js';
