// JSON Schema validators for the provider's OpenAPI document (schemas/provider/), compiled by
// ajv's draft 2020-12 build, which is the dialect OpenAPI 3.1 schemas are written in.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';

const DOCUMENT_URL = new URL('../../schemas/provider/post-image-to-video.openapi.json', import.meta.url);

export const openapi = JSON.parse(readFileSync(DOCUMENT_URL, 'utf8')) as {
  openapi: string;
  paths: Record<string, { post: OpenApiOperation }>;
};

interface OpenApiOperation {
  operationId: string;
  requestBody: { content: { 'application/json': { schema: object; examples: Record<string, { value: unknown }> } } };
  responses: Record<string, { content: { 'application/json': { schema: object } } }>;
}

const operation = openapi.paths['/kling/v1/videos/image2video']?.post;
if (!operation) throw new Error('the OpenAPI document has no POST /kling/v1/videos/image2video');
export const createOperation: OpenApiOperation = operation;

// `example` is an OpenAPI annotation, not JSON Schema; declared so strict mode accepts it.
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addVocabulary(['example']);

export const validateRequestBody = ajv.compile(createOperation.requestBody.content['application/json'].schema);
const okResponse = createOperation.responses['200'];
if (!okResponse) throw new Error('the OpenAPI document has no 200 response for the create call');
export const validateCreateResponse = ajv.compile(okResponse.content['application/json'].schema);

/** ajv's errors as one readable line, for assertion messages. */
export const errorsOf = (validate: { errors?: ErrorObject[] | null }): string => ajv.errorsText(validate.errors);
