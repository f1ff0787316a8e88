// The provider's OpenAPI document, kept in schemas/provider/, checked against our zod contract and
// used (through ajv, draft 2020-12) to validate the request bodies the client really sends.
// The emulator's create answers are validated against it in api-contract.test.ts.
import { describe, expect, it } from 'vitest';
import { createClient } from '../src/api/client.js';
import { API_DEFAULTS, type CreateTaskBody, SOUNDS } from '../src/api/schemas.js';
import { loadModelTable } from '../src/data/tables.js';
import { envelope, taskJson } from './helpers/api-fixtures.js';
import { createOperation, errorsOf, openapi, validateCreateResponse, validateRequestBody } from './helpers/openapi.js';

interface PropertySchema {
  enum?: string[];
  default?: unknown;
}
const properties = (createOperation.requestBody.content['application/json'].schema as { properties: Record<string, PropertySchema> }).properties;

describe('the OpenAPI document', () => {
  it('is the seed\'s create call', () => {
    expect(openapi.openapi).toBe('3.1.0');
    expect(createOperation.operationId).toBe('image_to_video');
  });

  it('agrees with the shipped model table and the zod contract on values and defaults', () => {
    // Models and modes are data: the shipped table follows CometAPI's page, model for model.
    const { models } = loadModelTable();
    expect(Object.keys(models).sort()).toEqual([...(properties.model_name?.enum ?? [])].sort());
    expect([...new Set(Object.values(models).flatMap((caps) => caps.modes))].sort()).toEqual([...(properties.mode?.enum ?? [])].sort());
    expect(properties.sound?.enum).toEqual([...SOUNDS]);
    expect({ model_name: properties.model_name?.default, mode: properties.mode?.default, duration: properties.duration?.default }).toEqual(API_DEFAULTS);
  });

  it('validates for real: its own example passes, its own example answer passes, broken bodies fail', () => {
    const example = createOperation.requestBody.content['application/json'].examples.Default?.value;
    expect(example).toMatchObject({ model_name: 'kling-v3' });
    expect(validateRequestBody(example), errorsOf(validateRequestBody)).toBe(true);
    expect(validateCreateResponse(envelope(taskJson())), errorsOf(validateCreateResponse)).toBe(true);

    expect(validateRequestBody({ prompt: 'no image' })).toBe(false);
    expect(errorsOf(validateRequestBody)).toContain("must have required property 'image'");
    expect(validateRequestBody({ image: 'x', mode: 'ultra' })).toBe(false);
    expect(validateRequestBody({ image: 'x', dynamic_masks: [{ mask: 'm', trajectories: [{ x: 1, y: 'up' }] }] })).toBe(false);
    expect(validateCreateResponse({ code: 0, message: 'ok', data: { task_id: 1, task_status: 'submitted', created_at: 1, updated_at: 1 } })).toBe(false);
  });
});

describe("the client's request bodies", () => {
  const bodies: Record<string, CreateTaskBody> = {
    minimal: { image: 'https://img.example/a.jpg' },
    typical: { image: 'https://img.example/a.jpg', prompt: 'slow push-in', model_name: 'kling-v3', mode: 'pro', duration: '10', sound: 'off', external_task_id: 'kr-0123456789abcdef-1' },
    'base64 with a tail frame': { image: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB', image_tail: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAAC', model_name: 'kling-v1-6', mode: 'pro', cfg_scale: 0.5, negative_prompt: 'blur' },
    'motion brush': {
      image: 'https://img.example/a.jpg',
      model_name: 'kling-v1',
      static_mask: 'https://img.example/static.png',
      dynamic_masks: [{ mask: 'https://img.example/m.png', trajectories: [{ x: 0, y: 0 }, { x: 10, y: 20 }] }],
      callback_url: 'https://hooks.example/kling',
    },
  };

  it.each(Object.entries(bodies))('%s: what goes on the wire is valid against the requestBody schema', async (_name, body) => {
    const sent: unknown[] = [];
    const capture: typeof fetch = async (_input, init) => {
      sent.push(JSON.parse(String(init?.body)));
      return new Response(JSON.stringify(envelope(taskJson())), { status: 200 });
    };
    await createClient({ apiKey: 'sk-openapi-test', fetch: capture }).createTask(body);
    expect(sent).toEqual([body]);
    expect(validateRequestBody(sent[0]), errorsOf(validateRequestBody)).toBe(true);
  });
});
