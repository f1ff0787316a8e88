import { describe, expect, it } from 'vitest';
import { ProviderError } from '../src/api/errors.js';
import { EXCERPT_MAX, type ParseContext, excerptOf, parseResponse } from '../src/api/parse.js';
import type { Task } from '../src/api/schemas.js';
import { envelope, gatewayError, legacyEnvelope, raw, succeededTaskJson, taskJson } from './helpers/api-fixtures.js';

const KEY = 'sk-parse-test-key-0123456789';
const context: ParseContext = { label: 'POST /kling/v1/videos/image2video', secret: KEY, now: Date.parse('2026-01-01T00:00:00Z') };

function parseError(...args: Parameters<typeof raw>): ProviderError {
  const result = parseResponse(raw(...args), 'task', context);
  if (!(result instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${JSON.stringify(result)}`);
  return result;
}

describe('successful answers', () => {
  it('reads a task from the Kling envelope', () => {
    const task = parseResponse(raw(200, envelope(succeededTaskJson())), 'task', context);
    expect(task).toMatchObject({ task_id: '2032273942220931072', task_status: 'succeed' });
    expect(task).toHaveProperty('task_result.videos.0', { id: 'v1', url: 'https://cdn.example/v1.mp4', duration: '5.1' });
  });

  it('reads a task from the older CometAPI wrapper (task under data.data)', () => {
    const task = parseResponse(raw(200, legacyEnvelope(taskJson({ task_status: 'processing' }))), 'task', context);
    expect(task).toMatchObject({ task_id: '2032273942220931072', task_status: 'processing' });
  });

  it('reads a task list in either shape', () => {
    const tasks = [taskJson({ task_id: 'a' }), taskJson({ task_id: 'b' })];
    for (const body of [envelope(tasks), legacyEnvelope(tasks)]) {
      const list = parseResponse(raw(200, body), 'list', context);
      expect(Array.isArray(list) && list.map((t) => t.task_id)).toEqual(['a', 'b']);
    }
  });

  it('rejects a task where a list is expected, and the other way round', () => {
    expect(parseResponse(raw(200, envelope(taskJson())), 'list', context)).toMatchObject({ code: 'bad_response' });
    expect(parseResponse(raw(200, envelope([taskJson()])), 'task', context)).toMatchObject({ code: 'bad_response' });
  });
});

describe('classification of provider refusals', () => {
  it.each([
    [401, 1001, 'fatal-run', 'run', 'rejected'],
    [429, 1102, 'fatal-run', 'run', 'rejected'],
    [403, 1103, 'fatal-job', 'model', 'rejected'],
    [400, 1201, 'fatal-job', 'job', 'rejected'],
    [400, 1301, 'fatal-job', 'job', 'rejected'],
    [429, 1302, 'retryable-rate', 'job', 'rejected'],
    [429, 1303, 'retryable-concurrency', 'job', 'rejected'],
    [429, 1304, 'fatal-run', 'run', 'rejected'],
    [403, 1304, 'fatal-run', 'run', 'rejected'],
    [500, 5000, 'retryable-server', 'job', 'unknown'],
    [503, 5001, 'retryable-server', 'job', 'unknown'],
    [504, 5002, 'retryable-server', 'job', 'unknown'],
  ] as const)('HTTP %i with code %i is %s, scope %s, outcome %s', (status, code, errorClass, scope, outcome) => {
    const error = parseError(status, envelope(null, code, `refused ${code}`));
    expect(error).toMatchObject({ code, errorClass, scope, outcome, httpStatus: status, requestId: 'req-1', retryable: errorClass.startsWith('retryable') });
    expect(error.message).toBe(`refused ${code} (POST /kling/v1/videos/image2video, request_id req-1)`);
  });

  it('says what fixes a refusal that stops the run or a model', () => {
    expect(parseError(429, envelope(null, 1304, 'IP not in whitelist')).fix).toMatch(/public IP address to the account's IP whitelist/);
    expect(parseError(403, envelope(null, 1103, 'no permission')).fix).toMatch(/access to this model/);
    expect(parseError(400, envelope(null, 1201, 'bad field')).fix).toBeUndefined();
  });

  it('treats code != 0 on HTTP 200 as an error, by the body code', () => {
    expect(parseError(200, envelope(taskJson(), 1303, 'parallel task over resource pack limit'))).toMatchObject({
      code: 1303,
      errorClass: 'retryable-concurrency',
      httpStatus: 200,
    });
  });

  it('classifies by the body code before the HTTP status (429 carries fatal codes too)', () => {
    expect(parseError(429, envelope(null, 1101, 'arrears'))).toMatchObject({ errorClass: 'fatal-run', retryable: false });
  });

  it('names the code when the provider gave no message', () => {
    expect(parseError(400, { code: 1200 }).message).toMatch(/^the provider answered code 1200 without a message/);
  });

  it('does not trust code 0 on an HTTP error status', () => {
    expect(parseError(502, envelope(taskJson()))).toMatchObject({ code: 'http', errorClass: 'retryable-server', outcome: 'unknown' });
  });
});

describe('CometAPI gateway errors', () => {
  it('classifies a string code by HTTP status, as a clear refusal', () => {
    const error = parseError(401, gatewayError('Invalid token', 'invalid_api_key'));
    expect(error).toMatchObject({ code: 'http', errorClass: 'fatal-run', outcome: 'rejected', httpStatus: 401 });
    expect(error.message).toBe('CometAPI gateway (comet_api_error): Invalid token (POST /kling/v1/videos/image2video)');
  });

  it('uses a numeric code in Kling ranges as the body code', () => {
    expect(parseError(429, gatewayError('slow down', '1302'))).toMatchObject({ code: 1302, errorClass: 'retryable-rate' });
  });

  it('leaves the outcome unknown for a gateway 5xx', () => {
    expect(parseError(524, gatewayError('origin timeout'))).toMatchObject({ errorClass: 'retryable-server', outcome: 'unknown' });
  });

  it("a 500 with the gateway's invalid_request is a refused request: the job fails, no retry, nothing to look for", () => {
    const error = parseError(500, gatewayError('Invalid request: image is required', 'invalid_request'));
    expect(error).toMatchObject({ code: 'invalid_request', errorClass: 'fatal-job', scope: 'job', outcome: 'rejected', retryable: false, httpStatus: 500 });
    expect(error.message).toBe('CometAPI gateway (comet_api_error): Invalid request: image is required (POST /kling/v1/videos/image2video)');
  });
});

describe('answers that are not a usable envelope', () => {
  const html = `<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>${'<p>upstream</p>'.repeat(50)}</body></html>`;

  it.each([
    ['an HTML error page', 502, html, 'http', 'retryable-server', /HTTP 502 with an HTML page/],
    ['an HTML page on 200', 200, html, 'bad_response', 'retryable-server', /expected a JSON envelope, got HTTP 200 with an HTML page/],
    ['an empty 200', 200, '', 'bad_response', 'retryable-server', /HTTP 200 with an empty body/],
    ['truncated JSON', 200, '{"code":0,"message":"success","data":{"task_id":"1', 'bad_response', 'retryable-server', /malformed or truncated JSON/],
    ['JSON of another shape', 200, { ok: true }, 'bad_response', 'retryable-server', /JSON of an unexpected shape/],
    ['an HTML 401', 401, '<html>denied</html>', 'http', 'fatal-run', /HTTP 401 with an HTML page/],
  ] as const)('%s', (_name, status, body, code, errorClass, message) => {
    const error = parseError(status, body);
    expect(error).toMatchObject({ code, errorClass, outcome: 'unknown', httpStatus: status });
    expect(error.message).toMatch(message);
  });

  it('names the first schema problem of a 2xx envelope with a wrong task', () => {
    const error = parseError(200, envelope(taskJson({ task_status: 5 })));
    expect(error.code).toBe('bad_response');
    expect(error.message).toMatch(/^the answer's data is not a task \(data\.task_status: /);
  });

  it('quotes a one-line excerpt of at most 200 characters', () => {
    const error = parseError(502, html);
    expect(error.excerpt).toMatch(/^<!DOCTYPE html><html><head><title>502 Bad Gateway/);
    expect(error.excerpt?.length).toBe(EXCERPT_MAX);
    expect(error.excerpt).toMatch(/…$/);
    expect(parseError(200, '').excerpt).toBeUndefined();
  });
});

describe('Retry-After', () => {
  it.each([
    ['2', 2000],
    ['1.5', 1500],
    ['Thu, 01 Jan 2026 00:00:03 GMT', 3000],
    ['soon', undefined],
  ])('%s → %s ms', (header, ms) => {
    const error = parseError(429, envelope(null, 1302, 'rate'), { retryAfter: header });
    expect(error.retryAfterMs).toBe(ms);
  });
});

describe('routes a provider may not offer', () => {
  const optional: ParseContext = { ...context, label: 'GET /kling/v1/videos/image2video?pageNum=1&pageSize=30', optionalRoute: 'listing tasks' };
  const parseList = (...args: Parameters<typeof raw>) => parseResponse(raw(...args), 'list', optional);

  it.each([
    ['an HTML 404', raw(404, '<html>Not Found</html>')],
    ['a JSON 404 that is not a Kling envelope', raw(404, gatewayError('Invalid URL (GET /kling/v1/videos/image2video)'))],
    ['a redirect', raw(302, '', { redirected: false })],
    ['a followed redirect', raw(200, '<html>login</html>', { redirected: true })],
    ['a 405', raw(405, envelope(null, 1202, 'invalid method'))],
  ])('%s is "not supported by this provider"', (_name, response) => {
    const error = parseResponse(response, 'list', optional);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'unsupported', errorClass: 'fatal-job' });
    expect((error as ProviderError).message).toMatch(/^listing tasks is not supported by this provider \(it answered HTTP \d+/);
  });

  it.each([
    ['a Kling 400', raw(400, envelope(null, 1201, 'Invalid request parameters: a task id is required'))],
    ['a Kling envelope on a 404', raw(404, envelope(null, 1203, 'task not found'))],
    ['a gateway 400', raw(400, gatewayError('Invalid request', 'invalid_request'))],
    ['a plain-text 400', raw(400, 'Bad Request')],
  ])('takes %s to the list for "not offered here", never a retryable answer', (_name, response) => {
    const error = parseResponse(response, 'list', optional);
    expect(error).toMatchObject({ code: 'unsupported', errorClass: 'fatal-job', retryable: false, outcome: 'rejected', httpStatus: response.status });
    expect((error as ProviderError).message).toMatch(/^listing tasks is not supported by this provider \(it answered HTTP 4\d\d/);
  });

  it.each([
    [401, envelope(null, 1002, 'Authorization is invalid'), 1002, 'fatal-run'],
    [429, envelope(null, 1102, 'insufficient balance'), 1102, 'fatal-run'],
    [429, envelope(null, 1302, 'rate'), 1302, 'retryable-rate'],
    [503, envelope(null, 5001, 'unavailable'), 5001, 'retryable-server'],
  ] as const)('keeps HTTP %i with code %i to the list as it is (%s)', (status, body, code, errorClass) => {
    expect(parseList(status, body)).toMatchObject({ code, errorClass });
  });

  it('only applies to optional routes', () => {
    expect(parseError(404, '<html>Not Found</html>')).toMatchObject({ code: 'http', errorClass: 'fatal-job' });
  });
});

describe('what the live service sends', () => {
  const parseTask = (body: object, status = 200) => parseResponse(raw(status, body), 'task', context);
  const nullVideo = { id: null, url: 'https://cdn.example/v1.mp4', duration: null, watermark_url: null };

  it('reads null as absent in every field klingrun can do without', () => {
    const queued = parseTask(envelope(taskJson({ task_status_msg: null, task_info: null, task_result: null, created_at: null, updated_at: null })));
    expect(queued).toEqual({ task_id: '2032273942220931072', task_status: 'submitted' });
    expect(parseTask(envelope(taskJson({ task_info: { external_task_id: null } })))).toHaveProperty('task_info', {});
    const done = parseTask(envelope(taskJson({ task_status: 'succeed', task_status_msg: null, task_result: { videos: [nullVideo] } })));
    expect(done).toHaveProperty('task_result', { videos: [{ url: 'https://cdn.example/v1.mp4', watermark_url: null }] });
    expect(parseTask(envelope(taskJson({ task_status: 'succeed', task_result: { videos: null } })))).toHaveProperty('task_result', {});
    expect(parseResponse(raw(200, envelope(null)), 'list', context)).toEqual([]);
  });

  it('reads created_at and updated_at as optional', () => {
    const { created_at: _created, updated_at: _updated, ...bare } = taskJson();
    expect(parseTask(envelope(bare))).toEqual({ task_id: '2032273942220931072', task_status: 'submitted', task_info: { external_task_id: 'kr-abc-1' } });
  });

  it('normalises ids, durations and timestamps sent as numbers or strings', () => {
    const swapped = taskJson({
      task_id: 2032273942220931,
      task_status: 'succeed',
      task_info: { external_task_id: 12345 },
      created_at: '1773366840306',
      updated_at: ' 1773366901000 ',
      task_result: { videos: [{ id: 42, url: 'https://cdn.example/v1.mp4', duration: 10 }] },
    });
    expect(parseResponse(raw(200, { ...envelope(swapped), code: '0', request_id: 7 }), 'task', context)).toEqual({
      task_id: '2032273942220931',
      task_status: 'succeed',
      task_info: { external_task_id: '12345' },
      created_at: 1773366840306,
      updated_at: 1773366901000,
      task_result: { videos: [{ id: '42', url: 'https://cdn.example/v1.mp4', duration: '10' }] },
    });
  });

  it('keeps fields no document names, at every level, and ignores them', () => {
    const extra = taskJson({ task_status: 'succeed', watermark_info: { enabled: false }, task_info: { external_task_id: 'kr-abc-1', parent_video: null }, task_result: { videos: [{ ...nullVideo, id: 'v1' }], extra: 1 } });
    const task = parseResponse(raw(200, { ...envelope(extra), trace: 'x' }), 'task', context);
    expect(task).toMatchObject({ task_id: '2032273942220931072', watermark_info: { enabled: false }, task_info: { external_task_id: 'kr-abc-1', parent_video: null } });
    expect(task).toHaveProperty('task_result.videos.0', { id: 'v1', url: 'https://cdn.example/v1.mp4', watermark_url: null });
  });

  it.each([
    ['a status that is no word', { task_status: 5 }, 'data.task_status: expected a status such as submitted, processing, succeed, failed, got `5` (number)'],
    ['a missing status', { task_status: null }, 'data.task_status: expected a status such as submitted, processing, succeed, failed, got `null` (null)'],
    ['a null task id', { task_id: null }, 'data.task_id: expected a task id (a string), got `null` (null)'],
    ['an empty task id', { task_id: '' }, 'data.task_id: expected a task id (a string), got an empty string'],
    ['a task id that is not a whole number', { task_id: 20322739.5 }, 'data.task_id: expected a task id (a string), got a number that cannot be an exact id, `20322739.5` (number)'],
    ['a video without a URL', { task_status: 'succeed', task_result: { videos: [{ id: 'v1', url: null, duration: '5' }] } }, 'data.task_result.videos[0].url: expected the video\'s http(s) URL, got `null` (null)'],
    ['a video URL that is no URL', { task_status: 'succeed', task_result: { videos: [{ url: 'v1.mp4' }] } }, 'data.task_result.videos[0].url: expected the video\'s http(s) URL, got `"v1.mp4"` (string)'],
    ['an unreadable external id', { task_info: { external_task_id: { id: 1 } } }, 'data.task_info.external_task_id: '],
  ])('is strict where a decision rests on the value: %s is a bad_response naming the field', (_name, fields, message) => {
    const error = parseError(200, envelope(taskJson(fields)));
    expect(error).toMatchObject({ code: 'bad_response', errorClass: 'retryable-server' });
    expect(error.message).toContain(`the answer's data is not a task (${message}`);
  });

  it('names the path inside the older wrapper too', () => {
    expect(parseError(200, legacyEnvelope(taskJson({ task_status: null }))).message).toContain('(data.data.task_status: expected a status');
  });

  it.each([
    ['beside task_status, as the service sends it', { final_unit_deduction: '2.5' }, { videos: [{ url: 'https://cdn.example/v1.mp4' }] }, 2.5],
    ['beside task_status, as a number', { final_unit_deduction: 3 }, null, 3],
    ['on the result, as a string', {}, { final_unit_deduction: '2.5', videos: [{ url: 'https://cdn.example/v1.mp4' }] }, 2.5],
    ['on the video', {}, { videos: [{ url: 'https://cdn.example/v1.mp4', final_unit_deduction: 1.5 }] }, 1.5],
    ['on each video, added up', {}, { videos: [{ url: 'https://cdn.example/a.mp4', final_unit_deduction: '1' }, { url: 'https://cdn.example/b.mp4', final_unit_deduction: 2 }] }, 3],
    ['on the result and the video: the result wins', {}, { final_unit_deduction: 4, videos: [{ url: 'https://cdn.example/v1.mp4', final_unit_deduction: 1 }] }, 4],
    ['on the task and the result: the task wins', { final_unit_deduction: '2' }, { final_unit_deduction: 4, videos: [{ url: 'https://cdn.example/v1.mp4' }] }, 2],
  ])('reads final_unit_deduction %s as one number of units on the task', (_name, fields, result, units) => {
    const task = parseTask(envelope(taskJson({ task_status: 'succeed', ...fields, task_result: result }))) as Task;
    expect(task.final_unit_deduction).toBe(units);
    expect(task.task_result ?? {}).not.toHaveProperty('final_unit_deduction');
    for (const video of task.task_result?.videos ?? []) expect(video).not.toHaveProperty('final_unit_deduction');
  });

  it('reads final_balance_deduction beside it: the list price as a number, quota as sent, anything unreadable as absent', () => {
    const parsed = (fields: Record<string, unknown>) => parseTask(envelope(taskJson({ task_status: 'failed', ...fields }))) as Task;
    expect(parsed({ final_unit_deduction: '0', final_balance_deduction: { quota: '0', list_price: '0.35' } })).toMatchObject({ final_unit_deduction: 0, final_balance_deduction: { quota: 0, list_price: 0.35 } });
    expect(parsed({ final_balance_deduction: { list_price: 0.7, currency: 'USD' } }).final_balance_deduction).toEqual({ list_price: 0.7, currency: 'USD' });
    expect(parsed({ final_balance_deduction: { list_price: 'n/a', quota: null } }).final_balance_deduction).toEqual({});
    expect(parsed({ final_balance_deduction: '0.35', final_unit_deduction: '-1' })).not.toHaveProperty('final_balance_deduction');
    expect(parsed({ final_unit_deduction: '-1' })).not.toHaveProperty('final_unit_deduction');
  });

  it('leaves final_unit_deduction out when there is none, or it is unreadable', () => {
    expect(parseTask(envelope(succeededTaskJson()))).not.toHaveProperty('final_unit_deduction');
    const unreadable = parseTask(envelope(taskJson({ task_status: 'succeed', final_unit_deduction: null, task_result: { final_unit_deduction: 'n/a', videos: [] } })));
    expect(unreadable).toHaveProperty('task_result', { videos: [] });
    expect(unreadable).not.toHaveProperty('final_unit_deduction');
  });
});

describe('"no such task", on a GET of one task', () => {
  const oneTask: ParseContext = { ...context, label: 'GET /kling/v1/videos/image2video/123', oneTask: true };
  const parseOne = (...args: Parameters<typeof raw>) => parseResponse(raw(...args), 'task', oneTask);

  it.each([
    ['Kling\'s 404 with code 1203', raw(404, envelope(null, 1203, 'task not found'))],
    ['1203 on a 200', raw(200, envelope(null, 1203, 'task not found'))],
    ['the live service\'s 400 with code 1201', raw(400, envelope(null, 1201, 'Task not found by id 123'))],
    ['1201 saying the task does not exist', raw(400, envelope(null, 1201, 'task does not exist'))],
    ['a gateway error with code 1201', raw(400, gatewayError('Task not found by id 123', '1201'))],
  ])('%s is code not_found', (_name, response) => {
    const error = parseResponse(response, 'task', oneTask);
    expect(error).toMatchObject({ code: 'not_found', errorClass: 'fatal-job', retryable: false, outcome: 'rejected', httpStatus: response.status });
    expect((error as ProviderError).message).toMatch(/^no such task: /);
  });

  it('keeps every other 1201 as the parameter error it is', () => {
    expect(parseOne(400, envelope(null, 1201, 'external_task_id already exists'))).toMatchObject({ code: 1201, errorClass: 'fatal-job' });
    expect(parseOne(400, envelope(null, 1201, 'Invalid task_id format'))).toMatchObject({ code: 1201 });
  });

  it('means nothing special on a create call', () => {
    expect(parseError(400, envelope(null, 1201, 'image not found at that URL'))).toMatchObject({ code: 1201 });
  });
});

describe('excerptOf', () => {
  it('scrubs the key and bearer tokens before cutting, so no key prefix survives', () => {
    const text = `${'x'.repeat(190)}${KEY} Authorization: Bearer other-token`;
    const excerpt = excerptOf(text, KEY);
    expect(excerpt).toBe(`${'x'.repeat(190)}*** Autho…`);
    expect(excerptOf('Authorization: Bearer other-token', KEY)).toBe('Authorization: Bearer ***');
  });
});
