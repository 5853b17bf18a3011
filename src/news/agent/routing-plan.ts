/**
 * Where areas should live, as a plain function: given the live nodes, the areas and the
 * current assignments, which assignments to add and remove so that every area has
 * `replicas` live nodes (or all of them, if fewer), new ones go to the least-loaded node,
 * and no node carries more than one area above another.
 */

export interface Assignment {
  area: string;
  node: string;
}

export interface AssignmentPlan {
  add: Assignment[];
  remove: Assignment[];
}

export interface PlanInput {
  liveNodes: readonly string[];
  areas: readonly string[];
  current: readonly Assignment[];
  replicas: number;
  /** Most assignments moved to even out load in one plan, so a rejoin does not churn at once. */
  maxMoves: number;
}

export function planAssignments(input: PlanInput): AssignmentPlan {
  const live = new Set(input.liveNodes);
  const plan: AssignmentPlan = { add: [], remove: [] };
  const servedBy = new Map<string, Set<string>>(input.areas.map((area) => [area, new Set()]));
  const load = new Map<string, number>(input.liveNodes.map((node) => [node, 0]));

  for (const assignment of input.current) {
    const nodes = servedBy.get(assignment.area);
    if (!live.has(assignment.node) || nodes === undefined) {
      plan.remove.push(assignment);
      continue;
    }
    nodes.add(assignment.node);
    load.set(assignment.node, (load.get(assignment.node) ?? 0) + 1);
  }

  const want = Math.min(input.replicas, live.size);
  for (const [area, nodes] of servedBy) {
    while (nodes.size < want) {
      const node = leastLoaded(load, nodes);
      if (node === undefined) break;
      nodes.add(node);
      load.set(node, (load.get(node) ?? 0) + 1);
      plan.add.push({ area, node });
    }
  }

  for (let moves = 0; moves < input.maxMoves; moves++) {
    const ordered = [...load].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
    const lightest = ordered[0];
    const heaviest = ordered.at(-1);
    if (lightest === undefined || heaviest === undefined || heaviest[1] - lightest[1] <= 1) break;
    const area = [...servedBy].find(
      ([, nodes]) => nodes.has(heaviest[0]) && !nodes.has(lightest[0]),
    )?.[0];
    if (area === undefined) break;
    const nodes = servedBy.get(area) ?? new Set<string>();
    nodes.delete(heaviest[0]);
    nodes.add(lightest[0]);
    load.set(heaviest[0], heaviest[1] - 1);
    load.set(lightest[0], lightest[1] + 1);
    plan.add.push({ area, node: lightest[0] });
    plan.remove.push({ area, node: heaviest[0] });
  }
  return plan;
}

/** The live node with the fewest areas that does not serve this area yet. */
function leastLoaded(load: ReadonlyMap<string, number>, exclude: ReadonlySet<string>) {
  let best: string | undefined;
  let bestLoad = Infinity;
  for (const [node, count] of load) {
    if (exclude.has(node)) continue;
    if (count < bestLoad || (count === bestLoad && best !== undefined && node < best)) {
      best = node;
      bestLoad = count;
    }
  }
  return best;
}
