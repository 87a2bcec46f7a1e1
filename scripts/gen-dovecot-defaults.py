#!/usr/bin/env python3
"""Regenerates Sources/TernConfig/Dovecot/DovecotDefaults.swift from the installed Dovecot.

- `all`: `doveconf -a` of an empty dovecot.conf (the built-in settings and the built-in services), less the
  header lines, exactly as Dovecot prints it.
- `sections`: `doveconf -a` of one empty namespace (with one mailbox), passdb, userdb and service (with one
  inet/unix/fifo listener each): the defaults of the settings inside those sections.
- `types`: the type of every setting whose default does not show it. Times, sizes, booleans and octal
  modes are recognised from how the default is printed; for a bare number the real doveconf is asked how
  it prints `1k` and `60s` (size, time or plain number).
"""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(HERE, "Sources/TernConfig/Dovecot/DovecotDefaults.swift")

PROBE = """namespace probe {
  mailbox probe {
  }
}
passdb {
  driver = static
}
userdb {
  driver = static
}
service probe {
  executable = probe
  inet_listener probe {
  }
  unix_listener probe-unix {
  }
  fifo_listener probe-fifo {
  }
}
"""

# Where a setting of each section kind goes to be probed: (prefix lines, suffix lines).
WRAP = {
    "": ("", ""),
    "namespace": ("namespace probe {\n", "}\n"),
    "namespace/mailbox": ("namespace probe {\nmailbox probe {\n", "}\n}\n"),
    "passdb": ("passdb {\ndriver = static\n", "}\n"),
    "userdb": ("userdb {\ndriver = static\n", "}\n"),
    "service": ("service imap {\n", "}\n"),
    "service/inet_listener": ("service imap-login {\ninet_listener imap {\n", "}\n}\n"),
    "service/unix_listener": ("service imap {\nunix_listener imap-master {\n", "}\n}\n"),
    "service/fifo_listener": ("service aggregator {\nfifo_listener replication-notify-fifo {\n", "}\n}\n"),
}


def doveconf(tmp, text, *args):
    path = os.path.join(tmp, "dovecot.conf")
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run(["doveconf", "-c", path] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout


def body(text):
    return [l for l in text.splitlines() if not l.startswith("# ")]


def walk(lines, kinds):
    """(kind path, key, default) for every setting line; kinds names the sections by kind only."""
    stack = []
    for line in lines:
        s = line.strip()
        if s.endswith("{"):
            stack.append(s.split()[0])
        elif s == "}":
            stack.pop()
        elif " = " in s or s.endswith(" ="):
            key, _, value = s.partition(" =")
            yield "/".join(stack), key, value[1:] if value.startswith(" ") else value


def classify(tmp, kind, key, default):
    if default in ("yes", "no"):
        return "bool"
    if re.fullmatch(r"\d+ (secs|mins|hours|days|weeks)", default):
        return "time"
    if re.fullmatch(r"\d+ ms", default):
        return "msecs"
    if re.fullmatch(r"\d+ [BkMGT]", default):
        return "size"
    if re.fullmatch(r"0[0-7]+", default):
        return "octal"
    if not re.fullmatch(r"\d+", default):
        return None
    pre, post = WRAP[kind]
    for probe, want, kind_name in (("1k", "1 k", "size"), ("60s", "1 mins", "time"), ("60s", "60000 ms", "msecs")):
        rc, out = doveconf(tmp, pre + f"{key} = {probe}\n" + post, "-n")
        if rc == 0 and any(l.strip() == f"{key} = {want}" for l in out.splitlines()):
            return kind_name
    return "uint"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        version = subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout.split()[0]
        rc, all_text = doveconf(tmp, "", "-a")
        if rc != 0:
            sys.exit("doveconf -a failed")
        all_lines = body(all_text)
        rc, probe_text = doveconf(tmp, PROBE, "-a")
        # Only the probe sections: the blocks named "probe" (and passdb/userdb, which have no name).
        sections, keep, depth = [], False, 0
        for line in body(probe_text):
            if depth == 0 and re.match(r"(namespace probe|passdb|userdb|service probe) \{$", line):
                keep = True
            if keep:
                out = line
                if line.strip() == "driver = static" or line.strip() == "executable = probe":
                    out = line[: line.index("=") + 1] + " "
                sections.append(out)
            if line.endswith("{"):
                depth += 1
            elif line.strip() == "}":
                depth -= 1
            if keep and depth == 0:
                keep = False
        types = {}
        seen = set()
        for lines in (all_lines, sections):
            for kind, key, default in walk(lines, None):
                if kind not in WRAP or (kind, key) in seen:
                    continue
                seen.add((kind, key))
                t = classify(tmp, kind, key, default)
                if t:
                    types[(kind + "/" if kind else "") + key] = t
    with open(OUT, "w") as f:
        f.write(f"// Generated by scripts/gen-dovecot-defaults.py from Dovecot {version} `doveconf -a`. Do not edit.\n\n")
        f.write(f"/// Built-in settings of Dovecot {version}, as `doveconf -a` prints them for an empty dovecot.conf\n")
        f.write("/// (`all`), the defaults inside each kind of section (`sections`), and the type of each setting whose\n")
        f.write("/// default does not show it (`types`, `path type`; everything not listed is a string).\n")
        f.write("enum DovecotDefaults {\n")
        f.write(f'    static let version = "{version}"\n')
        for name, lines in (("all", all_lines), ("sections", sections)):
            f.write(f'    static let {name} = ##"""\n')
            for line in lines:
                f.write(("    " + line).rstrip(" ") + "\n")
            f.write('    """##\n')
        f.write('    static let types = ##"""\n')
        for path in sorted(types):
            f.write(f"    {path} {types[path]}\n")
        f.write('    """##\n')
        f.write("}\n")
    print(f"wrote {OUT} ({len(all_lines)} lines, {len(types)} typed settings)")


if __name__ == "__main__":
    main()
