"""orchestrator.translate on services built by the real loader from YAML
snippets: each mapped key's place in the create body, each refusal's
message, and compose v2's labels. Expected values follow Docker Compose
v2.40.3's pkg/compose/create.go (read, not run: `up --dry-run` shows no
bodies)."""
from __future__ import annotations

import textwrap

import pytest

from orchestrator import naming, translate
from orchestrator.config.load import load_project
from orchestrator.config.sources import Options
from orchestrator.translate import Context, Unresolved, Unsupported

TOP = """\
networks:
  front:
  back:
volumes:
  data:
secrets:
  token: {file: ./token.txt}
  env_secret: {environment: TOKEN}
configs:
  app: {file: ./app.conf}
  inline: {content: hello}
"""


def project_of(root, service: str, top: str = TOP):
    (root / "token.txt").write_text("t")
    (root / "app.conf").write_text("c")
    text = "name: p\nservices:\n  web:\n" + textwrap.indent(textwrap.dedent(service), "    ")
    text += "  other:\n    image: busybox\n" + top
    (root / "compose.yaml").write_text(text)
    return load_project(Options(cwd=str(root), environ={"TOKEN": "x"}))


def context_of(project, containers=None) -> Context:
    doc = project.render("json", escape=False)
    return Context(project=project.name, working_dir=project.working_dir,
                   config_files=project.config_files,
                   networks={k: v["name"] for k, v in (doc.get("networks") or {}).items()},
                   volumes={k: v["name"] for k, v in (doc.get("volumes") or {}).items()},
                   containers=containers if containers is not None else {"other": "p-other-1"},
                   secrets=doc.get("secrets") or {}, configs=doc.get("configs") or {},
                   environment=project.environment)


def build(root, service: str, *, containers=None, **options) -> dict:
    project = project_of(root, service)
    svc = project.render("json", escape=False)["services"]["web"]
    options.setdefault("number", 1)
    options.setdefault("name", f"{project.name}-web-1")
    options.setdefault("config_hash", "h")
    return translate.create_body(context_of(project, containers), "web", svc, **options)


def dig(body: dict, path: str):
    value = body
    for part in path.split("."):
        value = value[part]
    return value


BASE = "image: nginx\n"

MAPPED = [
    # Config
    ("command: [a, b]", "Cmd", ["a", "b"]),
    ("command: echo hi", "Cmd", ["echo", "hi"]),
    ("entrypoint: /bin/sh -c", "Entrypoint", ["/bin/sh", "-c"]),
    ("entrypoint: []", "Entrypoint", []),  # compose sends [] (the image's entrypoint is dropped)
    ("environment: {A: '1', B: null, C: ''}", "Env", ["A=1", "C="]),
    ("environment: [A=1, B]", "Env", ["A=1"]),
    ("working_dir: /app", "WorkingDir", "/app"),
    ("user: '1000:1000'", "User", "1000:1000"),
    ("hostname: h", "Hostname", "h"),
    ("domainname: example.com", "Domainname", "example.com"),
    ("tty: true", "Tty", True),
    ("stdin_open: true", "OpenStdin", True),
    ("stop_signal: SIGINT", "StopSignal", "SIGINT"),
    ("stop_grace_period: 1m30s", "StopTimeout", 90),
    ("stop_grace_period: 1500ms", "StopTimeout", 1),  # compose truncates to whole seconds
    ("expose: ['3000', '4000-4001/udp']", "ExposedPorts", {"3000/tcp": {}, "4000/udp": {}, "4001/udp": {}}),
    (("healthcheck: {test: curl -f localhost, interval: 10s, timeout: 5s, start_period: 1m,"
      " start_interval: 2s, retries: 3}"), "Healthcheck",
     {"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 10 * 10**9, "Timeout": 5 * 10**9,
      "StartPeriod": 60 * 10**9, "StartInterval": 2 * 10**9, "Retries": 3}),
    ("healthcheck: {test: [CMD, 'true']}", "Healthcheck.Test", ["CMD", "true"]),
    ("healthcheck: {disable: true}", "Healthcheck.Test", ["NONE"]),
    ("healthcheck: {interval: 1m30s}", "Healthcheck",
     {"Interval": 90 * 10**9, "Timeout": 0, "StartPeriod": 0, "StartInterval": 0, "Retries": 0}),
    # HostConfig
    ("init: true", "HostConfig.Init", True),
    ("privileged: true", "HostConfig.Privileged", True),
    ("read_only: true", "HostConfig.ReadonlyRootfs", True),
    ("cap_add: [NET_ADMIN]", "HostConfig.CapAdd", ["NET_ADMIN"]),
    ("cap_drop: [ALL]", "HostConfig.CapDrop", ["ALL"]),
    ("security_opt: ['no-new-privileges:true', seccomp=unconfined]", "HostConfig.SecurityOpt",
     ["no-new-privileges:true", "seccomp=unconfined"]),
    ("sysctls: {net.core.somaxconn: 1024}", "HostConfig.Sysctls", {"net.core.somaxconn": "1024"}),
    ("sysctls: [net.ipv4.ip_forward=1]", "HostConfig.Sysctls", {"net.ipv4.ip_forward": "1"}),
    ("ulimits: {nproc: 65535, nofile: {soft: 10, hard: 20}}", "HostConfig.Ulimits",
     [{"Name": "nofile", "Soft": 10, "Hard": 20}, {"Name": "nproc", "Soft": 65535, "Hard": 65535}]),
    ("shm_size: 64m", "HostConfig.ShmSize", 64 * 2**20),
    ("shm_size: 1024", "HostConfig.ShmSize", 1024),
    ("mem_limit: 1g", "HostConfig.Memory", 2**30),
    ("memswap_limit: 2g", "HostConfig.MemorySwap", 2 * 2**30),
    ("memswap_limit: -1", "HostConfig.MemorySwap", -1),
    ("cpus: 1.5", "HostConfig.NanoCpus", 1_500_000_000),
    ("cpus: 0.1", "HostConfig.NanoCpus", 100_000_000),
    ("cpu_shares: 512", "HostConfig.CpuShares", 512),
    ("cpuset: '0-1'", "HostConfig.CpusetCpus", "0-1"),
    ("pids_limit: 100", "HostConfig.PidsLimit", 100),
    ("blkio_config: {weight: 300}", "HostConfig.BlkioWeight", 300),
    ("dns: 1.1.1.1", "HostConfig.Dns", ["1.1.1.1"]),
    ("dns_search: [example.com]", "HostConfig.DnsSearch", ["example.com"]),
    ("dns_opt: ['ndots:1']", "HostConfig.DnsOptions", ["ndots:1"]),
    ("extra_hosts: ['a:1.2.3.4', 'b=5.6.7.8']", "HostConfig.ExtraHosts", ["a:1.2.3.4", "b:5.6.7.8"]),
    ("extra_hosts: {c: [1.2.3.4, '::1']}", "HostConfig.ExtraHosts", ["c:1.2.3.4", "c:::1"]),
    ("group_add: [audio, 100]", "HostConfig.GroupAdd", ["audio", "100"]),
    ("tmpfs: ['/tmp:size=64m,mode=1777', /run]", "HostConfig.Tmpfs",
     {"/tmp": "size=64m,mode=1777", "/run": ""}),
    ("logging: {driver: json-file, options: {max-size: 10m, max-file: 3}}", "HostConfig.LogConfig",
     {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}),
    ("logging: {options: {max-size: 1m}}", "HostConfig.LogConfig", {"Type": "json-file", "Config": {"max-size": "1m"}}),
    # restart, and deploy.restart_policy which wins over it
    ("restart: always", "HostConfig.RestartPolicy", {"Name": "always", "MaximumRetryCount": 0}),
    ("restart: 'no'", "HostConfig.RestartPolicy", {"Name": "no", "MaximumRetryCount": 0}),
    ("restart: unless-stopped", "HostConfig.RestartPolicy", {"Name": "unless-stopped", "MaximumRetryCount": 0}),
    ("restart: on-failure:3", "HostConfig.RestartPolicy", {"Name": "on-failure", "MaximumRetryCount": 3}),
    ("restart: always\ndeploy: {restart_policy: {condition: on-failure, max_attempts: 4}}",
     "HostConfig.RestartPolicy", {"Name": "on-failure", "MaximumRetryCount": 4}),
    ("deploy: {restart_policy: {condition: any}}", "HostConfig.RestartPolicy",
     {"Name": "always", "MaximumRetryCount": 0}),
    ("deploy: {restart_policy: {condition: none}}", "HostConfig.RestartPolicy",
     {"Name": "no", "MaximumRetryCount": 0}),
    # deploy limits
    ("deploy: {resources: {limits: {cpus: '0.5'}}}", "HostConfig.NanoCpus", 500_000_000),
    ("deploy: {resources: {limits: {memory: 512M}}}", "HostConfig.Memory", 512 * 2**20),
    ("deploy: {resources: {limits: {pids: 50}}}", "HostConfig.PidsLimit", 50),
    ("deploy: {replicas: 3, resources: {reservations: {}}}", "HostConfig.NetworkMode", "p_default"),
    # ports: ExposedPorts and PortBindings
    ("ports: ['8080:80']", "HostConfig.PortBindings", {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}),
    ("ports: ['127.0.0.1:9000-9001:9000-9001/udp']", "HostConfig.PortBindings",
     {"9000/udp": [{"HostIp": "127.0.0.1", "HostPort": "9000"}],
      "9001/udp": [{"HostIp": "127.0.0.1", "HostPort": "9001"}]}),
    ("ports: ['8000-8010:80']", "HostConfig.PortBindings", {"80/tcp": [{"HostIp": "", "HostPort": "8000-8010"}]}),
    ("ports: ['5000', '8080:5000']", "HostConfig.PortBindings",
     {"5000/tcp": [{"HostIp": "", "HostPort": ""}, {"HostIp": "", "HostPort": "8080"}]}),
    ("ports: ['8080:80']\nexpose: ['90']", "ExposedPorts", {"90/tcp": {}, "80/tcp": {}}),
    ("ports: [{target: 80, published: '8080', mode: host, name: web, app_protocol: http}]",
     "HostConfig.PortBindings", {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}),
    # network_mode
    ("network_mode: host", "HostConfig.NetworkMode", "host"),
    ("network_mode: none", "HostConfig.NetworkMode", "none"),
    ("network_mode: bridge", "HostConfig.NetworkMode", "bridge"),
    ("network_mode: container:abc", "HostConfig.NetworkMode", "container:abc"),
    ("network_mode: service:other", "HostConfig.NetworkMode", "container:p-other-1"),
]


@pytest.mark.parametrize("snippet, path, expected", MAPPED, ids=[m[0][:50] for m in MAPPED])
def test_mapped_key(tmp_path, snippet, path, expected):
    assert dig(build(tmp_path, BASE + snippet + "\n"), path) == expected


def test_minimal_service(tmp_path):
    body = build(tmp_path, BASE)
    labels = body.pop("Labels")
    assert body == {
        "Image": "nginx", "Tty": False, "OpenStdin": False, "StdinOnce": False,
        "AttachStdin": False, "AttachStdout": True, "AttachStderr": True,
        "HostConfig": {"NetworkMode": "p_default"},
        "NetworkingConfig": {"EndpointsConfig": {"p_default": {
            "Aliases": ["p-web-1", "web"]}}},
    }
    assert labels[translate.LABEL + "service"] == "web"


def test_null_command_and_entrypoint_are_left_to_the_image(tmp_path):
    body = build(tmp_path, BASE)
    assert "Cmd" not in body and "Entrypoint" not in body and "Healthcheck" not in body


def test_image_of_a_service_without_one(tmp_path):
    body = build(tmp_path, "build: .\n")
    assert body["Image"] == "p-web"


def test_relative_seccomp_profile_is_made_absolute(tmp_path):
    body = build(tmp_path, BASE + "security_opt: ['seccomp:profile.json']\n")
    assert body["HostConfig"]["SecurityOpt"] == [f"seccomp={tmp_path}/profile.json"]


# -- volumes, secrets, configs ----------------------------------------------------------------

def test_volumes_binds_and_mounts_as_compose(tmp_path):
    p = "p"
    body = build(tmp_path, BASE + """\
volumes:
  - ./src:/src:ro
  - data:/data
  - data:/nocopy:nocopy
  - /anon
  - /host:/shared:rshared
  - {type: bind, source: ./strict, target: /strict, bind: {create_host_path: false}}
  - {type: bind, source: ./plain, target: /plain}
  - {type: tmpfs, target: /t, read_only: true, tmpfs: {size: 10m, mode: 0755}}
""")
    host = body["HostConfig"]
    # compose: the Binds API while it can express the volume (it creates a missing host path)
    assert host["Binds"] == [f"{tmp_path}/src:/src:ro", f"{p}_data:/data:rw", f"{tmp_path}/plain:/plain:rw"]
    assert host["Mounts"] == [
        {"Type": "volume", "Target": "/nocopy", "Source": f"{p}_data", "VolumeOptions": {"NoCopy": True}},
        {"Type": "volume", "Target": "/anon"},
        {"Type": "bind", "Target": "/shared", "Source": "/host",
         "BindOptions": {"Propagation": "rshared", "CreateMountpoint": True}},
        {"Type": "bind", "Target": "/strict", "Source": f"{tmp_path}/strict"},
        {"Type": "tmpfs", "Target": "/t", "ReadOnly": True,
         "TmpfsOptions": {"SizeBytes": 10 * 2**20, "Mode": 0o755}},
    ]


def test_file_secrets_and_configs_are_read_only_binds(tmp_path):
    body = build(tmp_path, BASE + """\
secrets: [token, {source: token, target: other}, {source: token, target: /etc/token}]
configs: [app, {source: app, target: etc/app.conf}]
""")
    def bind(source, target):
        return {"Type": "bind", "Source": f"{tmp_path}/{source}", "Target": target, "ReadOnly": True}
    assert body["HostConfig"]["Mounts"] == [
        bind("token.txt", "/run/secrets/token"), bind("token.txt", "/run/secrets/other"),
        bind("token.txt", "/etc/token"), bind("app.conf", "/app"), bind("app.conf", "/etc/app.conf")]


def test_a_volume_wins_over_a_secret_at_the_same_target(tmp_path):
    body = build(tmp_path, BASE + "volumes: ['./mine:/run/secrets/token']\nsecrets: [token]\n")
    assert body["HostConfig"]["Binds"] == [f"{tmp_path}/mine:/run/secrets/token:rw"]
    assert "Mounts" not in body["HostConfig"] or body["HostConfig"]["Mounts"] == []


# -- networks ------------------------------------------------------------------------------------

def test_networks_by_priority_then_name_with_aliases(tmp_path):
    p = "p"
    project = project_of(tmp_path, BASE + """\
networks:
  back: {aliases: [api], ipv4_address: 10.5.0.5}
  front: {priority: 10}
""", TOP.replace("  back:\n", "  back:\n    ipam: {config: [{subnet: 10.5.0.0/24}]}\n"))
    svc = project.render("json", escape=False)["services"]["web"]
    body = translate.create_body(context_of(project), "web", svc, number=2, name=f"{p}-web-2", config_hash="h")
    assert body["HostConfig"]["NetworkMode"] == f"{p}_front"
    endpoints = body["NetworkingConfig"]["EndpointsConfig"]
    assert list(endpoints) == [f"{p}_front", f"{p}_back"]
    assert endpoints[f"{p}_front"] == {"Aliases": [f"{p}-web-2", "web"]}
    assert endpoints[f"{p}_back"] == {"Aliases": [f"{p}-web-2", "web", "api"],
                                      "IPAMConfig": {"IPv4Address": "10.5.0.5"}}


def test_network_mode_leaves_no_networking_config(tmp_path):
    body = build(tmp_path, BASE + "network_mode: host\n")
    assert "NetworkingConfig" not in body


def test_oneoff_has_no_restart_no_number_and_only_its_name_as_alias(tmp_path):
    name = "p-web-run-0123456789ab"
    body = build(tmp_path, BASE + "restart: always\n", oneoff=True, name=name, slug="0123456789abcdef")
    assert "RestartPolicy" not in body["HostConfig"]
    assert body["NetworkingConfig"]["EndpointsConfig"]["p_default"] == {"Aliases": [name]}
    labels = body["Labels"]
    assert labels["com.docker.compose.oneoff"] == "True"
    assert labels["com.docker.compose.slug"] == "0123456789abcdef"
    assert "com.docker.compose.container-number" not in labels


# -- labels ----------------------------------------------------------------------------------------

def test_labels_exactly_as_compose(tmp_path):
    project = project_of(tmp_path, BASE + """\
labels: {mine: x, com.docker.compose.project: evil}
depends_on:
  other: {condition: service_healthy, restart: true}
""")
    svc = project.render("json", escape=False)["services"]["web"]
    body = translate.create_body(context_of(project), "web", svc, number=3, name="n",
                                 config_hash=naming.config_hash(svc), image_id="sha256:abc")
    assert body["Labels"] == {
        "mine": "x",
        "com.docker.compose.project": "p",  # compose's own labels win
        "com.docker.compose.service": "web",
        "com.docker.compose.version": "2.40.3",
        "com.docker.compose.project.working_dir": str(tmp_path),
        "com.docker.compose.project.config_files": f"{tmp_path}/compose.yaml",
        "com.docker.compose.oneoff": "False",
        "com.docker.compose.image": "sha256:abc",
        "com.docker.compose.config-hash": naming.config_hash(svc),
        "com.docker.compose.container-number": "3",
        "com.docker.compose.depends_on": "other:service_healthy:true",
    }


@pytest.mark.parametrize("snippet, label", [
    ("", ""),
    ("depends_on: [other]", "other:service_started:false"),
    ("network_mode: service:other", "other:service_started:true"),  # implied by compose's loader
    ("links: [other]", "other:service_started:true"),
])
def test_depends_on_label(tmp_path, snippet, label):
    project = project_of(tmp_path, BASE + snippet + "\n")
    svc = project.render("json", escape=False)["services"]["web"]
    assert translate.dependencies_label(svc) == label


def test_explicit_depends_on_label_and_several_config_files(tmp_path):
    project = project_of(tmp_path, BASE)
    ctx = context_of(project)
    ctx = Context(**{**ctx.__dict__, "config_files": ["/a/compose.yaml", "/a/override.yaml"]})
    got = translate.labels(ctx, "web", {"labels": {"a": "b"}}, number=1, oneoff=False,
                           config_hash="h", depends_on_label="db:service_started:false")
    assert got["com.docker.compose.project.config_files"] == "/a/compose.yaml,/a/override.yaml"
    assert got["com.docker.compose.depends_on"] == "db:service_started:false"
    assert got["a"] == "b"


# -- refusals ----------------------------------------------------------------------------------------

def fix(extra: str = "") -> str:
    return f" is not supported by the Dockyard engine yet ({extra}{translate.FIX})"


REFUSED = [
    (key_yaml, f'service web: "{key}"' + fix())
    for key, key_yaml in [
        ("volumes_from", "volumes_from: [other]"), ("ipc", "ipc: host"), ("pid", "pid: host"),
        ("uts", "uts: host"), ("userns_mode", "userns_mode: host"), ("cgroup", "cgroup: host"),
        ("cgroup_parent", "cgroup_parent: x"), ("devices", "devices: ['/dev/null:/dev/null']"),
        ("device_cgroup_rules", "device_cgroup_rules: ['c 1:3 mr']"), ("gpus", "gpus: all"),
        ("runtime", "runtime: runc"), ("isolation", "isolation: default"),
        ("mac_address", "mac_address: 02:42:ac:11:00:02"), ("cpu_quota", "cpu_quota: 50000"),
        ("cpu_period", "cpu_period: 100000"), ("cpu_rt_period", "cpu_rt_period: 1000"),
        ("cpu_rt_runtime", "cpu_rt_runtime: 1000"), ("cpu_count", "cpu_count: 2"),
        ("cpu_percent", "cpu_percent: 50"), ("oom_kill_disable", "oom_kill_disable: true"),
        ("oom_score_adj", "oom_score_adj: 100"), ("mem_reservation", "mem_reservation: 1g"),
        ("mem_swappiness", "mem_swappiness: 10"), ("storage_opt", "storage_opt: {size: 1G}"),
        ("annotations", "annotations: {a: b}"), ("use_api_socket", "use_api_socket: true"),
        ("post_start", "post_start: [{command: 'true'}]"), ("pre_stop", "pre_stop: [{command: 'true'}]"),
    ]
] + [
    ("links: [other]", 'service web: "links"' + fix(
        "Dockyard's engine has no links: reach the service by its name, every network resolves it; ")),
    ("external_links: [x]", 'service web: "external_links"' + fix("Dockyard's engine has no links; ")),
    ("logging: {driver: syslog}", 'service web: "logging.driver" "syslog"' + fix("json-file only; ")),
    ("logging: {options: {compress: 'true'}}", 'service web: "logging.options.compress"' + fix()),
    ("security_opt: ['apparmor=unconfined']", 'service web: "security_opt[0]" "apparmor=unconfined"'
     + fix("no-new-privileges and seccomp are; ")),
    ("security_opt: ['label:disable']", 'service web: "security_opt[0]" "label:disable"'
     + fix("no-new-privileges and seccomp are; ")),
    ("network_mode: disabled", 'service web: "network_mode" "disabled"'
     + fix("use host, none, bridge, service:NAME or container:NAME; ")),
    ("networks: {front: {ipv6_address: 'fd00::5'}}", 'service web: "networks.front.ipv6_address"' + fix()),
    ("networks: {front: {mac_address: '02:42:ac:11:00:02'}}", 'service web: "networks.front.mac_address"' + fix()),
    ("networks: {front: {interface_name: eth5}}", 'service web: "networks.front.interface_name"' + fix()),
    ("networks: {front: {link_local_ips: [169.254.1.1]}}", 'service web: "networks.front.link_local_ips"' + fix()),
    ("networks: {front: {driver_opts: {a: b}}}", 'service web: "networks.front.driver_opts"' + fix()),
    ("ports: ['8080:80/sctp']", 'service web: "ports[0].protocol" "sctp"' + fix("tcp or udp; ")),
    ("ports: ['[::1]:8080:80']", 'service web: "ports[0].host_ip" "::1"' + fix("IPv4 addresses only; ")),
    ("expose: ['80/sctp']", 'service web: "expose[0]" "sctp"' + fix("tcp or udp; ")),
    ("volumes: [{type: volume, source: data, target: /d, volume: {subpath: x}}]",
     'service web: "volumes[0].volume.subpath"' + fix()),
    ("volumes: ['./x:/x:z']", 'service web: "volumes[0].bind.selinux"' + fix()),
    ("volumes: [{type: bind, source: ., target: /x, bind: {recursive: disabled}}]",
     'service web: "volumes[0].bind.recursive"' + fix()),
    ("volumes: [{type: image, source: alpine, target: /i}]",
     'service web: "volumes[0].type" "image"' + fix("bind, volume or tmpfs; ")),
    ("volumes: [{type: tmpfs, target: /t, volume: {nocopy: true}}]",
     ('service web: "volumes[0].volume" is not supported by the Dockyard engine yet '
      '(a tmpfs mount has no volume options)')),
    ("blkio_config: {device_read_bps: [{path: /dev/sda, rate: 1mb}]}",
     'service web: "blkio_config.device_read_bps"' + fix()),
    ("deploy: {resources: {reservations: {memory: 1g}}}",
     'service web: "deploy.resources.reservations.memory"' + fix()),
    ("deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}",
     'service web: "deploy.resources.reservations.devices"' + fix()),
    ("deploy: {restart_policy: {condition: on-failure, delay: 5s}}",
     'service web: "deploy.restart_policy.delay"' + fix()),
    ("deploy: {restart_policy: {condition: on-failure, window: 5s}}",
     'service web: "deploy.restart_policy.window"' + fix()),
    ("deploy: {mode: global}", 'service web: "deploy.mode" "global"' + fix()),
    ("secrets: [{source: token, uid: '1000'}]", 'service web: "secrets[0].uid" "1000"'
     + fix("the file is mounted read-only as it is; ")),
    ("configs: [{source: app, mode: 0600}]", 'service web: "configs[0].mode" "0600"'
     + fix("the file is mounted read-only as it is; ")),
    ("secrets: [env_secret]", 'service web: "secrets[0]" "env_secret"'
     + fix("it is from an environment variable: only file-based secrets are; ")),
    ("configs: [inline]", 'service web: "configs[0]" "inline"'
     + fix("it is inline content: only file-based configs are; ")),
    ("platform: windows/amd64", 'service web: "platform" "windows/amd64"'
     + fix(f"this machine runs {translate.HOST_PLATFORM}; ")),
    ("healthcheck: {test: 'true', start_interval: 1s}",
     'service web: "healthcheck.start_interval" requires "healthcheck.start_period" to be set'),
]


@pytest.mark.parametrize("snippet, message", REFUSED, ids=[r[0][:50] for r in REFUSED])
def test_refused(tmp_path, snippet, message):
    with pytest.raises(Unsupported) as caught:
        build(tmp_path, BASE + snippet + "\n")
    assert caught.value.problems == [message]


def test_every_problem_at_once(tmp_path):
    with pytest.raises(Unsupported) as caught:
        build(tmp_path, BASE + "ipc: host\npid: host\nlogging: {driver: syslog}\nsecrets: [env_secret]\n")
    assert [p.split('"')[1] for p in caught.value.problems] == ["ipc", "logging.driver", "pid", "secrets[0]"]
    assert str(caught.value) == "\n".join(caught.value.problems)


def test_unsupported_alone_needs_no_context():
    service = {"image": "x", "ipc": "host", "oom_score_adj": 0, "cpu_count": None, "x-mine": 1,
               "made_up": True, "privileged": False}
    assert translate.unsupported("web", service) == [
        f'service web: "ipc"{fix()}',
        f'service web: "made_up" is not a service key Dockyard knows ({translate.FIX})',
    ]


def test_ignored_keys_are_no_problem(tmp_path):
    body = build(tmp_path, BASE + """\
container_name: custom
pull_policy: always
depends_on: [other]
develop: {watch: [{path: ., action: rebuild}]}
deploy: {placement: {constraints: [node.role==manager]}, labels: {a: b}, endpoint_mode: vip}
""", oneoff=False)
    assert body["Image"] == "nginx"


def test_scale_and_replicas_are_the_orchestrators(tmp_path):
    body = build(tmp_path, BASE + "scale: 2\ndeploy: {replicas: 2, mode: replicated}\n")
    assert body["Image"] == "nginx"


def test_keys_table_covers_the_compose_service_schema():
    from orchestrator.config.model_service import Service
    assert set(Service.model_fields) - {"extra"} <= set(translate.KEYS)


# -- references the context lacks ------------------------------------------------------------------------

def test_missing_container_for_service_network_mode(tmp_path):
    with pytest.raises(Unresolved) as caught:
        build(tmp_path, BASE + "network_mode: service:other\n", containers={})
    assert caught.value.problems == [
        "service web: cannot share network namespace with service other: container missing"]


def test_missing_network_and_volume(tmp_path):
    project = project_of(tmp_path, BASE + "volumes: ['data:/d']\n")
    svc = project.render("json", escape=False)["services"]["web"]
    ctx = Context(**{**context_of(project).__dict__, "networks": {}, "volumes": {}})
    with pytest.raises(Unresolved) as caught:
        translate.create_body(ctx, "web", svc, number=1, name="n", config_hash="h")
    assert caught.value.problems == [
        'service web: volume "data" is not among the project\'s volumes',
        'service web: network "default" is not among the project\'s networks',
    ]


# -- conversions ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, ns", [("1m30s", 90 * 10**9), ("500ms", 5 * 10**8), ("1h", 3600 * 10**9),
                                      ("1.5s", 15 * 10**8), ("10us", 10_000), ("0s", 0), ("2h45m0.5s",
                                                                                          (2 * 3600 + 45 * 60) * 10**9 + 5 * 10**8)])
def test_duration_ns(text, ns):
    assert translate.duration_ns(text) == ns


@pytest.mark.parametrize("value, size", [("1073741824", 2**30), (1024, 1024), ("64m", 64 * 2**20),
                                         ("1g", 2**30), ("512M", 512 * 2**20), ("-1", -1)])
def test_size_bytes(value, size):
    assert translate.size_bytes(value) == size
