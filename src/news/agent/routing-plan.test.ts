import { describe, expect, it } from 'vitest';

import { type Assignment, planAssignments } from './routing-plan.js';

function apply(current: Assignment[], plan: ReturnType<typeof planAssignments>): Assignment[] {
  const key = (a: Assignment) => `${a.area}@${a.node}`;
  const removed = new Set(plan.remove.map(key));
  return [...current.filter((a) => !removed.has(key(a))), ...plan.add];
}

function loads(assignments: Assignment[]): Map<string, number> {
  const load = new Map<string, number>();
  for (const { node } of assignments) load.set(node, (load.get(node) ?? 0) + 1);
  return load;
}

describe('planAssignments', () => {
  it('gives every area the wanted number of live nodes, least-loaded first', () => {
    const plan = planAssignments({
      liveNodes: ['a', 'b', 'c'],
      areas: ['x', 'y', 'z'],
      current: [],
      replicas: 2,
      maxMoves: 10,
    });
    const result = apply([], plan);
    for (const area of ['x', 'y', 'z']) {
      expect(result.filter((a) => a.area === area)).toHaveLength(2);
    }
    expect([...loads(result).values()].sort()).toEqual([2, 2, 2]);
  });

  it("moves a dead node's areas to live nodes", () => {
    const current = [
      { area: 'x', node: 'a' },
      { area: 'y', node: 'b' },
      { area: 'z', node: 'c' },
    ];
    const plan = planAssignments({
      liveNodes: ['a', 'b'],
      areas: ['x', 'y', 'z'],
      current,
      replicas: 1,
      maxMoves: 10,
    });
    expect(plan.remove).toContainEqual({ area: 'z', node: 'c' });
    const result = apply(current, plan);
    expect(result.every((a) => a.node !== 'c')).toBe(true);
    expect(result.filter((a) => a.area === 'z')).toHaveLength(1);
  });

  it('evens out load when a node rejoins, within the move budget', () => {
    const current = ['p', 'q', 'r', 's'].flatMap((area) => [
      { area, node: 'a' },
      { area, node: 'b' },
    ]);
    const plan = planAssignments({
      liveNodes: ['a', 'b', 'c'],
      areas: ['p', 'q', 'r', 's'],
      current,
      replicas: 2,
      maxMoves: 10,
    });
    const load = loads(apply(current, plan));
    expect(Math.max(...load.values()) - Math.min(...load.values())).toBeLessThanOrEqual(1);
    expect(load.get('c')).toBeGreaterThan(0);
  });

  it('assigns nothing when no node is alive', () => {
    const plan = planAssignments({
      liveNodes: [],
      areas: ['x'],
      current: [{ area: 'x', node: 'a' }],
      replicas: 2,
      maxMoves: 10,
    });
    expect(plan).toEqual({ add: [], remove: [{ area: 'x', node: 'a' }] });
  });
});
