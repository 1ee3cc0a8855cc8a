#!/usr/bin/python3
"""Build step: install the Redoc bundle that /docs serves, from the npm registry.

Usage: fetch_redoc.py redoc.lock.json OUT_DIR STAMP

Runs `npm pack NAME@VERSION` (npm's cache first, so a second build, or a new
build directory on the same machine, needs no network), checks the tarball's
sha512 against the lock file, and copies only the files the lock file names
into OUT_DIR. Quick when OUT_DIR already holds that version.

Never fails the build: without npm or the registry it says so on stderr and
leaves OUT_DIR without the bundle; /docs then answers 503 "docs assets not
installed" until a later build (or FLEETWARDEN_DOCS_DIR) provides them.
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile


def installed(lock, out_dir):
    try:
        with open(os.path.join(out_dir, ".installed"), encoding="utf-8") as f:
            have = f.read().strip()
    except OSError:
        return False
    want = f"{lock['package']}@{lock['version']} {lock['integrity']}"
    return have == want and all(os.path.exists(os.path.join(out_dir, n)) for n in lock["files"].values())


def npm_pack(lock, tmp):
    spec = f"{lock['package']}@{lock['version']}"
    r = subprocess.run(["npm", "pack", spec, "--pack-destination", tmp, "--json", "--prefer-offline",
                        "--fetch-retries=1", "--fetch-timeout=30000", "--loglevel=error"],
                       capture_output=True, text=True, timeout=300, cwd=tmp)
    if r.returncode != 0:
        raise RuntimeError(f"npm pack {spec} failed: {r.stderr.strip()[-500:]}")
    name = json.loads(r.stdout)[0]["filename"]
    return os.path.join(tmp, name)


def check_integrity(path, integrity):
    algo, want = integrity.split("-", 1)
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    if base64.b64encode(h.digest()).decode() != want:
        raise RuntimeError(f"{os.path.basename(path)}: integrity mismatch (want {integrity})")


def extract(lock, tgz, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with tarfile.open(tgz, "r:gz") as t:
        for member, dest in lock["files"].items():
            f = t.extractfile(t.getmember(member))
            tmp = os.path.join(out_dir, f".{dest}.tmp")
            with open(tmp, "wb") as out:
                shutil.copyfileobj(f, out)
            os.chmod(tmp, 0o644)
            os.replace(tmp, os.path.join(out_dir, dest))
    with open(os.path.join(out_dir, ".installed"), "w", encoding="utf-8") as f:
        f.write(f"{lock['package']}@{lock['version']} {lock['integrity']}\n")


def main():
    lock_path, out_dir, stamp = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(lock_path, encoding="utf-8") as f:
        lock = json.load(f)
    if not installed(lock, out_dir):
        try:
            if not shutil.which("npm"):
                raise RuntimeError("npm is not installed")
            with tempfile.TemporaryDirectory(prefix="fw-redoc-") as tmp:
                tgz = npm_pack(lock, tmp)
                check_integrity(tgz, lock["integrity"])
                extract(lock, tgz, out_dir)
            print(f"docs assets: installed {lock['package']}@{lock['version']} in {out_dir}", file=sys.stderr)
        except (OSError, RuntimeError, ValueError, KeyError, subprocess.TimeoutExpired, tarfile.TarError) as e:
            print(f"WARNING: docs assets not installed ({e}); /docs will answer 503", file=sys.stderr)
    with open(stamp, "w", encoding="utf-8") as f:
        f.write("ok\n" if installed(lock, out_dir) else "missing\n")


if __name__ == "__main__":
    main()
