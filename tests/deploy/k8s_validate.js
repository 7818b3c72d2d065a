// Validates Kubernetes objects offline against the API schemas: every
// object of a `kubectl kustomize` output (YAML on stdin, or the files named)
// through kubernetes-models (the OpenAPI schemas of the Kubernetes API and of
// the Prometheus Operator's CRDs, compiled with ajv). An object of a kind it
// has no schema for fails too. Prints one line per problem; exit 1 if any.
//   node k8s_validate.js [FILE...]   (NODE_PATH must reach the npm modules)
'use strict';
const fs = require('fs');
const yaml = require('js-yaml');

function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const candidates = group === 'monitoring.coreos.com'
    ? [`@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`]
    : [group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`];
  for (const path of candidates) {
    try {
      return require(path)[kind];
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  return null;
}

const inputs = process.argv.length > 2
  ? process.argv.slice(2).map((f) => [f, fs.readFileSync(f, 'utf8')])
  : [['stdin', fs.readFileSync(0, 'utf8')]];
let objects = 0;
let problems = 0;
for (const [name, text] of inputs) {
  for (const doc of yaml.loadAll(text)) {
    if (doc == null) continue;
    objects++;
    const what = `${name}: ${doc.kind}/${doc.metadata && doc.metadata.name}`;
    const Model = modelFor(doc.apiVersion || '', doc.kind || '');
    if (!Model) {
      console.log(`${what}: no schema for ${doc.apiVersion} ${doc.kind}`);
      problems++;
      continue;
    }
    try {
      new Model(doc).validate();
    } catch (e) {
      console.log(`${what}: ${e.message}`);
      problems++;
    }
  }
}
console.log(`${objects} objects, ${problems} problems`);
process.exit(problems === 0 && objects > 0 ? 0 : 1);
