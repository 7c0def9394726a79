#!/usr/bin/env python3
"""REDbot (the HTTP linter) on the same paths of two servers; fails if it finds a problem on
the first that it does not find on the second.

Usage: redbot-diff.py OURS_BASE PEER_BASE PATH[|Header: value]...
  e.g. redbot-diff.py http://127.0.0.1:8081 http://127.0.0.1:8082 /a.txt '/a.txt|Range: bytes=0-9'

Each path is checked the way `redbot URL` checks it (the request, then REDbot's own range,
conditional and negotiation sub-requests). A problem is a note of level `warning` or `bad`,
named by its note class (e.g. RANGE_FULL): its wording may differ between servers, its class
may not. A sub-request REDbot could not complete (RANGE_SUBREQ_PROBLEM and its kin, which
REDbot rates only `info`) is a problem too: a server that resets every Range or conditional
request must not pass by giving REDbot nothing to judge. Every note of both servers is
printed; the exit status is 1 if a problem of OURS is missing from PEER for the same path,
if the two answer a path with different status codes, or if either fetch failed.
Run with the project venv's python (scripts/setup.sh installs redbot there).
"""

import os
import sys
from configparser import ConfigParser

import thor
from httplint.note import levels
from redbot.resource import HttpResource
from redbot.resource.fetch import RedFetcher, RedHttpClient

# The emulated guest can take longer than REDbot's 30 s connect and 60 s read timeouts to run
# the loop that reads (its Python is slow there, the servers are not): wait as long as a check.
CHECK_SECS = int(os.environ.get("REDBOT_CHECK_SECS", "600"))


def fresh_client():
    """A new HTTP client for every check. thor's client frees its connections and their slots
    only at the first stop of the loop (`loop.once("stop")`), and connects still in progress
    at that stop keep their slot: reused for a second check, the client ran out of its 6
    connections per origin and the check waited for a read timeout (against nginx too)."""
    client = RedHttpClient()
    client.connect_timeout = CHECK_SECS
    client.read_timeout = CHECK_SECS
    RedFetcher.client = client

PROBLEMS = (levels.WARN.value, levels.BAD.value)


def is_problem(name, level):
    """A warning, a bad note, or a sub-request that could not be checked."""
    return level in PROBLEMS or name.endswith("_SUBREQ_PROBLEM")


def config():
    parser = ConfigParser()
    # Loopback targets only; REDbot refuses local addresses unless this is set (as its CLI does).
    parser.read_dict({"redbot": {"enable_local_access": "True"}})
    return parser["redbot"]


def check(url, headers):
    """(status, notes) of one REDbot check; notes is a list of (class name, level, summary).
    Checks run one after another on thor's loop, which drops its connections when stopped."""
    fresh_client()
    resource = HttpResource(config(), descend=False)
    resource.set_request(url, headers=headers)

    @thor.events.on(resource)
    def check_done():
        thor.stop()

    # A server that never answers must not hang the test; stop() also cancels this.
    thor.schedule(CHECK_SECS + 60, thor.stop)
    resource.check()
    thor.run()
    if not resource.check_done or not resource.response.complete:
        err = resource.fetch_error.desc if resource.fetch_error else "no complete response"
        raise RuntimeError(f"{url}: {err}")
    notes = []
    for note in resource.response.notes:
        for n in [note, *note.subnotes]:
            notes.append((type(n).__name__, n.level.value, n.summary))
    return resource.response.status_code, notes


def parse_path(arg):
    path, _, header = arg.partition("|")
    headers = []
    if header:
        name, _, value = header.partition(":")
        headers.append((name.strip(), value.strip()))
    return path, headers


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    ours, peer, paths = argv[1].rstrip("/"), argv[2].rstrip("/"), argv[3:]
    bad = 0
    for arg in paths:
        path, headers = parse_path(arg)
        shown = path + (f" [{headers[0][0]}: {headers[0][1]}]" if headers else "")
        results = []
        for base in (ours, peer):
            try:
                results.append(check(base + path, headers))
            except Exception as e:  # pylint: disable=broad-exception-caught
                print(f"redbot {shown}: fetch failed: {e}", flush=True)
                results.append((None, []))
        (ours_status, ours_notes), (peer_status, peer_notes) = results
        if ours_status is None or peer_status is None:
            for name, level, summary in ours_notes:
                print(f"  {'ours':9} {level:7} {name}: {summary}")
            bad += 1
            continue
        print(f"redbot {shown}: ours {ours_status}, peer {peer_status}", flush=True)
        if ours_status != peer_status:
            print(f"  ONLY OURS status {ours_status} where the peer answers {peer_status}")
            bad += 1
        peer_problems = {(n, lvl) for (n, lvl, _) in peer_notes if is_problem(n, lvl)}
        for name, level, summary in ours_notes:
            extra = is_problem(name, level) and (name, level) not in peer_problems
            mark = "ONLY OURS" if extra else "ours"
            print(f"  {mark:9} {level:7} {name}: {summary}")
            bad += extra
        ours_names = {n for (n, _, _) in ours_notes}
        for name, level, summary in peer_notes:
            if name not in ours_names:
                print(f"  {'peer':9} {level:7} {name}: {summary}")
    print(f"redbot: {bad} problem(s) on ours that the peer does not have")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
