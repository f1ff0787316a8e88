// Matrix expansion: GitHub Actions' documented semantics and the edge cases around them.
import { describe, expect, it } from 'vitest';
import { expandMatrix, matrixSpecOf, type MatrixResult, type MatrixSpec } from '../src/manifest/matrix.js';

function values(spec: MatrixSpec, max = 10_000) {
  const result = expandMatrix(spec, max);
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('; '));
  return result.combinations.map((c) => c.values);
}

function problems(result: MatrixResult) {
  return result.ok ? [] : result.problems.map((p) => ({ path: p.path.join('.'), message: p.message }));
}

describe('GitHub Actions semantics', () => {
  it('reproduces the example of GitHub’s documentation (fruit × animal with includes)', () => {
    // docs.github.com/actions › "Expanding or adding matrix configurations"
    const spec: MatrixSpec = {
      dimensions: [
        ['fruit', ['apple', 'pear']],
        ['animal', ['cat', 'dog']],
      ],
      include: [
        { color: 'green' },
        { color: 'pink', animal: 'cat' },
        { fruit: 'apple', shape: 'circle' },
        { fruit: 'banana' },
        { fruit: 'banana', animal: 'cat' },
      ],
    };
    expect(values(spec)).toEqual([
      { fruit: 'apple', animal: 'cat', color: 'pink', shape: 'circle' },
      { fruit: 'apple', animal: 'dog', color: 'green', shape: 'circle' },
      { fruit: 'pear', animal: 'cat', color: 'pink' },
      { fruit: 'pear', animal: 'dog', color: 'green' },
      { fruit: 'banana' },
      { fruit: 'banana', animal: 'cat' },
    ]);
  });

  it('crosses the lists with the first key outermost', () => {
    expect(values({ dimensions: [['os', ['a', 'b']], ['v', [1, 2, 3]]] })).toEqual([
      { os: 'a', v: 1 },
      { os: 'a', v: 2 },
      { os: 'a', v: 3 },
      { os: 'b', v: 1 },
      { os: 'b', v: 2 },
      { os: 'b', v: 3 },
    ]);
  });

  it('excludes on a partial match (GitHub’s exclude example)', () => {
    const spec: MatrixSpec = {
      dimensions: [
        ['os', ['macos', 'windows']],
        ['version', [12, 14, 16]],
        ['environment', ['staging', 'production']],
      ],
      exclude: [
        { os: 'macos', version: 12, environment: 'production' },
        { os: 'windows', version: 16 },
      ],
    };
    const result = values(spec);
    expect(result).toHaveLength(12 - 1 - 2);
    expect(result).not.toContainEqual({ os: 'macos', version: 12, environment: 'production' });
    expect(result.filter((c) => c.os === 'windows' && c.version === 16)).toEqual([]);
  });

  it('applies exclude before include, so an include can bring an excluded combination back', () => {
    const spec: MatrixSpec = { dimensions: [['m', ['a', 'b']]], exclude: [{ m: 'b' }], include: [{ m: 'b', extra: 1 }] };
    expect(values(spec)).toEqual([{ m: 'a' }, { m: 'b', extra: 1 }]);
  });

  it('lets an include overwrite values added by an earlier include, never original ones', () => {
    const spec: MatrixSpec = {
      dimensions: [['m', ['a', 'b']]],
      include: [{ color: 'green' }, { color: 'red', m: 'a' }, { m: 'c', color: 'blue' }],
    };
    expect(values(spec)).toEqual([
      { m: 'a', color: 'red' },
      { m: 'b', color: 'green' },
      { m: 'c', color: 'blue' },
    ]);
  });

  it('does not extend combinations that an earlier include created', () => {
    const spec: MatrixSpec = { dimensions: [['m', ['a']]], include: [{ m: 'z' }, { m: 'z', extra: 1 }] };
    expect(values(spec)).toEqual([{ m: 'a' }, { m: 'z' }, { m: 'z', extra: 1 }]);
  });

  it('makes each include its own combination when there are no lists', () => {
    const spec: MatrixSpec = { dimensions: [], include: [{ a: 1 }, { a: 2, b: 'x' }, { b: 'y' }] };
    expect(values(spec)).toEqual([{ a: 1 }, { a: 2, b: 'x' }, { b: 'y' }]);
  });

  it('treats an include that only repeats original values as adding nothing', () => {
    expect(values({ dimensions: [['m', ['a', 'b']]], include: [{ m: 'a' }] })).toEqual([{ m: 'a' }, { m: 'b' }]);
  });

  it('records where every value was written', () => {
    const result = expandMatrix({ dimensions: [['m', ['a', 'b']]], include: [{ m: 'b', x: 1 }] }, 100);
    expect(result.ok && result.combinations.map((c) => c.origins)).toEqual([{ m: ['m', 0] }, { m: ['m', 1], x: ['include', 0, 'x'] }]);
  });
});

describe('edge cases', () => {
  it('gives the single empty combination for no matrix or an empty one', () => {
    expect(values(matrixSpecOf(undefined))).toEqual([{}]);
    expect(values(matrixSpecOf({}))).toEqual([{}]);
  });

  it('refuses an exclude that removes everything when no include adds a combination', () => {
    const result = expandMatrix({ dimensions: [['m', ['a', 'b']]], exclude: [{ m: 'a' }, { m: 'b' }] }, 100);
    expect(problems(result)).toEqual([{ path: '', message: 'the matrix has no combinations: exclude removes all 2 and no include adds one.' }]);
  });

  it('accepts exclude-all when an include adds a combination back', () => {
    expect(values({ dimensions: [['m', ['a']]], exclude: [{ m: 'a' }], include: [{ m: 'b' }] })).toEqual([{ m: 'b' }]);
  });

  it('refuses exclude keys that are not list keys (they could never match)', () => {
    const result = expandMatrix({ dimensions: [['m', ['a']]], exclude: [{ mode: 'pro' }] }, 100);
    expect(problems(result)).toEqual([{ path: 'exclude.0.mode', message: 'exclude key `mode` is not a list key of this matrix, so it can never match.' }]);
  });

  it('allows exactly the maximum and refuses one more', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i);
    expect(values({ dimensions: [['a', hundred], ['b', hundred]] })).toHaveLength(10_000);
    const over = expandMatrix({ dimensions: [['a', hundred], ['b', hundred]], include: [{ a: -1 }] }, 10_000);
    expect(problems(over)).toEqual([{ path: '', message: 'the matrix expands to 10001 combinations; at most 10000 are allowed.' }]);
  });

  it('refuses a huge cross product before building it', () => {
    const big = Array.from({ length: 1000 }, (_, i) => i);
    const result = expandMatrix({ dimensions: [['a', big], ['b', big]] }, 10_000);
    expect(problems(result)).toEqual([{ path: '', message: 'the matrix crosses to 1000000 combinations; at most 10000 are allowed.' }]);
  });

  it('reads a manifest matrix in its written key order, include and exclude apart', () => {
    const spec = matrixSpecOf({ mode: ['std'], model_name: ['kling-v1'], include: [{ sound: 'off' }] });
    expect(spec.dimensions).toEqual([['mode', ['std']], ['model_name', ['kling-v1']]]);
    expect(spec.include).toEqual([{ sound: 'off' }]);
  });
});
