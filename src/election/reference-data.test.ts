import { describe, expect, it } from 'vitest';

import { ballotTypes, departments, parties, pollingStations } from './reference-data.js';
import { randomBallot, seededRandom } from './reference-data-ballots.js';

describe('the reference data', () => {
  it("holds Guatemala's 22 departments and 340 municipalities, none twice in a department", () => {
    expect(departments).toHaveLength(22);
    expect(new Set(departments.map((department) => department.name)).size).toBe(22);
    const municipalities = departments.flatMap((department) => {
      expect(new Set(department.municipalities).size).toBe(department.municipalities.length);
      return department.municipalities;
    });
    expect(municipalities).toHaveLength(340);
  });

  it('names polling stations uniquely within a municipality, and the same way every time', () => {
    const [guatemala] = departments;
    if (guatemala === undefined) throw new Error('no departments');
    const stations = pollingStations(guatemala, 'Mixco');
    expect(new Set(stations).size).toBe(stations.length);
    expect(stations.length).toBeGreaterThanOrEqual(2);
    expect(stations.every((station) => station.endsWith(', Mixco'))).toBe(true);
    expect(pollingStations(guatemala, 'Mixco')).toEqual(stations);
  });

  it('generates ballots whose fields all come from the reference data and fit the limits', () => {
    const random = seededRandom(4);
    const partyCodes = new Set(parties.map((party) => party.code));
    for (let index = 0; index < 2_000; index += 1) {
      const ballot = randomBallot(random);
      const department = departments.find((d) => d.name === ballot.departamento);
      expect(department?.municipalities).toContain(ballot.municipio);
      if (department === undefined) continue;
      expect(pollingStations(department, ballot.municipio)).toContain(ballot.sede);
      expect(ballotTypes).toContain(ballot.papeleta);
      expect(partyCodes.has(ballot.partido)).toBe(true);
      for (const value of Object.values<string>({ ...ballot }))
        expect(value.length).toBeLessThanOrEqual(100);
    }
  });

  it('replays the same ballots from the same seed', () => {
    const replay = (random: () => number) => Array.from({ length: 50 }, () => randomBallot(random));
    const first = replay(seededRandom(7));
    expect(replay(seededRandom(7))).toEqual(first);
    expect(replay(seededRandom(8))).not.toEqual(first);
  });
});
