export { saga, recoverSagas, superviseSagas } from './saga.js';
export type { SagaStep, SagaOptions, SagaPersist, CompensationArgs, CompensateFn, CompensationRetry, RecoverOptions, SuperviseOptions, SagaSupervisor, SagaRecovery } from './saga.js';
export { MemorySagaLog } from './saga-log.js';
export type { SagaLog, SagaLease, SagaEntry, SagaStartedEntry, SagaRecord, SagaOutcome, MemorySagaLogOptions } from './saga-log.js';
