import middy from '@middy/core';
import { ConflictError, NotFoundError, ValidationError } from '../../../lambdas/core/runtime/errors';
import { errorToProblem, parseJsonBody, problemMiddleware, type ApiEvent, type ApiResult } from '../../../lambdas/shared/http';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('parseJsonBody', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['empty', ''],
  ])('reads a %s body as undefined', (_name, body) => {
    expect(parseJsonBody({ body: body as string | null })).toBeUndefined();
  });

  it.each([
    ['{"type":"order.placed"}', { type: 'order.placed' }],
    ['[1,2]', [1, 2]],
    ['"text"', 'text'],
    ['null', null],
  ])('parses %s', (body, expected) => {
    expect(parseJsonBody({ body })).toEqual(expected);
  });

  it.each(['{', '{"a":1,}', 'not json', ' '])('rejects the malformed body %p with a ValidationError on (body)', (body) => {
    const error = thrown(() => parseJsonBody({ body }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors).toEqual([{ field: '(body)', message: expect.any(String) }]);
  });
});

describe('errorToProblem', () => {
  const body = (result: ApiResult | undefined) => JSON.parse(result!.body);

  it('maps a ValidationError to 400 problem+json listing the field errors', () => {
    const errors = [{ field: 'identities', message: 'at least one identity is required' }];
    const result = errorToProblem(new ValidationError('the event is not valid', errors));
    expect(result?.statusCode).toBe(400);
    expect(result?.headers).toEqual({ 'content-type': 'application/problem+json' });
    expect(body(result)).toEqual({ type: 'about:blank', title: 'Bad Request', status: 400, detail: 'the event is not valid', errors });
  });

  it.each([
    [new NotFoundError('journey "x" does not exist'), 404, 'Not Found'],
    [new ConflictError('journey "x" starts on event events'), 409, 'Conflict'],
  ])('maps %p to %i problem+json without errors', (error, status, title) => {
    const result = errorToProblem(error);
    expect(result?.statusCode).toBe(status);
    expect(result?.headers).toEqual({ 'content-type': 'application/problem+json' });
    expect(body(result)).toEqual({ type: 'about:blank', title, status, detail: error.message });
  });

  it.each([
    ['an Error', new Error('boom')],
    ['a TypeError', new TypeError('x is undefined')],
    ['a look-alike named ValidationError', Object.assign(new Error('fake'), { name: 'ValidationError', errors: [] })],
    ['a string', 'boom'],
    ['undefined', undefined],
  ])('leaves %s unmapped (ours: a 500 after logging)', (_name, error) => {
    expect(errorToProblem(error)).toBeUndefined();
  });
});

describe('problemMiddleware', () => {
  const request = () => ({ body: null, headers: {}, pathParameters: null, queryStringParameters: null, requestContext: { requestId: 'req-1' } }) as ApiEvent;

  it('answers a typed error with its problem, and anything else with a logged 500', async () => {
    const unexpected: unknown[] = [];
    const handlerThrowing = (error: unknown) => middy<ApiEvent, ApiResult>(async () => Promise.reject(error)).use(problemMiddleware((e) => unexpected.push(e)));
    expect((await handlerThrowing(new NotFoundError('gone'))(request(), {} as never)).statusCode).toBe(404);
    expect(unexpected).toEqual([]);
    const boom = new Error('table missing');
    const result = await handlerThrowing(boom)(request(), {} as never);
    expect(result.statusCode).toBe(500);
    expect(result.headers).toEqual({ 'content-type': 'application/problem+json' });
    expect(result.body).not.toContain('table missing');
    expect(unexpected).toEqual([boom]);
  });
});
