import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as iam from 'aws-cdk-lib/aws-iam';
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
  /** The role API Gateway assumes to invoke the functions (the caller adds lambda:InvokeFunction on each). */
  readonly invokeRole: iam.IRole;
}

/**
 * The method of a declared API entry point: IAM authorization unless `public`, the request validator, its path and
 * query parameters, and a JSON object body model when it takes a body. A Lambda proxy integration whose credentials are
 * the API's invoke role (Integration `Credentials`:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-apigateway-method-integration.html),
 * not a resource-based permission per method (CDK's `LambdaIntegration` adds one, two with test invocations): a route
 * then costs its method alone, besides its function.
 */
export function addApiRoute(api: apigw.RestApi, entry: EntryPoint, handler: lambda.IFunction, options: ApiRouteOptions): apigw.Method {
  if (entry.trigger.kind !== 'api') throw new Error(`expected an API entry point, received a ${entry.trigger.kind} trigger (${entry.handler})`);
  const trigger = entry.trigger;
  const [method, path] = splitRoute(trigger.route);
  const resource = path === '/' ? api.root : api.root.resourceForPath(path);
  const integration = new apigw.AwsIntegration({
    proxy: true,
    service: 'lambda',
    path: `2015-03-31/functions/${handler.functionArn}/invocations`,
    options: { credentialsRole: options.invokeRole },
  });
  return resource.addMethod(method, integration, {
    requestValidator: options.requestValidator,
    ...(trigger.body ? { requestModels: { 'application/json': options.jsonObject } } : {}),
    ...(trigger.public ? { authorizationType: apigw.AuthorizationType.NONE } : {}),
    requestParameters: requestParametersOf(trigger),
  });
}
