/**
 * Rendered Kubernetes objects: typed views of the few fields the deployment tests read, and
 * schema validation of each object against the official OpenAPI schemas (kubernetes-models,
 * compiled ajv validators, offline).
 */

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
}

export interface Probe {
  httpGet?: { path: string; port: number | string };
}

export interface Container {
  name: string;
  image?: string;
  args?: string[];
  ports?: ContainerPort[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: unknown };
}

export interface PodSpec {
  containers: Container[];
  automountServiceAccountToken?: boolean;
}

export interface DeploymentSpec {
  replicas?: number;
  template: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: PodSpec;
  };
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
}

export function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== 'object' || value === null) return false;
  const object = value as Partial<KubeObject>;
  return (
    typeof object.apiVersion === 'string' &&
    typeof object.kind === 'string' &&
    typeof object.metadata?.name === 'string'
  );
}

export function findObject(
  objects: readonly KubeObject[],
  kind: string,
  name: string,
): KubeObject | undefined {
  return objects.find((object) => object.kind === kind && object.metadata.name === name);
}

export function containersOf(deployment: KubeObject): Container[] {
  return (deployment.spec as unknown as DeploymentSpec).template.spec.containers;
}

/** The pod template of a Deployment or StatefulSet. */
export function podTemplateOf(workload: KubeObject): DeploymentSpec['template'] {
  return (workload.spec as unknown as DeploymentSpec).template;
}

/** `name/key` of every Secret key a workload's containers read, through env or envFrom. */
export function secretKeysOf(workload: KubeObject): string[] {
  return containersOf(workload).flatMap((container) => [
    ...(container.env ?? []).flatMap(({ valueFrom }) =>
      valueFrom?.secretKeyRef === undefined
        ? []
        : [`${valueFrom.secretKeyRef.name}/${valueFrom.secretKeyRef.key}`],
    ),
    ...(container.envFrom ?? []).flatMap((from) =>
      from.secretRef === undefined ? [] : [`${from.secretRef.name}/*`],
    ),
  ]);
}

/** A probe's port as a number: named ports resolve through the container's ports. */
export function probePort(container: Container, probe: Probe | undefined): number | undefined {
  const port = probe?.httpGet?.port;
  if (typeof port === 'number') return port;
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** `apps/v1` + `Deployment` -> `kubernetes-models/apps/v1/Deployment`; core types sit in v1/. */
function modelSpecifier(object: KubeObject): string {
  const [group, version] = object.apiVersion.includes('/')
    ? object.apiVersion.split('/')
    : [undefined, object.apiVersion];
  return `kubernetes-models/${group === undefined ? '' : `${group}/`}${version}/${object.kind}`;
}

/**
 * Validates one object against its kind's OpenAPI schema; throws naming the object and the
 * failing fields. An apiVersion/kind the schemas do not know throws too.
 */
export async function validateObject(object: KubeObject): Promise<void> {
  const specifier = modelSpecifier(object);
  let module: Record<string, unknown>;
  try {
    module = (await import(specifier)) as Record<string, unknown>;
  } catch {
    throw new Error(`${object.kind}/${object.metadata.name}: no schema for ${specifier}`);
  }
  const model = module[object.kind];
  if (typeof model !== 'function') {
    throw new Error(`${object.kind}/${object.metadata.name}: ${specifier} exports no model`);
  }
  try {
    new (model as ModelClass)(object).validate();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${object.kind}/${object.metadata.name} fails its schema: ${reason}`);
  }
}
