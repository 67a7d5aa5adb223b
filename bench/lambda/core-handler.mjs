// A handler that runs a @weft/core step directly, without the adapter.
import { step } from '@weft/core';

const answer = step('answer', (input) => ({ ok: true, input })).retry({ retries: 2 }).timeout(1_000);
export const handler = async (event) => ({ statusCode: 200, body: JSON.stringify(await answer.run(event)) });
