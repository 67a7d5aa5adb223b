import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** Which shape an invocation's event has. */
export type EventKind = 'apigateway-v2' | 'apigateway-v1' | 'plain';

/** An HTTP event, whichever API Gateway payload carried it. */
interface HttpRequest {
  readonly kind: 'apigateway-v2' | 'apigateway-v1';
  readonly method: string;
  readonly path: string;
  /** Header names lower-cased; repeated headers joined with `,`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as text (decoded when API Gateway base64-encoded it), or undefined. */
  readonly body: string | undefined;
}

/** What {@link lambdaHandler} answers an HTTP event with: the payload v2 or v1 result. */
export type HttpResult = APIGatewayProxyStructuredResultV2 & APIGatewayProxyResult;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Whether `event` is an API Gateway HTTP API (payload v2), REST (v1) proxy event, or anything else. */
export function eventKind(event: unknown): EventKind {
  if (!isObject(event) || !isObject(event.requestContext)) return 'plain';
  if (event.version === '2.0' && isObject(event.requestContext.http)) return 'apigateway-v2';
  if (typeof event.httpMethod === 'string') return 'apigateway-v1';
  return 'plain';
}

function lowerCased(headers: Record<string, string | undefined> | null | undefined, multi?: Record<string, string[] | undefined> | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, values] of Object.entries(multi ?? {})) if (values !== undefined) out[name.toLowerCase()] = values.join(',');
  for (const [name, value] of Object.entries(headers ?? {})) if (value !== undefined && out[name.toLowerCase()] === undefined) out[name.toLowerCase()] = value;
  return out;
}

/** The method, path, headers and body of an API Gateway event of either payload version. */
export function httpRequest(event: APIGatewayProxyEventV2 | APIGatewayProxyEvent, kind: 'apigateway-v2' | 'apigateway-v1'): HttpRequest {
  const decode = (body: string | null | undefined, base64: boolean): string | undefined => (body === null || body === undefined ? undefined : base64 ? Buffer.from(body, 'base64').toString('utf8') : body);
  if (kind === 'apigateway-v2') {
    const e = event as APIGatewayProxyEventV2;
    return { kind, method: e.requestContext.http.method, path: e.rawPath, headers: lowerCased(e.headers), body: decode(e.body, e.isBase64Encoded) };
  }
  const e = event as APIGatewayProxyEvent;
  return { kind, method: e.httpMethod, path: e.path, headers: lowerCased(e.headers, e.multiValueHeaders), body: decode(e.body, e.isBase64Encoded) };
}
