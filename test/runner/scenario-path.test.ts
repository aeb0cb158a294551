import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shownScenarioPath } from '../../src/runner/scenario.js';
import { repoRoot } from '../../src/shared-path.js';

describe('shownScenarioPath (issue 15: the manifest records where a scenario file is)', () => {
  it('is relative to the repository for a file inside it', () => {
    expect(shownScenarioPath(join(repoRoot, 'scenarios', 'default.ts'))).toBe(join('scenarios', 'default.ts'));
    expect(shownScenarioPath('/repo/scenarios/x.json', '/repo')).toBe(join('scenarios', 'x.json'));
    expect(shownScenarioPath('/repo/..x/y.json', '/repo')).toBe(join('..x', 'y.json'));
  });

  it('stays absolute for a file outside whose path merely starts with the repository path as a string', () => {
    expect(shownScenarioPath(`${repoRoot}-other/x.json`)).toBe(`${repoRoot}-other/x.json`);
    expect(shownScenarioPath('/repo-other/x.json', '/repo')).toBe('/repo-other/x.json');
    expect(shownScenarioPath('/repox.json', '/repo')).toBe('/repox.json');
    expect(shownScenarioPath('/elsewhere/x.json', '/repo')).toBe('/elsewhere/x.json');
    expect(shownScenarioPath('/repo', '/repo')).toBe('/repo');
  });
});
