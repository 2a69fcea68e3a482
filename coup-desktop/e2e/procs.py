"""The desktop app's processes and their memory: PSS from
/proc/<pid>/smaps_rollup, summed over the app and every process under it
(WebKit's web and network processes)."""

import os


def ours(pid):
    """Whether an app process is this run's (its data dir is under $COUP_E2E_WORK):
    another run's app on the same machine must not be counted."""
    work = os.environ.get("COUP_E2E_WORK")
    if not work:
        return True
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f"COUP_DESKTOP_DATA_DIR={work}/app".encode() in f.read().split(b"\0")
    except OSError:
        return False


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def app_processes():
    """The app and every process under it (WebKit's web and network processes)."""
    parents = {}
    names = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            names[int(entry)] = stat[stat.index("(") + 1:stat.rindex(")")]
            parents[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
    roots = [pid for pid, name in names.items() if name == "coup-desktop" and ours(pid)]
    found = set(roots)
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                changed = True
    return sorted((pid, names[pid]) for pid in found)


def memory_line(label):
    """(total KiB, a line naming each process's MiB) for the app's processes now."""
    procs = app_processes()
    each = [(name, pss_kib(pid)) for pid, name in procs]
    total = sum(k for _, k in each)
    parts = ", ".join(f"{name} {k / 1024:.0f}" for name, k in each)
    return total, f"{label}: {total / 1024:.1f} MiB PSS over {len(procs)} processes ({parts})"
