// A handler built with @weft/lambda and @weft/core: a step with retry and timeout, as a user writes one.
import { step } from '@weft/core';
import { lambdaHandler } from '@weft/lambda';

export const handler = lambdaHandler(step('answer', (input) => ({ ok: true, input })).retry({ retries: 2 }).timeout(1_000), { metrics: false });
