// The CLI's last line of defence: the key never reaches the terminal, as typed or URL-encoded.
import { describe, expect, it } from 'vitest';
import { redactor } from '../src/cli/redact.js';

describe('redactor', () => {
  it('masks the key and its URL-encoded form, and leaves other text alone', () => {
    const key = 'sk-ab/c+d=e';
    const redact = redactor(key);
    expect(redact(`key ${key} and ${encodeURIComponent(key)} in a URL`)).toBe('key *** and *** in a URL');
    expect(redact('nothing secret')).toBe('nothing secret');
    expect(redactor(undefined)('sk-ab/c+d=e')).toBe('sk-ab/c+d=e');
  });
});
