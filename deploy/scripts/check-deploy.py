#!/usr/bin/env python3
"""Static checks of docker-compose.yml and deploy/k8s, since no Docker engine or cluster runs
here: every executable is deployed in both, every variable they set is one the code reads,
every service gets the variables it cannot start without, and every overlay's centre is a
real division. And least privilege: in docker-compose only the gateway publishes a port, each
service logs in to PostgreSQL as its own role (deploy/postgres/roles.sql) and every secret is
a required variable; in k8s every container has resource requests and limits, secrets come
only from Secrets (secretKeyRef), ingress is denied by default and each service admits only
the gateway and the peers whose code calls it. Prints what it checked; exits 1 on the first
list of problems."""
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

# The image carries every executable and every service's bundled data (the divisions, the
# official calendar, the risk models, the indicator catalogue), without which a service fails
# at start.
dockerfile = (root / "deploy/Dockerfile").read_text()
for module in re.findall(r'module: "([A-Za-z]+)", executable: "[a-z-]+", resources:', package):
    if f"pingan_{module}.resources" not in dockerfile and "pingan_*.resources" not in dockerfile:
        problems.append(f"deploy/Dockerfile does not copy {module}'s resource bundle pingan_{module}.resources")
for exe in executables:
    if exe not in dockerfile:
        problems.append(f"deploy/Dockerfile does not build or copy {exe}")

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

# ---- Least privilege ----------------------------------------------------------------------
# Each executable's schema (its migrations' `static let schema`) names its database role, and
# its peers are the services whose URL its code asks the mesh for; the gateway calls them all.
def service_dir(exe):
    return exe.removesuffix("-service")
schemas, callees = {}, {}
for exe in executables:
    code = "\n".join(p.read_text() for p in (root / "Services" / service_dir(exe)).rglob("*.swift"))
    found = re.findall(r'static let schema = "([a-z_]+)"', code)
    if len(found) != 1:
        problems.append(f"{exe}: expected one `static let schema` in its sources, found {found}")
        continue
    schemas[exe] = found[0]
    callees[exe] = {f"{peer}-service" for peer in re.findall(r'\burl\(\s*\.([a-z]+)\s*\)', code)}
callees["gateway"] = {exe for exe in executables if exe != "gateway"}
callers = {exe: {c for c, called in callees.items() if exe in called} for exe in executables}
secret_name = re.compile(r"SECRET|PASSWORD|_TOKEN$|DATABASE_URL")  # not TOKEN_TTL_SECONDS
required_variable = re.compile(r"^\$\{[A-Z_]+:\?[^}]*\}$")

# docker-compose: the gateway is the only published port; one role per service; secrets are
# variables that must be set; the postgres image runs roles.sql, which creates every role.
roles_sql_path = root / "deploy/postgres/roles.sql"
roles_sql = roles_sql_path.read_text() if roles_sql_path.exists() else ""
if not roles_sql:
    problems.append("deploy/postgres/roles.sql is missing")
getenv = dict(re.findall(r"^\\getenv (\w+) (\w+)", roles_sql, re.M))
role_password_env = {role: getenv.get(var) for role, var in re.findall(r"^ALTER ROLE (pingan_\w+) .*PASSWORD :'(\w+)'", roles_sql, re.M)}
postgres = compose["services"].get("postgres", {})
postgres_env = postgres.get("environment", {})
if not any(str(v).startswith("./deploy/postgres/roles.sql:/docker-entrypoint-initdb.d/") for v in postgres.get("volumes", [])):
    problems.append("docker-compose does not mount deploy/postgres/roles.sql into postgres's /docker-entrypoint-initdb.d")
if not required_variable.match(str(postgres_env.get("POSTGRES_PASSWORD", ""))):
    problems.append("docker-compose: POSTGRES_PASSWORD must be a required variable (${NAME:?message}), not a literal")
for name, service in compose["services"].items():
    exe = service["entrypoint"][0].rsplit("/", 1)[-1] if "entrypoint" in service else name
    if "ports" in service and exe != "gateway":
        problems.append(f"docker-compose publishes ports of {name}; only the gateway may (the rest talk over the compose network)")
    if name == "postgres":
        continue
    env = service.get("environment", {})
    for var, value in env.items():
        if secret_name.search(var) and var != "DATABASE_URL" and not required_variable.match(str(value)):
            problems.append(f"docker-compose: {var} on {exe} must be a required variable (${{NAME:?message}}), not a literal")
    if exe not in schemas:
        continue
    role = f"pingan_{schemas[exe]}"
    url = re.match(r"^postgresql://([^:@/]+):(\$\{([A-Z_]+):\?[^}]*\})@", str(env.get("DATABASE_URL", "")))
    if not url:
        problems.append(f"docker-compose: {exe}'s DATABASE_URL must be postgresql://{role}:${{PASSWORD_VARIABLE:?message}}@...")
        continue
    if url.group(1) != role:
        problems.append(f"docker-compose: {exe} logs in as {url.group(1)}, not its own role {role}")
    if role_password_env.get(role) != url.group(3):
        problems.append(f"roles.sql does not set {role}'s password from {url.group(3)}, the variable in {exe}'s DATABASE_URL")
    if url.group(3) not in postgres_env:
        problems.append(f"docker-compose does not give postgres {url.group(3)}, which roles.sql needs for {role}")

# k8s: resources on every container; secrets only through secretKeyRef; the Secret template
# holds placeholders only; every base file is a resource.
def selects(selector, labels):
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, op, values = expression["key"], expression["operator"], expression.get("values") or []
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and labels.get(key) in values) \
                or (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True

deployments = {}  # exe -> (path, pod labels, container ports)
secret_refs = {}  # exe -> {variable: secret key}
for path, doc in documents:
    if doc.get("kind") != "Deployment":
        continue
    pod = doc["spec"]["template"]
    main = pod["spec"]["containers"][0]
    exe = main["command"][0].rsplit("/", 1)[-1]
    deployments[exe] = (path, pod["metadata"].get("labels", {}), {p["containerPort"] for p in main["ports"]})
    secret_refs[exe] = {}
    for container in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]:
        resources = container.get("resources") or {}
        for kind in ("requests", "limits"):
            if missing := {"cpu", "memory"} - set(resources.get(kind) or {}):
                problems.append(f"{path.name}: container {container['name']} has no {kind} for {sorted(missing)}")
        for env in container.get("env", []):
            if not secret_name.search(env["name"]):
                continue
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if "value" in env or not ref:
                problems.append(f"{path.name}: {env['name']} on {container['name']} must come from a Secret (valueFrom.secretKeyRef), not a literal")
            elif container is main:
                secret_refs[exe][env["name"]] = (ref["name"], ref["key"], ref.get("optional", False))
        for source in container.get("envFrom", []):
            if "secretRef" not in source and "configMapRef" not in source:
                problems.append(f"{path.name}: unexpected envFrom {source}")
for path, doc in documents:
    if doc.get("kind") == "ConfigMap" and (leaked := [k for k in doc.get("data", {}) if secret_name.search(k)]):
        problems.append(f"{path.name}: ConfigMap {doc['metadata']['name']} carries {leaked}; secrets belong in a Secret")
    if doc.get("kind") == "Kustomization":
        for generator in doc.get("configMapGenerator", []):
            if leaked := [item for item in generator.get("literals", []) if secret_name.search(item.split("=", 1)[0])]:
                problems.append(f"{path.relative_to(root)}: configMapGenerator carries {[i.split('=')[0] for i in leaked]}; secrets belong in a Secret")
        if doc.get("secretGenerator"):
            problems.append(f"{path.relative_to(root)}: secretGenerator would commit secrets; the operator creates pingan-secrets")
templates = {doc["metadata"]["name"]: (path, {**(doc.get("stringData") or {}), **(doc.get("data") or {})})
             for path, doc in documents if doc.get("kind") == "Secret"}
for name, (path, data) in templates.items():
    if real := [k for k, v in data.items() if "REPLACE" not in str(v)]:
        problems.append(f"{path.name}: Secret {name} holds {sorted(real)} without a REPLACE placeholder; never commit a real secret")
for exe, refs in secret_refs.items():
    path = deployments[exe][0]
    for variable in ("DATABASE_URL", "MESH_SECRET") + (("TOKEN_SECRET",) if exe == "gateway" else ()):
        if variable not in refs:
            problems.append(f"{path.name}: {variable} is not taken from a Secret")
    for variable, (secret, key, optional) in refs.items():
        template = templates.get(secret)
        if template is None:
            problems.append(f"{path.name}: Secret {secret} has no template under deploy/k8s (placeholders marked REPLACE)")
        elif key not in template[1] and not optional:
            problems.append(f"{path.name}: key {key} of Secret {secret} is missing from its template {template[0].name}")
        elif variable == "DATABASE_URL" and exe in schemas and key in template[1] \
                and not str(template[1][key]).startswith(f"postgresql://pingan_{schemas[exe]}:"):
            problems.append(f"{template[0].name}: {key} must log in as pingan_{schemas[exe]}, {exe}'s own role")
    if exe != "gateway" and "TOKEN_SECRET" in refs:
        problems.append(f"{path.name}: only the gateway needs TOKEN_SECRET")
database_keys = [refs["DATABASE_URL"][1] for refs in secret_refs.values() if "DATABASE_URL" in refs]
if len(database_keys) != len(set(database_keys)):
    problems.append(f"k8s services share a database URL key ({sorted(database_keys)}); each needs its own role")
listed = set(base["resources"])
for path in sorted((root / "deploy/k8s/base").glob("*.yaml")):
    if path.name != "kustomization.yaml" and path.name not in listed:
        problems.append(f"k8s base/{path.name} is not listed in base/kustomization.yaml resources")

# k8s NetworkPolicies: a default deny for every Pingan pod; the gateway open on its port; each
# service admitting, on its port, exactly the gateway and the peers whose code calls it.
policies = [(path, doc) for path, doc in documents if doc.get("kind") == "NetworkPolicy"]
def ingress_policy(doc):
    return "Ingress" in (doc["spec"].get("policyTypes") or ["Ingress"])
deny = [doc for _, doc in policies if ingress_policy(doc) and not doc["spec"].get("ingress")]
for exe, (path, labels, listening) in deployments.items():
    if not any(selects(doc["spec"].get("podSelector"), labels) for doc in deny):
        problems.append(f"k8s: no default-deny ingress NetworkPolicy selects {exe}'s pods")
    own = [doc for _, doc in policies if ingress_policy(doc) and doc["spec"].get("ingress")
           and selects(doc["spec"].get("podSelector"), labels)]
    if not own:
        problems.append(f"k8s: no NetworkPolicy admits ingress to {exe}")
        continue
    admitted, anyone = set(), False
    for doc in own:
        for rule in doc["spec"]["ingress"]:
            ports = {p.get("port") for p in rule.get("ports") or [{}]}
            if not ports <= listening:
                problems.append(f"k8s: NetworkPolicy {doc['metadata']['name']} admits ports {sorted(map(str, ports))} to {exe}, which listens on {sorted(listening)} only")
            if "from" not in rule:
                anyone = True
            for peer in rule.get("from", []):
                if set(peer) != {"podSelector"}:
                    problems.append(f"k8s: NetworkPolicy {doc['metadata']['name']} admits {peer} to {exe}; only Pingan pods by podSelector")
                    continue
                admitted |= {other for other, (_, other_labels, _) in deployments.items() if selects(peer["podSelector"], other_labels)}
    if exe == "gateway":
        if not anyone:
            problems.append("k8s: the gateway's NetworkPolicy must admit everyone on its port (it is the door)")
    elif anyone:
        problems.append(f"k8s: {exe} admits ingress from anywhere; only the gateway may")
    elif admitted != callers.get(exe, set()):
        problems.append(f"k8s: {exe} admits {sorted(admitted)}, but its callers in the code are {sorted(callers.get(exe, set()))}")

if problems:
    print("deploy check failed:\n- " + "\n- ".join(problems))
    sys.exit(1)
print(f"deploy check: {len(executables)} executables in docker-compose and k8s, "
      f"{len(overlays)} overlays, variables match the {len(read)} the code reads; "
      f"least privilege: one published port, one database role per service, secrets by reference, "
      f"{len(policies)} NetworkPolicies matching the calls in the code")
