import type { Manifest } from './render';

interface ValidatingModel {
  validate(): void;
}
type ModelClass = new (data: unknown) => ValidatingModel;

/**
 * The model of an object's apiVersion and kind, whose validate() checks it against the Kubernetes
 * API's OpenAPI schema (kubernetes-models) or the Prometheus Operator's CRD schema.
 */
async function modelOf(manifest: Manifest): Promise<ModelClass> {
  const [group, version] = manifest.apiVersion.includes('/') ? manifest.apiVersion.split('/') : ['', manifest.apiVersion];
  const module =
    group === 'monitoring.coreos.com'
      ? await import(`@kubernetes-models/prometheus-operator/${group}/${version}/${manifest.kind}`)
      : await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${manifest.kind}`);
  const model = (module as Record<string, ModelClass>)[manifest.kind];
  if (!model) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind}`);
  return model;
}

/** Problems of each object against its API schema: `Kind/name: message`, none when all are valid. */
export async function schemaProblems(manifests: Manifest[]): Promise<string[]> {
  const problems: string[] = [];
  for (const manifest of manifests) {
    try {
      const Model = await modelOf(manifest);
      new Model(manifest).validate();
    } catch (error) {
      problems.push(`${manifest.kind}/${manifest.metadata?.name}: ${(error as Error).message}`);
    }
  }
  return problems;
}
