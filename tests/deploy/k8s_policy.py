#!/usr/bin/python3
"""The hardening every reception workload must have, checked on the
`kubectl kustomize` output of an overlay (files named on the command line):

- pods: runAsNonRoot, a non-root runAsUser, seccomp RuntimeDefault, no
  service account token, no host namespaces;
- containers: no privilege escalation, a read-only root file system, every
  capability dropped, not privileged, CPU and memory requests and a memory
  limit, native gRPC liveness and readiness probes, images of the project;
- a PodDisruptionBudget selecting each workload; a StatefulSet with a volume
  claim for each service that keeps state (all but routing);
- a NetworkPolicy over every pod of the namespace restricting ingress and
  egress; the namespace labelled for the federation's policy; a
  ServiceMonitor and a PrometheusRule;
- no Secret in the output (TLS material and keys are the operator's), and
  every Secret and ConfigMap a pod mounts is one the operator creates
  (reception-tls, reception-keys) or the output holds.

Prints each violation; exit 1 if any.
"""
import sys

import yaml

PROJECT_IMAGES = "localhost/reception/"
OPERATOR_SECRETS = {"reception-tls", "reception-keys"}


def main(paths):
    problems = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        problems += check(path, docs)
    for p in problems:
        print(p)
    print(f"{len(paths)} overlays, {len(problems)} violations")
    return 1 if problems or not paths else 0


def check(path, docs):
    out = []
    bad = lambda what: out.append(f"{path}: {what}")
    kinds = {}
    for d in docs:
        kinds.setdefault(d["kind"], []).append(d)
    configmaps = {d["metadata"]["name"] for d in kinds.get("ConfigMap", [])}
    for s in kinds.get("Secret", []):
        bad(f"Secret/{s['metadata']['name']} is in the manifests: secrets are the operator's")
    workloads = kinds.get("StatefulSet", []) + kinds.get("Deployment", [])
    if not workloads:
        bad("no workload")
    pdb_selectors = [d["spec"]["selector"]["matchLabels"] for d in kinds.get("PodDisruptionBudget", [])]
    for w in workloads:
        name = f"{w['kind']}/{w['metadata']['name']}"
        spec = w["spec"]["template"]["spec"]
        labels = w["spec"]["template"]["metadata"]["labels"]
        if not any(all(labels.get(k) == v for k, v in sel.items()) for sel in pdb_selectors):
            bad(f"{name}: no PodDisruptionBudget selects it")
        psc = spec.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            bad(f"{name}: runAsNonRoot is not true")
        if not psc.get("runAsUser"):
            bad(f"{name}: no non-root runAsUser")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            bad(f"{name}: seccomp profile is not RuntimeDefault")
        if spec.get("automountServiceAccountToken") is not False:
            bad(f"{name}: mounts a service account token")
        for host in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(host):
                bad(f"{name}: {host}")
        stateful = w["metadata"]["name"] != "routing"
        if stateful and (w["kind"] != "StatefulSet" or not w["spec"].get("volumeClaimTemplates")):
            bad(f"{name}: keeps state but is not a StatefulSet with a volume claim")
        for c in spec.get("initContainers", []) + spec["containers"]:
            cname = f"{name} container {c['name']}"
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                bad(f"{cname}: allowPrivilegeEscalation is not false")
            if sc.get("readOnlyRootFilesystem") is not True:
                bad(f"{cname}: root file system is not read-only")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                bad(f"{cname}: capabilities are not all dropped")
            if sc.get("capabilities", {}).get("add"):
                bad(f"{cname}: adds capabilities")
            if sc.get("privileged"):
                bad(f"{cname}: privileged")
            res = c.get("resources", {})
            for k in ("cpu", "memory"):
                if k not in res.get("requests", {}):
                    bad(f"{cname}: no {k} request")
            if "memory" not in res.get("limits", {}):
                bad(f"{cname}: no memory limit")
            for probe in ("livenessProbe", "readinessProbe"):
                if "grpc" not in c.get(probe, {}):
                    bad(f"{cname}: {probe} is not a native gRPC probe")
            if not c["image"].startswith(PROJECT_IMAGES):
                bad(f"{cname}: image {c['image']} is not one of the project's")
        for v in spec.get("volumes", []):
            if "secret" in v and v["secret"]["secretName"] not in OPERATOR_SECRETS:
                bad(f"{name}: mounts unknown Secret {v['secret']['secretName']}")
            if "configMap" in v and v["configMap"]["name"] not in configmaps:
                bad(f"{name}: mounts ConfigMap {v['configMap']['name']} the output does not hold")
            if "hostPath" in v:
                bad(f"{name}: mounts a hostPath")
    policies = kinds.get("NetworkPolicy", [])
    if not any(p["spec"].get("podSelector") == {} and
               set(p["spec"].get("policyTypes", [])) >= {"Ingress", "Egress"} for p in policies):
        bad("no NetworkPolicy restricting ingress and egress of every pod")
    namespaces = kinds.get("Namespace", [])
    if not namespaces or namespaces[0]["metadata"].get("labels", {}).get(
            "reception.gov.vn/federation") != "true":
        bad("the namespace is not labelled reception.gov.vn/federation=true")
    for kind in ("ServiceMonitor", "PrometheusRule"):
        if not kinds.get(kind):
            bad(f"no {kind}")
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
