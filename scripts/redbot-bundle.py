#!/usr/bin/env python3
"""Packs every file the venv's Python reads to run REDbot into one tar, for the guest.

Usage: <venv>/bin/python3 scripts/redbot-bundle.py OUT.tar   (scripts/setup.sh runs it)

The emulated guest reads the host's files over 9p at a high cost per file: importing REDbot
from the venv there takes over ten minutes (hundreds of files). Read as one tar it takes
about a minute. The tar holds the interpreter, its shared libraries and the compiled modules
that importing REDbot and the comparison script loads, under their absolute paths; the guest
unpacks it under a directory D and runs D/<interpreter> with PYTHONPATH set to D/<venv
site-packages> and then the original paths (a module missing from the bundle still loads,
more slowly). The tar's `bundle-paths.txt` names the interpreter, the site-packages and the
standard library directories, one a line.
"""

import importlib.util
import io
import os
import sys
import sysconfig
import tarfile


# Package data big enough to matter and read only in part: babel's locale data, of which
# the English and root locales (REDbot's notes format times in English) are kept.
SKIP_DATA = ("babel/locale-data/",)
KEEP_DATA = ("babel/locale-data/en", "babel/locale-data/root.")


def package_data(site, opened):
    """Data files (not code) of the site-packages packages that are loaded: read at run time
    relative to a module's __file__ (certifi's cacert.pem), so no fallback path finds them.
    Of SKIP_DATA only KEEP_DATA and what was opened here."""
    tops = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None) or ""
        if path.startswith(site + "/"):
            top = path[len(site) + 1 :].split("/")[0]
            if os.path.isdir(os.path.join(site, top)):
                tops.add(top)
    files = set()
    for top in tops:
        for dirpath, _, names in os.walk(os.path.join(site, top)):
            for name in names:
                path = os.path.join(dirpath, name)
                rel = path[len(site) + 1 :]
                if name.endswith((".py", ".pyc", ".so")) or "__pycache__" in rel:
                    continue
                if rel.startswith(SKIP_DATA) and not rel.startswith(KEEP_DATA) and path not in opened:
                    continue
                files.add(path)
    return files


def loaded_files():
    """The files of every loaded module (compiled form where there is one) and every
    shared object mapped into this process."""
    files = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not path or not os.path.isfile(path):
            continue
        files.add(os.path.abspath(path))
        if path.endswith(".py"):
            cached = importlib.util.cache_from_source(path)
            if os.path.isfile(cached):
                files.add(cached)
    with open("/proc/self/maps", encoding="utf-8") as maps:
        for line in maps:
            parts = line.split()
            if len(parts) >= 6 and parts[5].startswith("/") and ".so" in parts[5]:
                files.add(parts[5])
    files.add(os.path.realpath(sys.executable))
    return files


def run_paths():
    """(interpreter, site-packages, stdlib) as the bundle stores them."""
    paths = sysconfig.get_paths()
    return os.path.realpath(sys.executable), paths["purelib"], paths["stdlib"]


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    opened = set()

    def audit(event, args):
        if event == "open" and isinstance(args[0], str):
            opened.add(os.path.abspath(args[0]))

    sys.addaudithook(audit)
    # What redbot-diff.py imports, and what rendering a note loads on the way.
    import encodings.idna  # noqa: F401
    import thor  # noqa: F401
    import thor.http  # noqa: F401
    from httplint.note import levels  # noqa: F401
    from redbot.resource import HttpResource  # noqa: F401
    from redbot.resource.active_check.range import RANGE_FULL

    _ = RANGE_FULL("").summary
    import datetime

    from httplint.i18n import format_timedelta

    format_timedelta(datetime.timedelta(seconds=5))
    site = sysconfig.get_paths()["purelib"]
    found = loaded_files() | package_data(site, opened)
    files = sorted(found | {p for p in opened if os.path.isfile(p)})
    tmp = argv[1] + ".tmp"
    with tarfile.open(tmp, "w") as tar:
        for path in files:
            tar.add(path, arcname=path.lstrip("/"), recursive=False)
        # The interpreter finds its prefix by these landmarks.
        stdlib = sysconfig.get_paths()["stdlib"]
        for landmark in ("os.py", "lib-dynload"):
            path = os.path.join(stdlib, landmark)
            if os.path.exists(path) and path not in files:
                tar.add(path, arcname=path.lstrip("/"), recursive=False)
        listing = ("\n".join(run_paths()) + "\n").encode()
        info = tarfile.TarInfo("bundle-paths.txt")
        info.size = len(listing)
        tar.addfile(info, io.BytesIO(listing))
    os.replace(tmp, argv[1])
    size = os.path.getsize(argv[1])
    print(f"redbot-bundle: {len(files)} files, {size // (1 << 20)} MiB in {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
