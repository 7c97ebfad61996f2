"""The real toolchain's golang.org/toolchain module zip, built once and cached.

Building the module form of Debian's Go tree (goproxy_site.make_toolchain_zip) takes about a
minute on a quiet 2-core machine and several under load, so test_goproxy_route and scripts/bench
share one cached copy per compression level, next to the cached toolchain archive
(goinstall_harness.toolchain_archive), under a flock so parallel users build it once.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile

import goinstall_harness as h
import goproxy_site as gps

# Bumped when the cached module zip's layout or metadata changes (goproxy_site.py's own source is
# part of the fingerprint too, so a change to make_toolchain_zip rebuilds it).
_MODULE_CACHE_FORMAT = 1


def cached_toolchain_zip(archive, compresslevel: int = 9, log=lambda msg: None):
    """The golang.org/toolchain module form (goproxy_site.make_toolchain_zip, distpack's layout;
    Deflate at `compresslevel`, distpack's is 9) of the real toolchain `archive`: built once next
    to the archive in the harness's test cache (/dev/shm/goinstall-test-cache or
    $GOINSTALL_BUILD_DIR/test-cache), keyed by the archive's SHA-256, the level and
    goproxy_site.py's source, under the same kind of flock as the archive."""

    cache = os.path.dirname(os.path.abspath(archive.path))
    with open(gps.__file__, "rb") as f:
        fingerprint = (f"{_MODULE_CACHE_FORMAT}:{archive.sha256}:{compresslevel}:"
                       f"{hashlib.sha256(f.read()).hexdigest()}")
    base = os.path.join(cache, f"{archive.filename}.module{compresslevel}")
    zpath, mpath = base + ".zip", base + ".json"

    def load():
        try:
            with open(mpath, encoding="utf-8") as f:
                meta = json.load(f)
            st = os.stat(zpath)
            if (meta.get("fingerprint") != fingerprint or meta.get("size") != st.st_size
                    or meta.get("mtime_ns") != st.st_mtime_ns):
                return None
            with open(zpath, "rb") as f:
                data = f.read()
            with zipfile.ZipFile(zpath) as zf:
                names = zf.namelist()
        except (OSError, ValueError, zipfile.BadZipFile):
            return None
        return gps.ToolchainModule(
            go_version=meta["go_version"], goos=meta["goos"], goarch=meta["goarch"],
            version=meta["version"], zip=data, mod=meta["mod"].encode(), info=meta["info"].encode(),
            h1=meta["h1"], gomod_h1=meta["gomod_h1"], time=meta["time"], names=names)

    with h._FileLock(os.path.join(cache, ".toolchain-module.lock")):
        mod = load()
        if mod is not None:
            return mod
        log("building the toolchain's module zip (once; then cached next to the archive)...")
        t = time.monotonic()
        mod = gps.make_toolchain_zip(archive, compresslevel=compresslevel)
        tmp = f"{zpath}.tmp.{os.getpid()}"
        try:
            with open(tmp, "wb") as f:
                f.write(mod.zip)
            os.replace(tmp, zpath)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        st = os.stat(zpath)
        meta = {"fingerprint": fingerprint, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                "go_version": mod.go_version, "goos": mod.goos, "goarch": mod.goarch,
                "version": mod.version, "mod": mod.mod.decode(), "info": mod.info.decode(),
                "h1": mod.h1, "gomod_h1": mod.gomod_h1, "time": mod.time,
                "build_seconds": round(time.monotonic() - t, 1)}
        tmp = f"{mpath}.tmp.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1)
        os.replace(tmp, mpath)
        log(f"built {zpath} ({st.st_size / 1e6:.1f} MB, {len(mod.names)} entries) in "
            f"{meta['build_seconds']:.1f} s")
        return mod
