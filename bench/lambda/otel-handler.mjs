// A bare handler that loads only @opentelemetry/api (what any traced handler pays).
import { trace } from '@opentelemetry/api';

export const handler = async () => ({ statusCode: 200, body: String(typeof trace.getTracer) });
