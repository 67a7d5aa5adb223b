// The floor: a Lambda handler module with no dependencies.
export const handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ok: true, event: typeof event }) });
