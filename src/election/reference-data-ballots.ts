/**
 * Realistic random ballots from the reference data: departments by population, a municipality
 * and one of its polling stations, a ballot type, a party by its weight.
 */
import {
  ballotTypes,
  type Department,
  departments,
  parties,
  pollingStations,
} from './reference-data.js';

/** The seed's ballot: exactly these five fields (the `id` is the sender's to add). */
export interface BallotFields {
  sede: string;
  municipio: string;
  departamento: string;
  papeleta: string;
  partido: string;
}

/** A number in [0, 1); `Math.random` by default, a seeded one for reproducible data. */
export type Random = () => number;

/** Picks among items by weight in O(log n). */
function weightedPicker<T>(items: readonly T[], weight: (item: T) => number) {
  const cumulative: number[] = [];
  let sum = 0;
  for (const item of items) {
    sum += weight(item);
    cumulative.push(sum);
  }
  return (random: Random): T => {
    const target = random() * sum;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((cumulative[middle] ?? 0) > target) high = middle;
      else low = middle + 1;
    }
    const picked = items[low];
    if (picked === undefined) throw new Error('weightedPicker needs at least one item');
    return picked;
  };
}

const pickDepartment = weightedPicker(departments, (department) => department.population);
const pickParty = weightedPicker(parties, (party) => party.weight);
const stationsCache = new Map<string, string[]>();

function stationsOf(department: Department, municipality: string): string[] {
  const key = `${department.name}/${municipality}`;
  let stations = stationsCache.get(key);
  if (stations === undefined) {
    stations = pollingStations(department, municipality);
    stationsCache.set(key, stations);
  }
  return stations;
}

function pickOne<T>(items: readonly T[], random: Random): T {
  const picked = items[Math.floor(random() * items.length)];
  if (picked === undefined) throw new Error('pickOne needs at least one item');
  return picked;
}

/** One ballot as a voter at a random polling station of Guatemala would cast it. */
export function randomBallot(random: Random = Math.random): BallotFields {
  const department = pickDepartment(random);
  const municipality = pickOne(department.municipalities, random);
  return {
    sede: pickOne(stationsOf(department, municipality), random),
    municipio: municipality,
    departamento: department.name,
    papeleta: pickOne(ballotTypes, random),
    partido: pickParty(random).code,
  };
}

/** mulberry32: a small seeded generator, so a test or a bench can replay the same ballots. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}
