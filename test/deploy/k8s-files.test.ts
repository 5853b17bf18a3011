/**
 * deploy/k8s against the tools that read it and against the service registry: kubectl kustomize
 * renders the base and both overlays, every rendered object passes the Kubernetes OpenAPI schema
 * (kubernetes-models), and every registered service runs in the base with its ports and its
 * /readyz and /healthz probes on its HTTP or admin port. Nothing is applied to a cluster.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { healthPortOf } from '../../src/cli/health.js';
import { envNameOf } from '../../src/platform/platform-settings.js';
import { services } from '../../src/services.js';
import { parseYamlDocuments, reportUnregistered, toolOutput } from '../support/deploy-tools.js';
import {
  containersOf,
  findObject,
  isKubeObject,
  type KubeObject,
  podTemplateOf,
  probePort,
  secretKeysOf,
  type ServicePort,
  validateObject,
} from '../support/kubernetes.js';
import { metricsPorts } from '../support/metrics-ports.js';
import { repoRoot } from '../support/processes.js';

const registered = new Set(services.map((service) => service.name));
const trees = ['base', 'overlays/dev', 'overlays/prod'] as const;
type Tree = (typeof trees)[number];
/** Autoscaled (issue #7): votes, election ingest, tasks. */
const autoscaled = ['vote', 'election-gateway', 'tasks'];

const rendered = new Map<Tree, Promise<KubeObject[]>>();

/** The objects `kubectl kustomize deploy/k8s/<tree>` renders, rendered once per file. */
function render(tree: Tree): Promise<KubeObject[]> {
  let objects = rendered.get(tree);
  if (objects === undefined) {
    objects = toolOutput('kubectl', ['kustomize', `deploy/k8s/${tree}`]).then((yaml) =>
      parseYamlDocuments(yaml).map((document) => {
        if (!isKubeObject(document)) throw new Error(`not a Kubernetes object: ${yaml}`);
        return document;
      }),
    );
    rendered.set(tree, objects);
  }
  return objects;
}

function named(objects: readonly KubeObject[], kind: string): string[] {
  return objects.filter((object) => object.kind === kind).map((object) => object.metadata.name);
}

function servicePorts(service: KubeObject | undefined): ServicePort[] {
  return (service?.spec?.ports as ServicePort[] | undefined) ?? [];
}

describe('kubectl kustomize', () => {
  it.each(trees)('renders deploy/k8s/%s', async (tree) => {
    const objects = await render(tree);
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      if (object.kind !== 'Namespace') expect(object.metadata.namespace, object.kind).toBe('agora');
    }
  });

  it.each(trees)('renders deploy/k8s/%s into objects that pass their schemas', async (tree) => {
    for (const object of await render(tree)) await validateObject(object);
  });

  it('validates for real: a Deployment with a wrong type or no selector fails', async () => {
    const [deployment] = (await render('base')).filter((object) => object.kind === 'Deployment');
    if (deployment === undefined) throw new Error('the base renders no Deployment');
    const broken = { ...deployment, spec: { ...deployment.spec, replicas: 'two' } };
    await expect(validateObject(broken)).rejects.toThrow(/replicas must be integer/);
    const withoutSelector = { ...deployment.spec };
    delete withoutSelector.selector;
    await expect(validateObject({ ...deployment, spec: withoutSelector })).rejects.toThrow(
      /selector/,
    );
  });
});

describe('deploy/k8s/base against the registry', () => {
  beforeAll(async () => {
    reportUnregistered('deploy/k8s/base', named(await render('base'), 'Deployment'), registered);
  });

  it.each(services.map((service) => [service.name, service] as const))(
    'runs %s with its ports and /readyz and /healthz probes',
    async (name, definition) => {
      const objects = await render('base');
      const deployment = findObject(objects, 'Deployment', name);
      expect(deployment, `no Deployment ${name} in deploy/k8s/base`).toBeDefined();
      if (deployment === undefined) return;
      const [container] = containersOf(deployment);
      if (container === undefined) throw new Error(`Deployment ${name} has no container`);

      expect(container.args).toEqual(['run', name]);
      const ports = (container.ports ?? []).map((port) => port.containerPort);
      expect(ports).toContain(definition.defaultPort);
      expect(ports).toContain(healthPortOf(definition));
      expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(probePort(container, container.readinessProbe)).toBe(healthPortOf(definition));
      expect(probePort(container, container.livenessProbe)).toBe(healthPortOf(definition));
      expect(container.resources?.requests).toBeDefined();
      expect(container.resources?.limits).toBeDefined();

      const service = findObject(objects, 'Service', name);
      expect(service, `no Service ${name} in deploy/k8s/base`).toBeDefined();
      expect(servicePorts(service).map((port) => port.port)).toContain(definition.defaultPort);
    },
  );

  it.each(services.map((service) => [service.name, service.defaultPort] as const))(
    'tells every pod where %s is (port %i)',
    async (name, port) => {
      const config = (await render('base')).find((object) => object.kind === 'ConfigMap');
      expect(config?.data?.[`AGORA_${envNameOf(name)}_URL`]).toMatch(
        new RegExp(`^(http://)?${name}:${port}$`),
      );
    },
  );
});

/** The Secret keys a service reads: its backends' URLs and its own secret, nothing more. */
function secretsNeeded(definition: (typeof services)[number]): string[] {
  const needs: readonly string[] = definition.needs;
  return [
    ...(needs.includes('broker') ? ['agora-backends/REDIS_URL'] : []),
    ...(needs.includes('sql') ? ['agora-backends/DATABASE_URL'] : []),
    ...(definition.name === 'vote' ? ['agora-secrets/AGORA_VOTE_SECRET'] : []),
    ...(definition.system === 'news' ? ['agora-secrets/AGORA_NEWS_SECRET'] : []),
  ].sort();
}

describe('deploy/k8s/base least privilege', () => {
  it.each(services.map((service) => [service.name, service] as const))(
    'gives %s only the secrets it needs',
    async (name, definition) => {
      const deployment = findObject(await render('base'), 'Deployment', name);
      if (deployment === undefined) throw new Error(`no Deployment ${name}`);
      expect(secretKeysOf(deployment).sort()).toEqual(secretsNeeded(definition));
    },
  );

  it.each(trees)('mounts no service-account token in any pod of %s', async (tree) => {
    const workloads = (await render(tree)).filter((object) =>
      ['Deployment', 'StatefulSet'].includes(object.kind),
    );
    expect(workloads.length).toBeGreaterThan(0);
    for (const workload of workloads) {
      expect(
        podTemplateOf(workload).spec.automountServiceAccountToken,
        workload.metadata.name,
      ).toBe(false);
    }
  });

  it('denies ingress by default and lets the public tier in on its HTTP port only', async () => {
    const objects = await render('base');
    const deny = findObject(objects, 'NetworkPolicy', 'default-deny-ingress');
    expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    const publicPods = objects
      .filter((object) => object.kind === 'Deployment')
      .filter(
        (object) => podTemplateOf(object).metadata?.labels?.['agora.io/exposure'] === 'public',
      )
      .map((object) => object.metadata.name)
      .sort();
    // The services with a route in the Ingress, and nothing that speaks TCP or gRPC.
    expect(publicPods).toEqual(
      ['counter', 'election-api', 'election-gateway', 'result', 'tasks', 'vote'].sort(),
    );
    expect(findObject(objects, 'NetworkPolicy', 'public-http')?.spec?.ingress).toEqual([
      { ports: [{ port: 'http' }] },
    ]);
  });

  it('lets only the clients of Redis and Postgres reach them (dev)', async () => {
    const objects = await render('overlays/dev');
    for (const [backend, need, label] of [
      ['redis', 'broker', 'agora.io/redis'],
      ['postgres', 'sql', 'agora.io/postgres'],
    ] as const) {
      const policy = findObject(objects, 'NetworkPolicy', backend);
      expect(policy?.spec?.podSelector).toEqual({
        matchLabels: { 'app.kubernetes.io/name': backend },
      });
      expect(policy?.spec?.ingress).toEqual([
        {
          from: [{ podSelector: { matchLabels: { [label]: 'client' } } }],
          ports: [{ port: backend }],
        },
      ]);
      const clients = objects
        .filter((object) => object.kind === 'Deployment')
        .filter((object) => podTemplateOf(object).metadata?.labels?.[label] === 'client')
        .map((object) => object.metadata.name)
        .sort();
      const needing = services
        .filter((service) => (service.needs as readonly string[]).includes(need))
        .map((service) => service.name)
        .sort();
      expect(clients, backend).toEqual(needing);
    }
  });
});

describe('deploy/k8s/base', () => {
  it('runs every Deployment as a non-root user with the shared config', async () => {
    const objects = await render('base');
    const config = named(objects, 'ConfigMap');
    for (const deployment of objects.filter((object) => object.kind === 'Deployment')) {
      const pod = (deployment.spec as { template: { spec: Record<string, unknown> } }).template
        .spec;
      expect(pod.securityContext, deployment.metadata.name).toMatchObject({ runAsNonRoot: true });
      for (const container of containersOf(deployment)) {
        const configMaps = (container.envFrom ?? []).flatMap((from) =>
          from.configMapRef === undefined ? [] : [from.configMapRef.name],
        );
        expect(configMaps.length, deployment.metadata.name).toBeGreaterThan(0);
        for (const name of configMaps) expect(config).toContain(name);
      }
    }
  });

  it('has each news-node pod announce its own IP to the agent', async () => {
    const deployment = findObject(await render('base'), 'Deployment', 'news-node');
    const env = (deployment === undefined ? [] : containersOf(deployment))[0]?.env ?? [];
    expect(env).toContainEqual({ name: 'NEWS_NODE_ADVERTISE', value: '$(POD_IP):8005' });
    expect(env).toContainEqual({
      name: 'POD_IP',
      valueFrom: { fieldRef: { fieldPath: 'status.podIP' } },
    });
  });

  it('autoscales vote, election-gateway and tasks', async () => {
    const objects = await render('base');
    for (const name of autoscaled) {
      const hpa = findObject(objects, 'HorizontalPodAutoscaler', name);
      expect(hpa?.spec?.scaleTargetRef, name).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name,
      });
      // A fixed count in the Deployment would reset the autoscaler's on every apply.
      const deployment = findObject(objects, 'Deployment', name);
      expect(deployment, name).toBeDefined();
      expect((deployment?.spec as { replicas?: number }).replicas, name).toBeUndefined();
    }
  });

  it('has a PodDisruptionBudget for every replicated Deployment, each selecting one', async () => {
    const objects = await render('base');
    for (const deployment of objects.filter((object) => object.kind === 'Deployment')) {
      const { name } = deployment.metadata;
      const hpa = findObject(objects, 'HorizontalPodAutoscaler', name);
      const replicas =
        (hpa?.spec?.minReplicas as number | undefined) ??
        (deployment.spec as { replicas?: number }).replicas ??
        1;
      const budget = findObject(objects, 'PodDisruptionBudget', name);
      if (replicas > 1) expect(budget, name).toBeDefined();
      if (budget === undefined) continue;
      const selector = (budget.spec as { selector: { matchLabels: Record<string, string> } })
        .selector.matchLabels;
      expect(deployment.metadata.labels).toMatchObject(selector);
    }
  });

  it('routes /ingest/grpc and /ingest/redis to election-gateway, and only to Services it has', async () => {
    const objects = await render('base');
    interface Path {
      path: string;
      backend: { service: { name: string; port: { name?: string; number?: number } } };
    }
    const ingress = findObject(objects, 'Ingress', 'agora');
    const rules = (ingress?.spec?.rules ?? []) as { http: { paths: Path[] } }[];
    const paths = rules.flatMap((rule) => rule.http.paths);
    for (const path of ['/ingest/grpc', '/ingest/redis']) {
      expect(paths.find((candidate) => candidate.path === path)?.backend.service.name).toBe(
        'election-gateway',
      );
    }
    for (const { backend } of paths) {
      const service = findObject(objects, 'Service', backend.service.name);
      expect(service, backend.service.name).toBeDefined();
      const portNames = servicePorts(service).map((port) => port.name);
      expect(portNames, backend.service.name).toContain(backend.service.port.name);
    }
  });
});

describe('deploy/k8s overlays', () => {
  it('dev runs Redis and Postgres as StatefulSets with volumes, and has every Secret pods read', async () => {
    const objects = await render('overlays/dev');
    for (const name of ['redis', 'postgres']) {
      const statefulSet = findObject(objects, 'StatefulSet', name);
      expect(statefulSet?.spec?.volumeClaimTemplates, name).toHaveLength(1);
      expect(findObject(objects, 'Service', name), name).toBeDefined();
    }
    const redisArgs = containersOf(findObject(objects, 'StatefulSet', 'redis') as KubeObject)[0]
      ?.args;
    expect(redisArgs?.join(' ')).toMatch(/--appendonly yes/);
    const backends = findObject(objects, 'Secret', 'agora-backends');
    expect(backends?.stringData?.REDIS_URL).toBe('redis://redis:6379');
    expect(backends?.stringData?.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    const keys = objects
      .filter((object) => object.kind === 'Secret')
      .flatMap((secret) =>
        Object.keys(secret.stringData ?? secret.data ?? {}).map(
          (key) => `${secret.metadata.name}/${key}`,
        ),
      );
    for (const deployment of objects.filter((object) => object.kind === 'Deployment')) {
      for (const key of secretKeysOf(deployment))
        expect(keys, deployment.metadata.name).toContain(key);
    }
  });

  it('prod runs no backend and carries no Secret: both exist in the cluster beforehand', async () => {
    const objects = await render('overlays/prod');
    expect(named(objects, 'StatefulSet')).toEqual([]);
    expect(named(objects, 'Secret')).toEqual([]);
    const images = objects
      .filter((object) => object.kind === 'Deployment')
      .flatMap((deployment) => containersOf(deployment).map((container) => container.image));
    for (const image of images) expect(image).toMatch(/^[\w.-]+\.[a-z]+\/agora:[\w.-]+$/);
  });
});

describe('deploy/k8s/base for Prometheus', () => {
  it.each(services.map((service) => [service.name] as const))(
    'has %s pods annotated for scraping at their declared admin port',
    async (name) => {
      const deployment = findObject(await render('base'), 'Deployment', name);
      if (deployment === undefined) throw new Error(`no Deployment ${name}`);
      const port = metricsPorts[name];
      expect(podTemplateOf(deployment).metadata?.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(port),
        'prometheus.io/path': '/metrics',
      });
      const [container] = containersOf(deployment);
      expect(container?.ports).toContainEqual({ name: 'admin', containerPort: port });
    },
  );

  it('lets only a namespace labelled agora.io/monitoring reach the admin ports', async () => {
    const policy = findObject(await render('base'), 'NetworkPolicy', 'admin-ports');
    expect(policy?.spec?.podSelector).toEqual({
      matchLabels: { 'app.kubernetes.io/part-of': 'agora' },
    });
    expect(policy?.spec?.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'agora.io/monitoring': 'true' } } }],
        ports: [{ port: 'admin' }],
      },
    ]);
  });

  it("has a scrape job that keeps the annotated pods' admin port in namespace agora", () => {
    interface Job {
      honor_labels?: boolean;
      kubernetes_sd_configs?: { role: string; namespaces?: { names: string[] } }[];
      relabel_configs?: { source_labels?: string[]; action?: string; regex?: string }[];
    }
    const [document] = parseYamlDocuments(
      readFileSync(join(repoRoot, 'deploy/monitoring/prometheus-kubernetes.yml'), 'utf8'),
    );
    const [job] = (document as { scrape_configs: Job[] }).scrape_configs;
    expect(job?.honor_labels).toBe(true);
    expect(job?.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['agora'] } }]);
    const keeps = (job?.relabel_configs ?? []).filter((rule) => rule.action === 'keep');
    expect(keeps).toEqual([
      {
        source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'],
        action: 'keep',
        regex: 'true',
      },
      {
        source_labels: ['__meta_kubernetes_pod_container_port_name'],
        action: 'keep',
        regex: 'admin',
      },
    ]);
  });
});
