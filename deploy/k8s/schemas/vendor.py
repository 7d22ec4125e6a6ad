#!/usr/bin/env python3
"""Regenerates the vendored schemas beside this file (see README.md here). Not run by CI: the
JSON files it writes are committed, so validation needs no network.

    pip download --no-deps -d /tmp/kv kubernetes-validate==1.37.0
    python3 -m zipfile -e /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl /tmp/kv/x
    python3 deploy/k8s/schemas/vendor.py --kubernetes-validate /tmp/kv/x/kubernetes_validate \\
        --cnpg-git <a clone of cloudnative-pg/cloudnative-pg>/.git --cnpg-ref v1.30.0

Keeps only what Pingan's manifests use: the kinds in KINDS and every definition they reach,
and the openAPIV3Schema of the three CloudNativePG kinds; every `description` is dropped
(they are most of the bytes and validate nothing)."""
import argparse
import json
import pathlib
import re
import subprocess

import yaml

KUBERNETES = "v1.34.0"
KINDS = {  # apiVersion/kind -> definition
    "v1/ConfigMap": "io.k8s.api.core.v1.ConfigMap",
    "v1/Secret": "io.k8s.api.core.v1.Secret",
    "v1/Service": "io.k8s.api.core.v1.Service",
    "apps/v1/Deployment": "io.k8s.api.apps.v1.Deployment",
    "networking.k8s.io/v1/NetworkPolicy": "io.k8s.api.networking.v1.NetworkPolicy",
    "networking.k8s.io/v1/Ingress": "io.k8s.api.networking.v1.Ingress",
    "autoscaling/v2/HorizontalPodAutoscaler": "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
    "policy/v1/PodDisruptionBudget": "io.k8s.api.policy.v1.PodDisruptionBudget",
}
CNPG_KINDS = {"clusters": "Cluster", "backups": "Backup", "scheduledbackups": "ScheduledBackup"}
here = pathlib.Path(__file__).resolve().parent


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def kubernetes(source: pathlib.Path):
    folder = source / "kubernetes-json-schema" / f"{KUBERNETES}-local-strict"
    definitions = json.loads((folder / "_definitions.json").read_text())["$defs"]
    text = lambda node: json.dumps(node)
    keep, todo = {}, list(KINDS.values())
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep[name] = definitions[name]
        todo += re.findall(r'"\$ref": "(?:/api/_definitions\.json)?#/\$defs/([^"]+)"', text(definitions[name]))
    schema = json.loads(text(strip(dict(sorted(keep.items())))).replace("/api/_definitions.json#/$defs/", "#/$defs/"))
    out = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "source": f"kubernetes-validate 1.37.0 (PyPI), kubernetes-json-schema/{KUBERNETES}-local-strict, descriptions removed",
        "kinds": KINDS,
        "$defs": schema,
    }
    (here / f"kubernetes-{KUBERNETES}-strict.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


def cnpg(git_dir: str, ref: str):
    kinds = {}
    for plural, kind in CNPG_KINDS.items():
        crd = yaml.safe_load(subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"{ref}:config/crd/bases/postgresql.cnpg.io_{plural}.yaml"],
            check=True, capture_output=True, text=True).stdout)
        version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
        kinds[f"postgresql.cnpg.io/v1/{kind}"] = strip(version["schema"]["openAPIV3Schema"])
    out = {"source": f"cloudnative-pg/cloudnative-pg {ref}, config/crd/bases/postgresql.cnpg.io_{{clusters,backups,scheduledbackups}}.yaml, "
                     "spec.versions[v1].schema.openAPIV3Schema, descriptions removed", "kinds": kinds}
    (here / f"cloudnative-pg-{ref.lstrip('v')}.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubernetes-validate", type=pathlib.Path, required=True)
    parser.add_argument("--cnpg-git", required=True)
    parser.add_argument("--cnpg-ref", default="v1.30.0")
    arguments = parser.parse_args()
    kubernetes(arguments.kubernetes_validate)
    cnpg(arguments.cnpg_git, arguments.cnpg_ref)
