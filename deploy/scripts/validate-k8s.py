#!/usr/bin/env python3
"""Renders every overlay under deploy/k8s/overlays and validates each object it yields, and the
templates deploy/k8s/*.example.yaml (the Secrets, a restore's Cluster), against the schemas
vendored in deploy/k8s/schemas: Kubernetes 1.34's own kinds (strict: a field the API does not
know is an error, as with `kubectl apply --validate=strict`) and CloudNativePG 1.30's Cluster,
Backup and ScheduledBackup, closed the same way. An object of a kind without a vendored
schema is an error, so a new kind cannot slip past.

Rendering uses `kubectl kustomize` (or `kustomize build`) when either is installed, and then also
renders with the small kustomize of this file and insists the two agree, so the fallback stays
true; without either binary the fallback alone renders (PINGAN_KUSTOMIZE=python forces it). The
fallback knows the kustomization fields the overlays use (resources, namespace, images,
configMapGenerator merging into a ConfigMap of the base, JSON 6902 patches) and refuses any other.

Not checked here: the CRDs' CEL rules (x-kubernetes-validations) and what only a server knows
(that a referenced Secret exists, admission webhooks). check-deploy.py runs this and adds the
cross-object checks; run alone, it prints what it validated and exits 1 on any problem.

    python3 deploy/scripts/validate-k8s.py
"""
import copy
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import yaml

root = pathlib.Path(__file__).resolve().parents[2]
k8s = root / "deploy/k8s"
schemas = k8s / "schemas"
KUBERNETES_SCHEMA = schemas / "kubernetes-v1.34.0-strict.json"
CNPG_SCHEMA = schemas / "cloudnative-pg-1.30.0.json"


def overlays():
    return sorted(p for p in (k8s / "overlays").iterdir() if (p / "kustomization.yaml").exists())


# ---- Rendering -----------------------------------------------------------------------------------

def kustomize_binary():
    """The command that renders a kustomization directory, or None."""
    if os.environ.get("PINGAN_KUSTOMIZE") == "python":
        return None
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    return None


def render_with(command, directory):
    done = subprocess.run(command + [str(directory)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} {directory.relative_to(root)} failed: {done.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


PYTHON = "the Python kustomize in validate-k8s.py"
KNOWN_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "configMapGenerator", "patches"}


def render_python(directory):
    """The subset of kustomize the overlays use, enough to render them without a binary."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    if unknown := set(kustomization) - KNOWN_FIELDS:
        raise RuntimeError(f"{directory.relative_to(root)}: the Python kustomize does not know {sorted(unknown)}; "
                           "render with kubectl kustomize, or teach validate-k8s.py")
    documents = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        if path.is_dir():
            documents += render_python(path)
        else:
            documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for generator in kustomization.get("configMapGenerator", []):
        if generator.get("behavior") != "merge" or set(generator) - {"name", "behavior", "literals"}:
            raise RuntimeError(f"{directory.relative_to(root)}: the Python kustomize only merges literals into a base ConfigMap")
        targets = [d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"] == generator["name"]]
        if len(targets) != 1:
            raise RuntimeError(f"{directory.relative_to(root)}: configMapGenerator {generator['name']} merges into no ConfigMap")
        targets[0].setdefault("data", {}).update(item.split("=", 1) for item in generator.get("literals", []))
    for patch in kustomization.get("patches", []):
        target = patch.get("target") or {}
        if set(target) - {"kind", "name"} or "path" in patch:
            raise RuntimeError(f"{directory.relative_to(root)}: the Python kustomize applies inline JSON 6902 patches by kind and name only")
        operations = yaml.safe_load(patch["patch"])
        matched = [d for d in documents if d["kind"] == target.get("kind", d["kind"])
                   and d["metadata"]["name"] == target.get("name", d["metadata"]["name"])]
        if not matched:
            raise RuntimeError(f"{directory.relative_to(root)}: a patch targets {target}, which is not rendered")
        for document in matched:
            for operation in operations:
                json_patch(document, operation)
    for image in kustomization.get("images", []):
        for document in documents:
            pod = document.get("spec", {}).get("template", {}).get("spec", {}) if document["kind"] == "Deployment" else {}
            for container in pod.get("initContainers", []) + pod.get("containers", []):
                name, tag = split_image(container["image"])
                if name == image["name"]:
                    tag = f":{image['newTag']}" if "newTag" in image else f"@{image['digest']}" if "digest" in image else tag
                    container["image"] = image.get("newName", name) + tag
    if namespace := kustomization.get("namespace"):
        for document in documents:
            document["metadata"]["namespace"] = namespace
    return documents


def split_image(reference):
    """`registry:5000/pingan:0.9.0` -> (`registry:5000/pingan`, `:0.9.0`)."""
    if "@" in reference:
        name, digest = reference.split("@", 1)
        return name, "@" + digest
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon:]
    return reference, ""


def json_patch(document, operation):
    steps = [s.replace("~1", "/").replace("~0", "~") for s in operation["path"].lstrip("/").split("/")]
    parent = document
    for step in steps[:-1]:
        parent = parent[int(step)] if isinstance(parent, list) else parent[step]
    last, op = steps[-1], operation["op"]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if op == "add":
            parent.insert(index, operation["value"])
        elif op == "replace":
            parent[index] = operation["value"]
        elif op == "remove":
            del parent[index]
        else:
            raise RuntimeError(f"JSON patch op {op} is not supported")
    else:
        if op in ("add", "replace"):
            if op == "replace" and last not in parent:
                raise RuntimeError(f"JSON patch replaces {operation['path']}, which does not exist")
            parent[last] = operation["value"]
        elif op == "remove":
            del parent[last]
        else:
            raise RuntimeError(f"JSON patch op {op} is not supported")


def key(document):
    return (document.get("kind"), document.get("metadata", {}).get("name"))


def render(directory):
    """(documents, how) for one overlay; with a binary, the Python rendering must agree with it."""
    command = kustomize_binary()
    if command is None:
        return render_python(directory), PYTHON
    documents = render_with(command, directory)
    mine = render_python(directory)
    canonical = lambda docs: sorted(json.dumps(d, sort_keys=True) for d in docs)
    if canonical(documents) != canonical(mine):
        theirs = {key(d): d for d in documents}
        ours = {key(d): d for d in mine}
        differing = sorted(str(k) for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        raise RuntimeError(f"{directory.relative_to(root)}: {' '.join(command)} and the Python kustomize disagree on {differing}")
    return documents, " ".join(command)


# ---- Schemas -------------------------------------------------------------------------------------

def closed(schema):
    """A CRD schema as the API server applies it with strict field validation: an object that
    lists its properties accepts no other, unless it says it keeps unknown fields."""
    if isinstance(schema, list):
        return [closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: closed(v) if k in ("properties", "items", "additionalProperties", "allOf", "anyOf", "oneOf", "not") or isinstance(v, (dict, list)) else v
           for k, v in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema \
            and not schema.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


_validators = None


def validators():
    global _validators
    if _validators is None:
        try:
            from jsonschema import Draft202012Validator
        except ImportError:
            sys.exit("validate-k8s.py needs the jsonschema package: python3 -m pip install jsonschema "
                     "(deploy/scripts/test.sh installs it)")
        kubernetes = json.loads(KUBERNETES_SCHEMA.read_text())
        definitions = kubernetes["$defs"]
        _validators = {}
        for kind, definition in kubernetes["kinds"].items():
            _validators[kind] = Draft202012Validator({"$defs": definitions, "$ref": f"#/$defs/{definition}"})
        for kind, schema in json.loads(CNPG_SCHEMA.read_text())["kinds"].items():
            schema = closed(copy.deepcopy(schema))
            # The CRD leaves metadata to the API server, which checks it as for every object.
            schema["properties"]["metadata"] = {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
            _validators[kind] = Draft202012Validator({**schema, "$defs": definitions})
    return _validators


def validate(documents, where):
    problems = []
    for document in documents:
        kind = f"{document.get('apiVersion')}/{document.get('kind')}"
        name = document.get("metadata", {}).get("name")
        validator = validators().get(kind)
        if validator is None:
            problems.append(f"{where}: {kind} {name} has no vendored schema (deploy/k8s/schemas)")
            continue
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
            path = "/".join(str(p) for p in error.absolute_path) or "(root)"
            problems.append(f"{where}: {document.get('kind')} {name}: {path}: {error.message[:300]}")
    return problems


def known_bad_are_refused(documents):
    """The validator itself: a misspelt field in a Deployment's container and in a Cluster's
    backup must be refused, or a change of jsonschema or of the schemas made it accept anything."""
    problems = []
    for kind, path, field in (("Deployment", ("spec", "template", "spec", "containers", 0), "imagePullPolicyy"),
                              ("Cluster", ("spec", "backup", "barmanObjectStore"), "destinationpath")):
        sample = copy.deepcopy(next((d for d in documents if d["kind"] == kind), None))
        if sample is None:
            continue
        node = sample
        for step in path:
            node = node[step]
        node[field] = "x"
        if not validate([sample], "self-check"):
            problems.append(f"validate-k8s.py accepted a {kind} with the unknown field {field}: the schemas no longer close objects")
    return problems


def render_and_validate():
    """{overlay name: documents}, how they were rendered, and the problems found."""
    rendered, problems, how = {}, [], set()
    for overlay in overlays():
        try:
            documents, used = render(overlay)
        except RuntimeError as error:
            problems.append(str(error))
            continue
        how.add(used)
        rendered[overlay.name] = documents
        problems += validate(documents, f"overlay {overlay.name}")
    # The templates kept out of every kustomization (the Secrets, the restore runbook's Cluster)
    # are checked as an operator applies them.
    for template in sorted(k8s.glob("*.example.yaml")):
        problems += validate([d for d in yaml.safe_load_all(template.read_text()) if d], template.name)
    problems += known_bad_are_refused(next(iter(rendered.values()), []))
    return rendered, sorted(how), problems


if __name__ == "__main__":
    started = time.monotonic()
    rendered, how, problems = render_and_validate()
    if problems:
        print("k8s validation failed:\n- " + "\n- ".join(problems))
        sys.exit(1)
    count = sum(len(d) for d in rendered.values())
    kinds = sorted({d["kind"] for docs in rendered.values() for d in docs})
    print(f"k8s validation: the templates and {len(rendered)} overlays rendered ({', '.join(how)}"
          f"{'' if PYTHON in how else ', and the Python kustomize agrees'}), {count} objects "
          f"({', '.join(kinds)}) valid against Kubernetes 1.34 (strict) and CloudNativePG 1.30 "
          f"in {time.monotonic() - started:.1f} s")
