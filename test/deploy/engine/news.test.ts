/**
 * The news profile in containers, and seed 002's experiments: a scripted session through the
 * agent; `docker kill` of a node (clients succeed again within 2 s); a partition (`docker network
 * disconnect` of a node, then reconnect: the agent drops it and takes it back, nothing posted is
 * lost); two agents, one killed (logins and routing go on through the other).
 *
 * compose.yaml keeps the news ports internal; this test publishes them on 127.0.0.1 and reaches
 * each node's advertised container address through that node's published port (the client's
 * `reach`), as a client behind a NAT would. The client knows both agents' addresses.
 */
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NewsClient } from '../../../src/news/client/client.js';
import { callNews } from '../../../src/news/frame-client.js';
import type { NewsView } from '../../../src/news/protocol.js';
import { ComposeProject } from '../../support/compose-project.js';
import { inspect, stopContainer, waitContainerHealthy } from '../../support/containers.js';
import { toolOutput } from '../../support/deploy-tools.js';
import { waitFor } from '../../support/processes.js';
import { bringUp, readOnlyRun } from './profile.js';

const adminName = 'root';
const adminPassword = randomBytes(16).toString('hex');
const project = new ComposeProject(['news'], {
  publish: { 'news-agent': [8000], 'news-node': [8005] },
  scale: { 'news-agent': 2 },
  environment: {
    'news-agent': { NEWS_ADMIN_NAME: adminName, NEWS_ADMIN_PASSWORD: adminPassword },
  },
});
const backTier = project.network('back-tier');
const areas = ['science', 'sports', 'arts'];

/** Advertised node address (container address on the back network) -> its container. */
const nodeContainers = new Map<string, string>();
/** Advertised node address -> 127.0.0.1:<published port>. */
const published = new Map<string, string>();
let agents: string[] = [];
/** Every post acknowledged during the run, by area: none may be missing at the end. */
const acknowledged = new Map<string, Set<string>>(areas.map((area) => [area, new Set()]));

async function mapNodes(): Promise<void> {
  nodeContainers.clear();
  published.clear();
  for (const id of await project.containers('news-node')) {
    const number = Number(
      await inspect(id, '{{index .Config.Labels "com.docker.compose.container-number"}}'),
    );
    const address = await inspect(
      id,
      `{{with index .NetworkSettings.Networks "${backTier}"}}{{.IPAddress}}{{end}}`,
    );
    if (address === '') continue;
    nodeContainers.set(`${address}:8005`, id);
    published.set(`${address}:8005`, await project.address('news-node', 8005, number));
  }
}

/** A client that knows both agents; `as` shares another client's session. */
function client(
  options: { as?: NewsClient; retryForMs?: number; timeoutMs?: number } = {},
): NewsClient {
  const [agent = '', ...moreAgents] = agents;
  return new NewsClient({
    agent,
    moreAgents,
    ...(options.as?.token === undefined ? {} : { token: options.as.token }),
    reach: (node) => published.get(node) ?? node,
    timeoutMs: options.timeoutMs ?? 5_000,
    retryForMs: options.retryForMs ?? 10_000,
  });
}

async function loggedIn(name: string, password: string, register = false): Promise<NewsClient> {
  const session = client();
  if (register) await session.register(name, password);
  else await session.login(name, password);
  return session;
}

async function post(session: NewsClient, area: string, text: string): Promise<NewsView> {
  const item = await session.post(area, text);
  acknowledged.get(area)?.add(item.id);
  return item;
}

/** Addresses of the nodes the agent routes `area` to now. */
async function nodesOf(session: NewsClient, area: string): Promise<string[]> {
  return (await session.areas()).find((view) => view.name === area)?.nodes ?? [];
}

let admin: NewsClient;
let writer: NewsClient;
const writerName = `marie-${randomBytes(3).toString('hex')}`;
const writerPassword = randomBytes(12).toString('hex');
const readerName = `pierre-${randomBytes(3).toString('hex')}`;
const readerPassword = randomBytes(12).toString('hex');

beforeAll(async () => {
  // redis, postgres, two agents, three nodes
  await bringUp(project, 7);
  agents = [
    await project.address('news-agent', 8000, 1),
    await project.address('news-agent', 8000, 2),
  ];
  await mapNodes();
  expect(published.size).toBe(3);
  admin = await waitFor(() => loggedIn(adminName, adminPassword), {
    timeoutMs: 30_000,
    intervalMs: 250,
    message: 'the admin to log in through the agent',
  });
  for (const area of areas) await admin.addArea(area);
});

afterAll(() => project.down());

describe('news profile in containers', () => {
  it('runs a scripted session through the agent: register, log in, subscribe, post, read unread', async () => {
    writer = await loggedIn(writerName, writerPassword, true);
    expect((await writer.whoami()).name).toBe(writerName);
    const again = await loggedIn(writerName, writerPassword);
    for (const area of areas)
      expect(await again.subscribe(area)).toMatchObject({ subscribed: true });
    const reader = await loggedIn(readerName, readerPassword, true);
    expect(await reader.subscribe('science')).toMatchObject({ subscribed: true });
    const item = await post(again, 'science', 'Polonium found');
    const unread = await reader.read('science', true);
    expect(unread.map((news) => [news.id, news.text, news.wasRead])).toEqual([
      [item.id, 'Polonium found', false],
    ]);
    expect(await reader.read('science', true)).toEqual([]);
    // Your own news is not new to you.
    expect(await writer.read('science', true)).toEqual([]);
    expect((await writer.myAreas()).map((area) => area.name).sort()).toEqual([...areas].sort());
  });

  it('serves again within 2 s when the node serving an area is killed with docker kill', async () => {
    const { node } = await writer.route({ area: 'sports' });
    const id = nodeContainers.get(node);
    if (id === undefined) throw new Error(`the agent routes to ${node}, not a node of the project`);
    await toolOutput('docker', ['kill', id]);
    const killed = Date.now();
    try {
      // One post whose client gives up 2 s after the kill (1 s per attempt): it must succeed.
      const item = await post(
        client({ as: writer, retryForMs: 2_000, timeoutMs: 1_000 }),
        'sports',
        'after the kill',
      );
      process.stderr.write(
        `deploy figures: news: a post succeeded ${Date.now() - killed} ms after docker kill of ${node}\n`,
      );
      expect(item.text).toBe('after the kill');
      // The post may have gone to the area's other replica before the agent judged the node.
      await waitFor(async () => !(await nodesOf(admin, 'sports')).includes(node), {
        timeoutMs: 30_000,
        intervalMs: 250,
        message: `the agent to drop the killed node ${node}`,
      });
    } finally {
      // Back for the next experiments, whatever happened above (docker kill is a manual stop:
      // no restart policy applies), so that one failure does not cascade into the others.
      await toolOutput('docker', ['start', id]);
      await waitContainerHealthy(id, 120_000);
    }
    await mapNodes();
    expect(published.size).toBe(3);
    const back = [...nodeContainers].find(([, container]) => container === id)?.[0] ?? '';
    await waitFor(async () => (await admin.areas()).some((area) => area.nodes.includes(back)), {
      timeoutMs: 60_000,
      intervalMs: 250,
      message: `the restarted node ${back} back in rotation`,
    });
  });

  it('drops a partitioned node, fails clients over, takes it back, and loses no post', async () => {
    const { node } = await writer.route({ area: 'arts' });
    const id = nodeContainers.get(node);
    if (id === undefined) throw new Error(`the agent routes to ${node}, not a node of the project`);
    const partition = { over: false };
    let failures = 0;
    const poster = (async () => {
      const session = client({ as: writer });
      for (let n = 0; !partition.over; n++) {
        await post(session, areas[n % areas.length] ?? 'arts', `during the partition #${n}`).catch(
          () => (failures += 1),
        );
      }
    })();
    try {
      await toolOutput('docker', ['network', 'disconnect', backTier, id]);
      await waitFor(async () => !(await admin.areas()).some((area) => area.nodes.includes(node)), {
        timeoutMs: 30_000,
        intervalMs: 250,
        message: `the agent to drop ${node}`,
      });
      const during = [...acknowledged.values()].reduce((sum, ids) => sum + ids.size, 0);
      await waitFor(
        () => [...acknowledged.values()].reduce((sum, ids) => sum + ids.size, 0) >= during + 10,
        { timeoutMs: 30_000, intervalMs: 100, message: 'ten posts acknowledged without the node' },
      );
      await toolOutput('docker', ['network', 'connect', backTier, id]);
      await mapNodes();
      expect(published.has(node), `${node} back at the same address`).toBe(true);
      await waitFor(async () => (await admin.areas()).some((area) => area.nodes.includes(node)), {
        timeoutMs: 60_000,
        intervalMs: 250,
        message: `${node} back in rotation`,
      });
      // Clients reach it again: a read straight on the node, for an area it serves.
      const served = (await admin.areas()).find((area) => area.nodes.includes(node))?.name ?? '';
      const reachable = published.get(node) ?? node;
      await waitFor(
        () =>
          callNews<NewsView[]>(reachable, { op: 'news', token: writer.token, area: served }).then(
            () => true,
          ),
        { timeoutMs: 30_000, intervalMs: 250, message: `a read on ${node} through its port` },
      );
    } finally {
      partition.over = true;
      await poster;
    }
    expect(failures).toBe(0);
  });

  it('goes on logging in and routing through the other agent when one is killed', async () => {
    await toolOutput('docker', ['kill', await project.container('news-agent', 1)]);
    const session = await loggedIn(writerName, writerPassword);
    expect(session.agent).toBe(agents[1]);
    const { node } = await session.route({ area: 'science' });
    expect(published.has(node)).toBe(true);
    expect((await post(session, 'science', 'through the second agent')).text).toBe(
      'through the second agent',
    );
  });

  it('stores every acknowledged post exactly once', async () => {
    const reader = await loggedIn(writerName, writerPassword);
    for (const area of areas) {
      const stored = (await reader.read(area)).map((news) => news.id);
      expect(new Set(stored).size, area).toBe(stored.length);
      expect(stored, area).toEqual(expect.arrayContaining([...(acknowledged.get(area) ?? [])]));
    }
  });

  it.each(['news-agent', 'news-node'])(
    'runs %s with a read-only root file system',
    async (service) => {
      const replica = service === 'news-agent' ? 2 : 1;
      expect(await readOnlyRun(project, service, replica)).toBe(0);
    },
  );

  it('stops every service gracefully on docker stop (SIGTERM), exit code 0', async () => {
    expect(await stopContainer(await project.container('news-agent', 2), 15)).toBe(0);
    for (const id of await project.containers('news-node')) {
      expect(await stopContainer(id, 15), 'news-node').toBe(0);
    }
  });
});
