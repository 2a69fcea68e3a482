"""The desktop app's processes and their memory: PSS from
/proc/<pid>/smaps_rollup, summed over the app and every process under it
(WebKit's web and network processes), and where each process's PSS is, from
/proc/<pid>/smaps (`breakdown`)."""

import os
import re


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


def rollup_kib(pid, field):
    """One field of /proc/<pid>/smaps_rollup, in KiB (0 once the process is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kib(pid):
    return rollup_kib(pid, "Pss")


def private_kib(pid):
    """Pages only this process maps (USS): unlike PSS, the same whether or not
    other WebKit processes run on the machine."""
    return rollup_kib(pid, "Private_Clean") + rollup_kib(pid, "Private_Dirty")


def process_table():
    """({pid: parent pid}, {pid: name}) of every process now."""
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
    return parents, names


def app_processes():
    """The app and every process under it (WebKit's web and network processes)."""
    parents, names = process_table()
    roots = [pid for pid, name in names.items() if name == "coup-desktop" and ours(pid)]
    return tree(roots, parents, names)


def tree(roots, parents, names):
    """The processes `roots` and every process under them, as (pid, name)."""
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
    private = sum(private_kib(pid) for pid, _ in procs)
    parts = ", ".join(f"{name} {k / 1024:.0f}" for name, k in each)
    return total, f"{label}: {total / 1024:.1f} MiB PSS over {len(procs)} processes ({parts}); private {private / 1024:.1f} MiB"


def kind_of(path):
    """What a mapping is, by its pathname in smaps: a library by its name (the
    version dropped), the brk heap, anonymous memory, shared memory, fonts, or
    another file."""
    if not path:
        return "anon"
    if path in ("[heap]", "[stack]"):
        return path
    if path.startswith("["):
        return "[kernel]"
    if path.startswith(("/memfd:", "/dev/shm", "/SYSV")) or " (deleted)" in path:
        return "shared memory"
    name = os.path.basename(path)
    if re.search(r"\.(ttf|otf|ttc|pcf|pfb)(\.gz)?$", name, re.I) or "fontconfig" in path:
        return "fonts"
    if ".so" in name:
        return re.sub(r"\.so(\.[0-9.]+)?$", ".so", name)
    if os.access(path, os.X_OK) and not os.path.isdir(path):
        return name
    return "other files"


def breakdown(pid):
    """{kind: [PSS KiB, private dirty KiB]} for one process, from its smaps (a
    library's private dirty pages are its relocated data and copy-on-write
    writes, counted under the library)."""
    out = {}
    kind = None
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                head = line.split(None, 5)
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    kind = kind_of(head[5].strip() if len(head) > 5 else "")
                    out.setdefault(kind, [0, 0])
                elif head[0] == "Pss:":
                    out[kind][0] += int(head[1])
                elif head[0] == "Private_Dirty:":
                    out[kind][1] += int(head[1])
    except OSError:
        pass
    return out


def breakdown_lines(processes=None, top=12):
    """Lines naming, for each of the app's processes (or `processes`), its PSS
    split into anon vs. file-backed and its largest kinds of mapping (PSS /
    private dirty, MiB)."""
    lines = []
    for pid, name in processes if processes is not None else app_processes():
        parts = breakdown(pid)
        total = sum(p for p, _ in parts.values())
        files = sum(p for k, (p, _) in parts.items() if k not in ("anon", "[heap]", "[stack]", "shared memory", "[kernel]"))
        biggest = sorted(parts.items(), key=lambda kv: -kv[1][0])[:top]
        shown = ", ".join(f"{k} {p / 1024:.1f}/{d / 1024:.1f}" for k, (p, d) in biggest)
        lines.append(f"  {name} (pid {pid}): {total / 1024:.1f} MiB PSS, file-backed {files / 1024:.1f}; {shown}")
    return lines
