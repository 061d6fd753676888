import subprocess, pytest, time, json
pytestmark = pytest.mark.root
COMPOSE = "/work/main/.venv/lib/python3.11/site-packages/compose/docker-compose"
from tests.e2e.test_flags_root import UP_STACK

def test_scratch(project):
    project.write(UP_STACK.replace("{name}", project.name + "c"))
    env = {**project.daemon.env}
    def c(*a):
        t = time.monotonic()
        d = subprocess.run([COMPOSE, "-p", project.name + "c", *a], cwd=project.directory, env=env, capture_output=True, timeout=120)
        print("ARGS", a, d.returncode, round(time.monotonic() - t, 2), "\nOUT:", d.stdout.decode(), "\nERR:", d.stderr.decode())
    def st():
        for n in ("db-1", "app-1", "app-2"):
            i = json.loads(project.daemon.docker("inspect", f"{project.name}c-{n}").stdout)[0]
            print(n, i["Id"][:12], i["State"]["StartedAt"])
    c("up", "-d")
    st()
    project.write(UP_STACK.replace("{name}", project.name + "c").replace('VERSION: "1"', 'VERSION: "2"'))
    c("up", "-d")
    st()
    c("up", "-d", "--always-recreate-deps", "app")
    st()
    c("down", "-t", "0", "--remove-orphans")
    assert 0
