import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { EntryPoint, Trigger } from '../entry-points';

type ApiTrigger = Extract<Trigger, { kind: 'api' }>;

/** `GET /segments/{id}` → `['GET', '/segments/{id}']`. */
export function splitRoute(route: ApiTrigger['route']): [string, string] {
  const space = route.indexOf(' ');
  return [route.slice(0, space), route.slice(space + 1)];
}

/** The request parameters the validator checks: every `{name}` of the path (required), then the declared query. */
function requestParametersOf(trigger: ApiTrigger): Record<string, boolean> | undefined {
  const [, path] = splitRoute(trigger.route);
  const parameters: Record<string, boolean> = {};
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) parameters[`method.request.path.${name}`] = true;
  for (const [name, presence] of Object.entries(trigger.query ?? {})) parameters[`method.request.querystring.${name}`] = presence === 'required';
  return Object.keys(parameters).length > 0 ? parameters : undefined;
}

export interface ApiRouteOptions {
  readonly requestValidator: apigw.IRequestValidator;
  /** The model of JSON object bodies (`body: true`). */
  readonly jsonObject: apigw.IModel;
}

/**
 * The method of a declared API entry point: IAM authorization unless `public`, the request validator, its path and
 * query parameters, and a JSON object body model when it takes a body. `allowTestInvoke: false`: one Lambda permission
 * per method (the stage's), not a second one for the console's test invocations, which halves the per-route cost.
 */
export function addApiRoute(api: apigw.RestApi, entry: EntryPoint, handler: lambda.IFunction, options: ApiRouteOptions): apigw.Method {
  if (entry.trigger.kind !== 'api') throw new Error(`expected an API entry point, received a ${entry.trigger.kind} trigger (${entry.handler})`);
  const trigger = entry.trigger;
  const [method, path] = splitRoute(trigger.route);
  const resource = path === '/' ? api.root : api.root.resourceForPath(path);
  return resource.addMethod(method, new apigw.LambdaIntegration(handler, { allowTestInvoke: false }), {
    requestValidator: options.requestValidator,
    ...(trigger.body ? { requestModels: { 'application/json': options.jsonObject } } : {}),
    ...(trigger.public ? { authorizationType: apigw.AuthorizationType.NONE } : {}),
    requestParameters: requestParametersOf(trigger),
  });
}
