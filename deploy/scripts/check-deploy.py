#!/usr/bin/env python3
"""Static checks of docker-compose.yml and deploy/k8s, since no Docker engine or cluster runs
here: every executable is deployed in both, every variable they set is one the code reads,
every service gets the variables it cannot start without, and every overlay's centre is a
real division. Prints what it checked; exits 1 on the first list of problems."""
import csv
import pathlib
import re
import sys

import yaml

root = pathlib.Path(__file__).resolve().parents[2]
problems = []

package = (root / "Package.swift").read_text()
executables = set(re.findall(r'\.executable\(name: "([a-z-]+)"', package)) - {"pingan-bench"}
sources = "\n".join(p.read_text() for p in (root / "Shared").rglob("*.swift")) + "\n".join(
    p.read_text() for p in (root / "Services").rglob("*.swift"))
read = set(re.findall(r'(?:string|integer|secret)\("([A-Z_]+)"', sources))
read |= {f"{peer.upper()}_URL" for peer in ("grid", "dispute", "risk", "index", "notify")}
required = {"DATABASE_URL", "MESH_SECRET", "PORT"}
divisions = {row["code"] for row in csv.DictReader(open(root / "Services/grid/Sources/Data/changde-divisions.csv"))}

compose = yaml.safe_load((root / "docker-compose.yml").read_text())
deployed = {}
for name, service in compose["services"].items():
    if name == "postgres":
        continue
    exe = service["entrypoint"][0].rsplit("/", 1)[-1]
    deployed[exe] = set(service.get("environment", {}))
if set(deployed) != executables:
    problems.append(f"docker-compose deploys {sorted(deployed)}, the package builds {sorted(executables)}")
for exe, names in deployed.items():
    if unknown := names - read:
        problems.append(f"docker-compose sets {sorted(unknown)} on {exe}, which no code reads")
    if missing := required - names:
        problems.append(f"docker-compose leaves {sorted(missing)} unset on {exe}")
if "TOKEN_SECRET" not in deployed.get("gateway", set()):
    problems.append("docker-compose gives the gateway no TOKEN_SECRET")

documents = []
for path in (root / "deploy/k8s").rglob("*.yaml"):
    documents += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
config = next(doc for _, doc in documents if doc.get("kind") == "ConfigMap")
k8s = {}
for path, doc in documents:
    if doc.get("kind") != "Deployment":
        continue
    container = doc["spec"]["template"]["spec"]["containers"][0]
    names = {env["name"] for env in container.get("env", [])} | set(config["data"])
    k8s[container["command"][0].rsplit("/", 1)[-1]] = names
    if doc["spec"]["template"]["metadata"]["labels"] != doc["spec"]["selector"]["matchLabels"]:
        problems.append(f"{path.name}: selector does not match the pod labels")
if set(k8s) != executables:
    problems.append(f"k8s deploys {sorted(k8s)}, the package builds {sorted(executables)}")
for exe, names in k8s.items():
    if unknown := names - read:
        problems.append(f"k8s sets {sorted(unknown)} on {exe}, which no code reads")
    if missing := required - names:
        problems.append(f"k8s leaves {sorted(missing)} unset on {exe}")
base = yaml.safe_load((root / "deploy/k8s/base/kustomization.yaml").read_text())
for resource in base["resources"]:
    if not (root / "deploy/k8s/base" / resource).exists():
        problems.append(f"k8s base lists {resource}, which does not exist")
overlays = sorted((root / "deploy/k8s/overlays").iterdir())
for overlay in overlays:
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    literals = dict(item.split("=", 1) for item in kustomization["configMapGenerator"][0]["literals"])
    if literals.get("GATEWAY_CENTRE") not in divisions:
        problems.append(f"overlay {overlay.name}: GATEWAY_CENTRE {literals.get('GATEWAY_CENTRE')} is not a division")

if problems:
    print("deploy check failed:\n- " + "\n- ".join(problems))
    sys.exit(1)
print(f"deploy check: {len(executables)} executables in docker-compose and k8s, "
      f"{len(overlays)} overlays, variables match the {len(read)} the code reads")
