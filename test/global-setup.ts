// Before any test file: build the CLI's JavaScript from the current sources (about a second), so
// the tests that start `node bin/klingrun.js` as a user does exercise the code under test.
import { buildJs } from '../scripts/build.js';

export async function setup(): Promise<void> {
  await buildJs();
}
