"""Find a Java runtime that Spark 4 can use (17 or 21, full JDK/JRE with jdk.incubator.vector)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from journey.errors import JourneyError

SUPPORTED_MAJORS = (17, 21)
INSTALL_HINT = (
    "Spark 4 needs Java 17 or 21: on Debian/Ubuntu run "
    "`apt-get install openjdk-17-jre-headless`, or set JAVA_HOME to a JDK 17/21"
)


class JavaNotFoundError(JourneyError):
    """No usable Java runtime was found."""


@dataclass(frozen=True)
class JavaRuntime:
    """A Java runtime Spark can start."""

    java: Path
    home: Path
    major: int


def _candidates(environ: dict[str, str]) -> list[Path]:
    """java binaries to try: $JAVA_HOME/bin/java first, then the one on PATH."""
    found = []
    if environ.get("JAVA_HOME"):
        found.append(Path(environ["JAVA_HOME"]) / "bin" / "java")
    on_path = shutil.which("java", path=environ.get("PATH"))
    if on_path:
        found.append(Path(on_path).resolve())
    return [p for p in found if p.exists()]


def _java_output(java: Path, flag: str) -> str:
    """stdout + stderr of `java <flag>`, empty when it cannot run."""
    try:
        done = subprocess.run([str(java), flag], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout + done.stderr


def _major_version(java: Path) -> int | None:
    """Major version printed by `java -version`, or None if it cannot be read."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', _java_output(java, "-version"))
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def _has_vector_module(java: Path) -> bool:
    """True when the runtime ships jdk.incubator.vector (trimmed runtimes do not)."""
    return "jdk.incubator.vector" in _java_output(java, "--list-modules")


def find_java(environ: dict[str, str] | None = None) -> JavaRuntime:
    """Return the first usable Java runtime or raise JavaNotFoundError with the install hint."""
    env = dict(os.environ if environ is None else environ)
    problems = []
    for java in _candidates(env):
        major = _major_version(java)
        if major not in SUPPORTED_MAJORS:
            problems.append(f"{java} is Java {major}")
        elif not _has_vector_module(java):
            problems.append(f"{java} lacks the jdk.incubator.vector module")
        else:
            return JavaRuntime(java=java, home=java.parent.parent, major=major)
    seen = f" (found: {'; '.join(problems)})" if problems else ""
    raise JavaNotFoundError(INSTALL_HINT + seen)


def ensure_java_home() -> JavaRuntime:
    """Find Java and export JAVA_HOME so spark-submit and PySpark use that runtime."""
    runtime = find_java()
    os.environ["JAVA_HOME"] = str(runtime.home)
    return runtime


def main() -> int:
    """`python -m journey.runtime.javacheck`: one line, exit 1 when no usable Java is found."""
    try:
        runtime = find_java()
    except JavaNotFoundError as exc:
        print(f"error: {exc}")
        return 1
    print(f"Java {runtime.major} at {runtime.home}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
