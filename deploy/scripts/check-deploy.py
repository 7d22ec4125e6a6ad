#!/usr/bin/env python3
"""Static checks of docker-compose.yml and deploy/k8s, since no Docker engine or cluster runs
here: every executable is deployed in both, every variable they set is one the code reads,
every service gets the variables it cannot start without, and every overlay's centre is a
real division. And least privilege: in docker-compose only the gateway publishes a port, each
service logs in to PostgreSQL as its own role (deploy/postgres/roles.sql) and every secret is
a required variable; in k8s every container has resource requests and limits, secrets come
only from Secrets (secretKeyRef), ingress is denied by default and each service admits only
the gateway and the peers whose code calls it. And, on every overlay as rendered
(validate-k8s.py: kubectl kustomize, or its own kustomize): every object valid against the
vendored Kubernetes and CloudNativePG schemas, an autoscaler and a disruption budget per service
that select its pods only, the Ingress to the gateway only with TLS and TRUSTED_PROXIES set,
images tagged with VERSION (never latest), and the PostgreSQL Cluster with a standby, the roles
of roles.sql, backups of its own and connections for every replica. Prints what it checked;
exits 1 on the first list of problems."""
import csv
import importlib.util
import ipaddress
import pathlib
import re
import sys
import time

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
# What roles.sql grants each role on the database, which the Kubernetes cluster must grant too.
database_grant = (re.findall(r"^SELECT format\('GRANT ([A-Z, ]+) ON DATABASE", roles_sql, re.M) or ["CONNECT, CREATE"])[0]
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
secret_types = {doc["metadata"]["name"]: doc.get("type", "Opaque") for _, doc in documents if doc.get("kind") == "Secret"}
for name, (path, data) in templates.items():
    # A basic-auth Secret's username is a role's name, not a secret.
    public = {"username"} if secret_types[name] == "kubernetes.io/basic-auth" else set()
    if real := [k for k, v in data.items() if "REPLACE" not in str(v) and k not in public]:
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

# ---- Rendered overlays ---------------------------------------------------------------------
# Every overlay is rendered (kubectl kustomize, or validate-k8s.py's own kustomize) and every
# object validated against the vendored Kubernetes and CloudNativePG schemas; then what a schema
# cannot see: each Deployment has exactly one HorizontalPodAutoscaler and one
# PodDisruptionBudget that select its pods and no other's, the Ingress routes to the gateway
# only and the gateway trusts the proxy's X-Forwarded-For, images carry the release's tag, and
# the PostgreSQL Cluster declares the roles of roles.sql, backs up, and has connections enough.
validator_spec = importlib.util.spec_from_file_location("validate_k8s", root / "deploy/scripts/validate-k8s.py")
validate_k8s = importlib.util.module_from_spec(validator_spec)
validator_spec.loader.exec_module(validate_k8s)
started = time.monotonic()
rendered, rendered_by, schema_problems = validate_k8s.render_and_validate()
problems += schema_problems
version_path = root / "VERSION"
version = version_path.read_text().strip() if version_path.exists() else None
if not version or not re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", version):
    problems.append(f"VERSION must hold the release as MAJOR.MINOR.PATCH, not {version!r}")
for path, doc in documents:
    for container in ((doc.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers", []) if doc.get("kind") == "Deployment" else []:
        if container.get("image", "").endswith(":latest"):
            problems.append(f"{path.name}: {container['name']} uses {container['image']}; tag images by version (overlays' images:)")
# roles.sql's ALTER ROLE lines, as CloudNativePG's role attributes: {role: {"login": True, "superuser": False, ...}}.
sql_role_flags = {role: {flag: f" {flag.upper()}" in f" {words.upper()}" for flag in ("login", "superuser", "createdb", "createrole", "replication", "bypassrls")}
                  for role, words in re.findall(r"^ALTER ROLE (pingan_\w+)\s+WITH ([A-Z ]+)", roles_sql, re.M)}
roles_in_sql = set(sql_role_flags)
backup_paths = {}
for overlay, docs in rendered.items():
    where = f"overlay {overlay}"
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    rendered_deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}
    pod_labels = {name: d["spec"]["template"]["metadata"].get("labels", {}) for name, d in rendered_deployments.items()}
    hpas, pdbs = by_kind.get("HorizontalPodAutoscaler", []), by_kind.get("PodDisruptionBudget", [])
    config_data = next((d.get("data", {}) for d in by_kind.get("ConfigMap", []) if d["metadata"]["name"] == "pingan-config"), {})
    pool_size = int(config_data.get("DB_POOL_SIZE") or 8)
    most_replicas = 0
    for name, deployment in rendered_deployments.items():
        if "replicas" in deployment["spec"]:
            problems.append(f"{where}: Deployment {name} sets replicas; its HorizontalPodAutoscaler owns the count")
        for container in deployment["spec"]["template"]["spec"].get("containers", []) + deployment["spec"]["template"]["spec"].get("initContainers", []):
            image_name, tag = validate_k8s.split_image(container["image"])
            if not tag:
                problems.append(f"{where}: {name} runs {container['image']} untagged; tag it with the release (images: newTag)")
            elif tag == ":latest":
                problems.append(f"{where}: {name} runs {container['image']}; never latest, tag it with the release")
            elif tag.startswith(":") and version and tag[1:] != version:
                problems.append(f"{where}: {name} runs {container['image']}, but VERSION is {version}")
        scalers = [h for h in hpas if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}]
        if len(scalers) != 1:
            problems.append(f"{where}: Deployment {name} has {len(scalers)} HorizontalPodAutoscalers, not one")
        else:
            hpa = scalers[0]["spec"]
            low, high = hpa.get("minReplicas", 1), hpa["maxReplicas"]
            most_replicas += high
            if low < 2 or high < low:
                problems.append(f"{where}: HorizontalPodAutoscaler {name} scales {low} to {high}; at least 2, so a drain or a crash leaves one serving")
            cpu = [m for m in hpa.get("metrics", []) if m.get("type") == "Resource" and m["resource"]["name"] == "cpu"
                   and m["resource"]["target"].get("type") == "Utilization"]
            if not cpu or not 50 <= cpu[0]["resource"]["target"].get("averageUtilization", 0) <= 90:
                problems.append(f"{where}: HorizontalPodAutoscaler {name} must scale on CPU utilisation between 50% and 90%")
            if not all(c.get("resources", {}).get("requests", {}).get("cpu") for c in deployment["spec"]["template"]["spec"]["containers"]):
                problems.append(f"{where}: {name} scales on CPU utilisation but a container requests no CPU")
        budgets = [b for b in pdbs if selects(b["spec"].get("selector"), pod_labels[name])]
        if len(budgets) != 1:
            problems.append(f"{where}: {len(budgets)} PodDisruptionBudgets select {name}'s pods, not one")
        else:
            budget = budgets[0]["spec"]
            if others := [o for o, labels in pod_labels.items() if o != name and selects(budget.get("selector"), labels)]:
                problems.append(f"{where}: PodDisruptionBudget {budgets[0]['metadata']['name']} also selects {others}")
            floor = scalers[0]["spec"].get("minReplicas", 1) if len(scalers) == 1 else 1
            if "maxUnavailable" in budget:
                if not isinstance(budget["maxUnavailable"], int) or budget["maxUnavailable"] < 1:
                    problems.append(f"{where}: PodDisruptionBudget of {name}: maxUnavailable must be a count of at least 1")
            elif not isinstance(budget.get("minAvailable"), int) or not 1 <= budget["minAvailable"] < floor:
                problems.append(f"{where}: PodDisruptionBudget of {name}: minAvailable must be at least 1 and below minReplicas {floor}, or a drain never ends")
    for hpa in hpas:
        if hpa["spec"]["scaleTargetRef"].get("name") not in rendered_deployments:
            problems.append(f"{where}: HorizontalPodAutoscaler {hpa['metadata']['name']} scales {hpa['spec']['scaleTargetRef']}, which is not deployed")
    for budget in pdbs:
        if not any(selects(budget["spec"].get("selector"), labels) for labels in pod_labels.values()):
            problems.append(f"{where}: PodDisruptionBudget {budget['metadata']['name']} selects no Pingan pods")

    # The Ingress: to the gateway's Service only, over TLS for every host; the gateway then trusts
    # the controller's X-Forwarded-For (TRUSTED_PROXIES, valid as the gateway parses it).
    services = {d["metadata"]["name"]: d for d in by_kind.get("Service", [])}
    ingresses = by_kind.get("Ingress", [])
    if not ingresses:
        problems.append(f"{where}: no Ingress reaches the gateway")
    for ingress in ingresses:
        spec = ingress["spec"]
        backends = [spec["defaultBackend"]] if "defaultBackend" in spec else []
        hosts = set()
        for rule in spec.get("rules", []):
            hosts.add(rule.get("host"))
            backends += [path["backend"] for path in rule.get("http", {}).get("paths", [])]
        for backend in backends:
            service = (backend.get("service") or {})
            if service.get("name") != "gateway":
                problems.append(f"{where}: Ingress {ingress['metadata']['name']} routes to {backend}; only the gateway is reachable from outside")
                continue
            ports = services.get("gateway", {}).get("spec", {}).get("ports", [])
            wanted = service.get("port", {})
            if not any(wanted.get("name") == p.get("name") or wanted.get("number") == p.get("port") for p in ports):
                problems.append(f"{where}: Ingress {ingress['metadata']['name']} names port {wanted}, which the gateway Service does not have")
        covered = {h for tls in spec.get("tls", []) if tls.get("secretName") for h in tls.get("hosts", [])}
        if None in hosts or hosts - covered:
            problems.append(f"{where}: Ingress {ingress['metadata']['name']} serves {sorted(map(str, hosts - covered))} without TLS (tls: hosts and secretName)")
    if ingresses:
        trusted = [entry.strip() for entry in config_data.get("TRUSTED_PROXIES", "").split(",") if entry.strip()]
        if not trusted:
            problems.append(f"{where}: behind an Ingress the gateway needs TRUSTED_PROXIES (the controller's range), or every caller is the controller")
        for entry in trusted:
            try:
                ipaddress.ip_network(entry, strict=True)
            except ValueError as error:
                problems.append(f"{where}: TRUSTED_PROXIES entry {entry!r} would stop the gateway: {error}")

    # PostgreSQL: one CloudNativePG Cluster with a standby, the six roles of roles.sql with their
    # attributes and passwords, the services' URLs at its read-write Service, backups to an
    # object store path of this overlay's own, and connections for every replica's pool.
    clusters = by_kind.get("Cluster", [])
    if len(clusters) != 1:
        problems.append(f"{where}: {len(clusters)} PostgreSQL Clusters, not one")
        continue
    cluster = clusters[0]
    spec, cluster_name = cluster["spec"], cluster["metadata"]["name"]
    if spec.get("instances", 1) < 2:
        problems.append(f"{where}: Cluster {cluster_name} runs {spec.get('instances', 1)} instance; a standby is needed for failover")
    initdb = spec.get("bootstrap", {}).get("initdb", {})
    database = initdb.get("database", "app")
    managed = {r["name"]: r for r in spec.get("managed", {}).get("roles", [])}
    login_roles = {name for name, r in managed.items() if r.get("login")}
    if login_roles != roles_in_sql:
        problems.append(f"{where}: Cluster {cluster_name} manages login roles {sorted(login_roles)}, roles.sql makes {sorted(roles_in_sql)}")
    grants = " ".join(initdb.get("postInitApplicationSQL", []))
    for name in sorted(login_roles & roles_in_sql):
        role = managed[name]
        if wrong := {flag: role.get(flag, False) for flag, wanted in sql_role_flags[name].items() if role.get(flag, False) != wanted}:
            problems.append(f"{where}: role {name} has {wrong}, unlike roles.sql's {sql_role_flags[name]}")
        groups = role.get("inRoles", [])
        if not any(re.search(rf"GRANT {database_grant} ON DATABASE {database} TO {group}\b", grants) for group in groups + [name]):
            problems.append(f"{where}: role {name} gets no {database_grant} on database {database} (postInitApplicationSQL), as roles.sql grants: its schema and the imports' staging tables need them")
        secret = (role.get("passwordSecret") or {}).get("name")
        template = templates.get(secret)
        if not secret or template is None:
            problems.append(f"{where}: role {name}'s passwordSecret {secret} has no template in pingan-secrets.example.yaml")
        elif secret_types.get(secret) != "kubernetes.io/basic-auth" or template[1].get("username") != name:
            problems.append(f"{where}: Secret {secret} must be kubernetes.io/basic-auth with username {name}")
    if "REVOKE ALL ON DATABASE" not in grants:
        problems.append(f"{where}: Cluster {cluster_name} lets PUBLIC connect (roles.sql revokes it)")
    for exe, refs in secret_refs.items():
        if "DATABASE_URL" not in refs or refs["DATABASE_URL"][1] not in templates.get(refs["DATABASE_URL"][0], (None, {}))[1]:
            continue
        url = str(templates[refs["DATABASE_URL"][0]][1][refs["DATABASE_URL"][1]])
        parsed = re.match(r"postgresql://([^:@/]+):([^@]*)@([^:/?]+)(?::(\d+))?/([^?]+)", url)
        if not parsed or parsed.group(3) != f"{cluster_name}-rw" or parsed.group(5) != database:
            problems.append(f"pingan-secrets.example.yaml: {exe}'s DATABASE_URL must reach {cluster_name}-rw (the primary, after any failover) and database {database}, not {url}")
        elif (secret := (managed.get(parsed.group(1), {}).get("passwordSecret") or {}).get("name")) in templates \
                and templates[secret][1].get("password") != parsed.group(2):
            problems.append(f"pingan-secrets.example.yaml: {exe}'s DATABASE_URL and Secret {secret} must carry the same password")
    store = spec.get("backup", {}).get("barmanObjectStore")
    if not store:
        problems.append(f"{where}: Cluster {cluster_name} has no backup to an object store (backup.barmanObjectStore)")
    else:
        path = store.get("destinationPath", "")
        if "REPLACE" in path:
            problems.append(f"{where}: set this overlay's own backup destinationPath (a patch), not {path}")
        if path in backup_paths:
            problems.append(f"{where}: backs up to {path}, as overlay {backup_paths[path]} does; each cluster needs its own archive")
        backup_paths[path] = overlay
        for credential in (store.get("s3Credentials") or {}).values():
            if isinstance(credential, dict) and credential.get("key") not in templates.get(credential.get("name"), (None, {}))[1]:
                problems.append(f"{where}: backup credential {credential} has no template in pingan-secrets.example.yaml")
    if not any(b["spec"]["cluster"]["name"] == cluster_name for b in by_kind.get("ScheduledBackup", [])):
        problems.append(f"{where}: no ScheduledBackup takes base backups of {cluster_name}")
    connections = int(spec.get("postgresql", {}).get("parameters", {}).get("max_connections", 100))
    if most_replicas * pool_size + 20 > connections:
        problems.append(f"{where}: at every maxReplicas the pools open {most_replicas} x {pool_size} connections; "
                        f"{cluster_name}'s max_connections {connections} leaves less than 20 for the operator and people")
deploy_objects = sum(len(d) for d in rendered.values())
deploy_seconds = time.monotonic() - started

problems = list(dict.fromkeys(problems))  # a file's problem is found once per overlay
if problems:
    print("deploy check failed:\n- " + "\n- ".join(problems))
    sys.exit(1)
print(f"deploy check: {len(executables)} executables in docker-compose and k8s, "
      f"{len(overlays)} overlays, variables match the {len(read)} the code reads; "
      f"least privilege: one published port, one database role per service, secrets by reference, "
      f"{len(policies)} NetworkPolicies matching the calls in the code; rendered with {' and '.join(rendered_by)}{'' if validate_k8s.PYTHON in rendered_by else ' (the Python kustomize agrees)'}: "
      f"{deploy_objects} objects valid against Kubernetes 1.34 and CloudNativePG 1.30 schemas, an autoscaler and a "
      f"disruption budget per service, the Ingress to the gateway only, images tagged {version}, "
      f"the Cluster's roles as roles.sql's ({deploy_seconds:.1f} s)")
