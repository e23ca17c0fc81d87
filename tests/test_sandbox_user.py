"""The sandbox as an ordinary user: a snippet sees nothing of the user's files (issue 23).

CI runs as root, so `test_as_an_ordinary_user` creates a throwaway account whose home holds the
kind of files a user keeps (an SSH key, cloud credentials, ``.netrc``, an ``.env`` file, a
ScholarsCircle archive, a mode-600 token; some world-readable on purpose), then runs this file,
the attack suite and the leak tests *as that user*, and ``langgames doctor`` too. The other tests
here run as whoever runs pytest: as root they check the same home, made in a temp dir.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from langgames.registry import make_game
from langgames.tools import PythonTool, tool_call
from langgames.verifiers import asuser
from langgames.verifiers.python import FILE_LAYERS, PythonSandbox, userns_support

SECRET = "LGSECRET-5b0e1c7d"  # noqa: S105 - a marker string, not a credential
ROOT = Path(__file__).resolve().parent.parent
# (path under the home, mode): some private, some readable by everyone: all must stay unreadable.
SECRET_FILES = {
    ".ssh/id_rsa": 0o600,
    ".aws/credentials": 0o600,
    ".netrc": 0o600,
    ".env": 0o644,
    ".secret_token": 0o600,
    "scholars/circle-archive.jsonl": 0o644,  # a fake ScholarsCircle archive
    "project/.env": 0o644,
}


def make_secret_home(home: Path, uid: int = -1, gid: int = -1) -> None:
    for relative, mode in SECRET_FILES.items():
        path = home / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{relative}: {SECRET}\n")
        path.chmod(mode)
    if uid >= 0:
        for path in [home, *home.rglob("*")]:
            os.chown(path, uid, gid)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    given = os.environ.get("LANGGAMES_TEST_HOME")
    if given:  # run by test_as_an_ordinary_user: the real home of the throwaway user
        return Path(given)
    home = tmp_path_factory.mktemp("home")
    make_secret_home(home)
    return home


def snoop(home: Path) -> str:
    """A snippet that tries every way we know to reach the user's files and prints what it got."""
    paths = [str(home / relative) for relative in SECRET_FILES]
    return textwrap.dedent(
        f"""
        import glob, os
        got = []
        def read(path):
            try:
                with open(path, "rb") as fh:
                    got.append(path + " READ " + fh.read(4096).decode("utf-8", "replace"))
            except OSError as exc:
                got.append(path + " " + type(exc).__name__)
        for path in {paths!r}:
            read(path)
            read("/proc/self/root" + path)
            read("/proc/1/root" + path)
            read("/proc/self/cwd/" + os.path.basename(path))
        for directory in ({str(home)!r}, os.path.dirname({str(home)!r}), "/home", "/root", "/var",
                          "/run", "/etc", os.path.expanduser("~")):
            try:
                got.append(directory + " LIST " + ",".join(sorted(os.listdir(directory))))
            except OSError as exc:
                got.append(directory + " " + type(exc).__name__)
        for pattern in ("/home/*/.*", "/root/.*", "/home/*/*/*", "/tmp/*", "/work/*"):
            got.append(pattern + " GLOB " + ",".join(glob.glob(pattern)))
        print("\\n".join(got))
        """
    )


def check_snoop_output(out: str, home: Path) -> None:
    assert SECRET not in out, out
    assert " READ " not in out, out
    listed = [line for line in out.splitlines() if " LIST " in line]
    tops = {relative.split("/")[0] for relative in SECRET_FILES}
    for line in listed:
        names = set(line.split(" LIST ", 1)[1].split(","))
        assert not names & tops, line
    assert str(home) + " LIST" not in out  # the home itself is not there at all


def test_snippets_cannot_read_the_users_files(home):
    with PythonSandbox(workers=1, timeout=5.0) as box:
        report = {row["layer"]: row for row in box.isolation_report()}
        missing = [name for name in FILE_LAYERS if not report[name]["active"]]
        if missing:
            pytest.skip(f"file-protecting layers missing here: {missing}: "
                        f"{[report[name]['detail'] for name in missing]}")  # fmt: skip
        result = box.run(snoop(home))
        assert result.ok, result
        check_snoop_output(result.stdout + result.stderr, home)
        assert result.details["isolation_missing"] == [] or not (
            set(FILE_LAYERS) & set(result.details["isolation_missing"])
        )


def test_the_python_tool_cannot_put_the_users_files_into_an_observation(home):
    env = PythonTool(make_game("langgames/BaseConvert-v0"), timeout=5.0)
    try:
        layers = {row["layer"]: row["active"] for row in env.sandbox.isolation_report()}
        if not all(layers[name] for name in FILE_LAYERS):
            pytest.skip(f"file-protecting layers missing here: {layers}")
        obs, _ = env.reset(seed=0)
        obs, reward, terminated, truncated, info = env.step(tool_call(snoop(home)))
        assert info["tool"]["status"] == "ok", info["tool"]
        assert SECRET not in obs and " READ " not in obs
        check_snoop_output(info["tool"]["output"], home)
    finally:
        env.close()


def test_as_an_ordinary_user(tmp_path):
    """Run this file, the attack suite, the leak tests and `langgames doctor` as a new user."""
    reason = asuser.unavailable_reason()
    if reason:
        pytest.skip(reason)
    available, detail = userns_support()
    if available is False:  # as root this says None; check what an ordinary user would get
        pytest.skip(f"LOUD SKIP: {detail}")
    unreadable = [
        str(path)
        for path in (ROOT / "verifiers" / "python.py", ROOT / "langgames" / "tools.py")
        if not path.stat().st_mode & 0o004
    ]
    assert not unreadable, (
        f"{unreadable} cannot be read by an ordinary user (the checkout was made with a umask "
        "such as 077): clone with umask 022 so that the ordinary-user tests can import the project"
    )
    with asuser.ordinary_user() as user:
        home = Path(user.home)
        make_secret_home(home, user.uid, user.gid)
        env = {"LANGGAMES_TEST_HOME": user.home}
        doctor = subprocess.run(
            asuser.command_as(user, [sys.executable, "-m", "langgames.cli", "doctor"],
                              reach=[str(ROOT)], env=env),
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        for layer in FILE_LAYERS:
            assert f"[active ] {layer}:" in doctor.stdout, doctor.stdout
        assert "WARNING" not in doctor.stdout, doctor.stdout
        tests = [
            str(ROOT / "tests" / name)
            for name in ("test_sandbox_user.py", "test_sandbox_attacks.py", "test_sandbox_leaks.py")
        ]
        argv = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                f"--basetemp={home / 'pytest'}", "-k",
                "not test_as_an_ordinary_user and not never_reach_the_worker",  # root-only
                f"--rootdir={ROOT}", *tests]  # fmt: skip
        run = subprocess.run(
            asuser.command_as(user, argv, reach=[str(ROOT)], env=env),
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        output = run.stdout + run.stderr
        assert run.returncode == 0, output[-6000:]
        assert "passed" in output and "SKIPPED" not in output, output[-6000:]
        assert SECRET not in output
        summary = json.dumps({"user": user.name, "tail": output.strip().splitlines()[-1]})
        print(summary)


def test_without_namespaces_every_result_and_doctor_say_so_loudly(monkeypatch):
    from langgames import cli
    from langgames.verifiers import python as sandbox_module

    monkeypatch.setattr(sandbox_module, "_warned", set())
    box = PythonSandbox(workers=1, namespaces=False)
    with pytest.warns(sandbox_module.SandboxIsolationWarning, match="NAMESPACES=1"):
        box.start()
    try:
        details = box.run("print(1)").details
        assert {"namespaces", "minimal_filesystem"} <= set(details["isolation_missing"])
        assert "LANGGAMES_SANDBOX_NAMESPACES=1" in details["isolation_warning"]
        report = box.isolation_report()
    finally:
        box.close()
    monkeypatch.setattr(sandbox_module, "isolation_report", lambda: report)
    out = io.StringIO()
    assert cli.main(["doctor"], out=out) == 0
    text = out.getvalue()
    assert "[MISSING] minimal_filesystem:" in text and "WARNING" in text
    assert "LANGGAMES_SANDBOX_NAMESPACES=1" in text


def test_strict_mode_refuses_to_run_without_bubblewrap(monkeypatch):
    from langgames.verifiers.python import SandboxUnavailable

    monkeypatch.setenv("LANGGAMES_SANDBOX_NAMESPACES", "1")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        PythonSandbox(workers=1).start()
