#!/usr/bin/env python3
"""Assertions of the qemu module test (tests/kernel/qemu_modules.sh) over the results of its three boots.

  qemu_modules_check.py --kallsyms ELFSIEVE-KALLSYMS WORK   check the boots' results in WORK; exit 1 on any failure
  qemu_modules_check.py --broken WORK                      the same functional checks with the broken probe's
                                                           output in place of the good one's (must fail)
  qemu_modules_check.py --make-broken IN.ko OUT.ko         copy IN.ko with the symbol index of the relocation that
                                                           names crc_ccitt_table changed to crc_ccitt_false_table

Oracles: the kernel (insmod, dmesg, /proc/modules, /proc/kallsyms), GNU nm and GNU strip, and CRC values computed
here bit by bit from the algorithms' definitions (no table, no library). elfsieve-kallsyms --module must equal the
kernel's lines of every unchanged module; on the stripped ones its differences are only counted (it knows exports
from the __ksymtab_<name> labels, which the strips remove; the kernel reads the __ksymtab entries).
"""
import collections
import pathlib
import re
import struct
import subprocess
import sys

VARIANTS = ["unchanged", "crc-ksymtab", "unneeded"]
# Case-sensitive: under a loaded host qemu's timer check may log "..MP-BIOS bug: 8254 timer not connected", which
# is not a kernel BUG.
BAD_LOG = re.compile(r"Unknown symbol|disagrees about version|Exec format error|Oops|WARNING:|\bBUG:|Call Trace|"
                     r"[Ii]nvalid module|Invalid ELF|Kernel panic|general protection fault|unable to handle")
CHECK_INPUT = b"123456789"


# --- CRCs bit by bit -----------------------------------------------------------------------------------------------
def crc_msb(data, width, poly, init):
    """MSB-first CRC of WIDTH bits, no reflection, no final xor."""
    top, mask = 1 << (width - 1), (1 << width) - 1
    crc = init
    for byte in data:
        crc ^= byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & mask if crc & top else (crc << 1) & mask
    return crc


def crc_lsb(data, poly_reflected, init):
    """LSB-first (reflected) CRC, no final xor."""
    crc = init
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly_reflected if crc & 1 else crc >> 1
    return crc


def xz_payload_text():
    return b"".join(b"elfsieve probe line %02d: stripped modules still work\n" % i for i in range(16))


def expected_probe():
    """The values elfsieve_probe must print, computed independently of the kernel."""
    crc32c = lambda data: crc_lsb(data, 0x82F63B78, 0xFFFFFFFF) ^ 0xFFFFFFFF
    payload = xz_payload_text()
    return {
        # crc7_be keeps the 7-bit CRC (x^7 + x^3 + 1) in the top bits of a byte: an 8-bit MSB CRC with poly 0x09 << 1.
        "crc7_be": "0x%02x" % crc_msb(CHECK_INPUT, 8, 0x12, 0),
        "crc7_be_syndrome_table[1]": "0x%02x" % crc_msb(b"\x01", 8, 0x12, 0),
        "crc8_msb_0x07": "0x%02x" % crc_msb(CHECK_INPUT, 8, 0x07, 0),
        "crc8_lsb_0x8c": "0x%02x" % crc_lsb(CHECK_INPUT, 0x8C, 0),
        "crc_ccitt": "0x%04x" % crc_lsb(CHECK_INPUT, 0x8408, 0),
        "crc_ccitt_false": "0x%04x" % crc_msb(CHECK_INPUT, 16, 0x1021, 0xFFFF),
        "crc_ccitt_table[1]": "0x%04x" % crc_lsb(b"\x01", 0x8408, 0),
        "crc_ccitt_false_table[1]": "0x%04x" % crc_msb(b"\x01", 16, 0x1021, 0),
        "crc32c": "0x%08x" % crc32c(CHECK_INPUT),
        "xz_dec_run": "1 out=%d crc32c=0x%08x" % (len(payload), crc32c(payload)),  # 1 = XZ_STREAM_END
        "utf8s_to_utf16s": "7 last=0x20ac",  # G r u-umlaut sharp-s e space euro
        "cp437 0x81": "U+00fc (1)",
        "configfs_register_subsystem": "0",
    }


# --- ELF: the broken module ------------------------------------------------------------------------------------------
def make_broken(src, dst):
    data = bytearray(pathlib.Path(src).read_bytes())
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "expects ELF64 little-endian"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    symtab = next(i for i, s in enumerate(sections) if s[1] == 2)  # SHT_SYMTAB
    _, _, _, _, sym_off, sym_size, strtab, _, _, _ = sections[symtab]
    str_off = sections[strtab][4]

    def name(index):
        start = str_off + struct.unpack_from("<I", data, sym_off + index * 24)[0]
        return bytes(data[start:data.index(b"\0", start)]).decode()

    index = {name(i): i for i in range(sym_size // 24)}
    good, other = index["crc_ccitt_table"], index["crc_ccitt_false_table"]
    for sec in sections:
        if sec[1] != 4 or sec[6] != symtab:  # SHT_RELA over .symtab
            continue
        for off in range(sec[4], sec[4] + sec[5], 24):
            info, = struct.unpack_from("<Q", data, off + 8)
            if info >> 32 == good:
                struct.pack_into("<Q", data, off + 8, (other << 32) | (info & 0xFFFFFFFF))
                pathlib.Path(dst).write_bytes(bytes(data))
                print("broken module: relocation at file offset 0x%x: symbol %d (crc_ccitt_table) -> %d "
                      "(crc_ccitt_false_table)" % (off, good, other))
                return 0
    print("no relocation names crc_ccitt_table in %s" % src, file=sys.stderr)
    return 1


# --- reading the results ---------------------------------------------------------------------------------------------
def read(path):
    return pathlib.Path(path).read_text(errors="replace")


def probe_values(dmesg):
    values = {}
    for line in dmesg.splitlines():
        m = re.search(r"elfsieve_probe: ([^=]+)=(.*)$", line)
        if m:
            values[m.group(1)] = m.group(2).strip()
    return values


def kallsyms_by_module(text):
    out = collections.defaultdict(collections.Counter)
    for line in text.splitlines():
        head, sep, module = line.partition("\t")
        if not sep:
            continue
        parts = head.split()
        if len(parts) == 3:
            out[module.strip("[] ")][(parts[1], parts[2])] += 1
    return out


def nm_names(path):
    """Every named symbol of the file's .symtab, as GNU nm -a lists them (multiset of names)."""
    out = subprocess.run(["nm", "-a", "-P", str(path)], capture_output=True, text=True)
    if out.returncode != 0 and "no symbols" not in out.stderr:
        raise RuntimeError("nm %s: %s" % (path, out.stderr))
    return collections.Counter(line.split()[0] for line in out.stdout.splitlines() if line.split())


def names_of(counter):
    by_name = collections.defaultdict(int)
    for (_, name), n in counter.items():
        by_name[name] += n
    return by_name


def expected_after_strip(unchanged, nm_before, nm_after):
    """The unchanged module's kallsyms lines minus the symbols the strip removed. Returns (expected, ambiguous):
    names that lost some but not all of their same-named symbols are ambiguous (which one went is unknown)."""
    expected, ambiguous = collections.Counter(), set()
    kept_names = {n for n in names_of(unchanged) if nm_after[n] > 0}
    for (t, n), count in unchanged.items():
        if n not in kept_names:
            continue
        if nm_after[n] < nm_before[n]:
            ambiguous.add(n)
        expected[(t, n)] += count
    return expected, ambiguous


def compare_kallsyms(label, got, expected, ambiguous, failures):
    for key in sorted(set(got) | set(expected)):
        g, e = got[key], expected[key]
        if g == e or (key[1] in ambiguous and g <= e):
            continue
        what = "added" if e == 0 else ("missing" if g == 0 else "%d instead of %d" % (g, e))
        failures.append("%s: kallsyms line '%s %s' %s" % (label, key[0], key[1], what))


def check(work, kallsyms_tool, broken):
    work = pathlib.Path(work)
    failures = []
    order = [line.split() for line in read(work / "order").splitlines() if line.strip()]
    results = {v: work / "results" / v for v in VARIANTS}
    loaded, lines, probes, functional = {}, {}, {}, {}
    for v in VARIANTS:
        console = read(results[v] / "console.log")
        dmesg = read(results[v] / "dmesg")
        loaded[v] = set(re.findall(r"elfsieve-boot: insmod (\S+) ok", console))
        for f, m in order:
            if m not in loaded[v]:
                err = re.search(r"elfsieve-boot: insmod %s FAILED: ?(.*)" % re.escape(m), console)
                failures.append("%s: insmod %s failed: %s" % (v, m, err.group(1) if err else "(no message)"))
        listed = {line.split()[0] for line in read(results[v] / "proc-modules").splitlines() if line.strip()}
        for f, m in order:
            if m.replace("-", "_") not in listed:
                failures.append("%s: %s not in /proc/modules" % (v, m))
        for line in dmesg.splitlines() + console.splitlines():
            if BAD_LOG.search(line):
                failures.append("%s: kernel log: %s" % (v, line.strip()))
        lines[v] = kallsyms_by_module(read(results[v] / "proc-kallsyms"))
        probes[v] = probe_values(dmesg)
        functional[v] = read(results[v] / "functional")
    if broken:
        broken_dmesg = read(results["unchanged"] / "broken-dmesg")
        print("broken probe:", " ".join("%s=%s" % kv for kv in probe_values(broken_dmesg).items()))
        probes["unchanged"] = probe_values(broken_dmesg)
        if BAD_LOG.search(broken_dmesg):
            failures.append("broken probe: kernel log: %s" % BAD_LOG.search(broken_dmesg).group(0))

    # Functional results: equal in all variants, and the probe's values (if it was loaded) equal the host's.
    expected = expected_probe() if any(m == "elfsieve_probe" for _, m in order) else {}
    for key, value in expected.items():
        for v in VARIANTS:
            if probes[v].get(key) != value:
                failures.append("%s: elfsieve_probe %s=%s, expected %s" % (v, key, probes[v].get(key), value))
    for v in VARIANTS[1:]:
        if probes[v] != probes["unchanged"]:
            failures.append("%s: elfsieve_probe output differs from the unchanged modules'" % v)
        if functional[v] != functional["unchanged"]:
            diff = set(functional[v].splitlines()) ^ set(functional["unchanged"].splitlines())
            failures.append("%s: functional results differ from the unchanged modules': %s" % (v, sorted(diff)))
    reference = re.search(r"reference seq 1 30000: (\S+)", functional["unchanged"])
    for line in functional["unchanged"].splitlines():
        if re.search(r"failed|: no$", line):
            failures.append("unchanged: functional: %s" % line)
        m = re.match(r"(\S+): ([0-9a-f]{64})  (seq|zstd|lzo|zlib)\.txt$", line)
        if m and reference and m.group(3) != "seq" and m.group(2) != reference.group(1):
            failures.append("unchanged: %s read back differs from what was written" % line)
    # Lines the boot script requires in the functional results (expected-functional, one per line).
    required = work / "expected-functional"
    for fs in read(required).splitlines() if required.exists() else []:
        if fs and fs not in functional["unchanged"]:
            failures.append("functional: no '%s' line" % fs)
    if broken:
        return report(failures, "broken")

    # Kallsyms: per module, the stripped variants' lines are the unchanged ones minus the removed symbols; with
    # --strip-unneeded the same as GNU strip --strip-unneeded of that module (as the kernel would list it).
    table, ambiguous_total = [], 0
    for f, m in order:
        mod = m.replace("-", "_")
        files = {v: work / "modules" / v / f for v in VARIANTS + ["gnu-unneeded"]}
        nm = {v: nm_names(p) for v, p in files.items()}
        base = lines["unchanged"][mod]
        if not base:
            failures.append("unchanged: no /proc/kallsyms lines for %s" % mod)
        row = [m] + ["yes" if m in loaded[v] else "NO" for v in VARIANTS]
        row += [sum(lines[v][mod].values()) for v in VARIANTS]
        for v in VARIANTS[1:]:
            want, ambiguous = expected_after_strip(base, nm["unchanged"], nm[v])
            ambiguous_total += len(ambiguous)
            compare_kallsyms("%s %s" % (v, mod), lines[v][mod], want, ambiguous, failures)
        # GNU strip --strip-unneeded, as the kernel would list it: by the same removal rule from the unchanged
        # boot, and by elfsieve-kallsyms --module (the loader's add_kallsyms rules) on the GNU-stripped file.
        want, ambiguous = expected_after_strip(base, nm["unchanged"], nm["gnu-unneeded"])
        compare_kallsyms("unneeded vs GNU strip %s" % mod, lines["unneeded"][mod], want, ambiguous, failures)
        # And by elfsieve-kallsyms --module on the GNU-stripped file, letter case included (the case says whether
        # the module exports the symbol with EXPORT_SYMBOL; both read that from the __ksymtab entries).
        out = subprocess.run([kallsyms_tool, "--module", str(files["gnu-unneeded"])], capture_output=True, text=True)
        gnu = kallsyms_by_module(out.stdout)[mod]
        if out.returncode != 0 or not gnu:
            failures.append("elfsieve-kallsyms --module %s: status %d %s" % (files["gnu-unneeded"], out.returncode,
                                                                           out.stderr.strip()))
        compare_kallsyms("unneeded vs elfsieve-kallsyms --module of GNU strip %s" % mod, lines["unneeded"][mod], gnu,
                         set(), failures)
        row.append(sum(gnu.values()))
        table.append(row)
        # elfsieve-kallsyms --module against the kernel, exactly, on every variant.
        for v in VARIANTS:
            if not lines[v][mod]:  # not loaded: reported above
                continue
            out = subprocess.run([kallsyms_tool, "--module", str(files[v])], capture_output=True, text=True)
            ours = kallsyms_by_module(out.stdout)[mod]
            compare_kallsyms("elfsieve-kallsyms --module %s %s" % (v, mod), ours, lines[v][mod], set(), failures)

    print("%-18s %-9s %-11s %-9s | %9s %11s %9s %9s" % ("module", "unchanged", "crc-ksymtab", "unneeded",
                                                        "kallsyms:", "unch/crc-ks", "/unneeded", "/GNU"))
    for r in table:
        print("%-18s %-9s %-11s %-9s | %9d %11d %9d %9d" % tuple(r))
    totals = [sum(r[i] for r in table) for i in range(4, 8)]
    print("%-18s %-9s %-11s %-9s | %9d %11d %9d %9d" % tuple(["total (%d modules)" % len(table), "", "", ""] + totals))
    if ambiguous_total:
        print("note: %d names lost only some of their same-named symbols (compared as sub-multisets)" % ambiguous_total)
    if probes["unchanged"]:
        print("elfsieve_probe: " + ", ".join("%s=%s" % kv for kv in probes["unchanged"].items()))
    return report(failures, "check")


def report(failures, what):
    for f in failures[:200]:
        print("FAIL:", f)
    if len(failures) > 200:
        print("FAIL: ... and %d more" % (len(failures) - 200))
    print("%s: %s" % (what, "%d failures" % len(failures) if failures else "all assertions hold"))
    return 1 if failures else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "--make-broken":
        return make_broken(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "--broken":
        return check(argv[2], None, True)
    if len(argv) == 4 and argv[1] == "--kallsyms":
        return check(argv[3], argv[2], False)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
