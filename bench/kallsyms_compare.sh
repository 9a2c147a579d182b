#!/usr/bin/env bash
# elfsieve-kallsyms next to the kernel's own pipeline, as whole processes in one hyperfine run (interleaved by
# hyperfine's repetitions, medians reported), on one vmlinux:
#   generate: `elfsieve-kallsyms FLAGS VMLINUX` vs `nm -n VMLINUX | <6.1 mksysmap filter> > map; scripts/kallsyms FLAGS map`
#             (link-vmlinux.sh's mksysmap + kallsyms steps; scripts/kallsyms built here from Debian's linux-source-6.1)
#   verify:   `elfsieve-kallsyms --verify VMLINUX` vs link-vmlinux.sh's final check, `mksysmap vmlinux System.map` and
#             `cmp -s System.map .tmp_vmlinux.kallsymsN.syms` (the previous pass's map: here the same map, so cmp
#             reads both to the end, its slowest case)
# Both .S outputs are compared byte for byte first: a figure for a tool that prints something else means nothing.
# Usage: bench/kallsyms_compare.sh [BUILD_DIR] [VMLINUX [CONFIG]]
#   BUILD_DIR: a build with bin/elfsieve-kallsyms (default build/release). VMLINUX: default Debian's 45 MB ppc64le
#   vmlinux from corpus/cache (`corpus/regenerate --cache`), else the corpus ppc64 build's. Flags come from CONFIG
#   (default: the config next to VMLINUX). Prints a Markdown table; exit 1 if the outputs differ.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build/release}
tool=$build/bin/elfsieve-kallsyms
[ -x "$tool" ] || { echo "kallsyms_compare: $tool not built (cmake --build $build --target elfsieve-kallsyms)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "kallsyms_compare: hyperfine missing (apt-get install hyperfine)" >&2; exit 2; }
src=/usr/src/linux-source-6.1.tar.xz
[ -f "$src" ] || { echo "kallsyms_compare: $src missing (apt-get install linux-source-6.1)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cache_vmlinux=$(ls "$root"/corpus/cache/ppc64le/boot/vmlinux-* 2>/dev/null | head -n 1 || true)
vmlinux=${2:-}
config=${3:-}
if [ -z "$vmlinux" ]; then
  if [ -n "$cache_vmlinux" ]; then
    vmlinux=$cache_vmlinux
    config=${config:-$(ls "$root"/corpus/cache/ppc64le/boot/config-* | head -n 1)}
  else
    xz -dc "$root/corpus/ppc64/vmlinux.xz" >"$work/vmlinux"
    vmlinux=$work/vmlinux
    config=${config:-$root/corpus/ppc64/config}
  fi
fi
[ -n "$config" ] || config=$(dirname "$vmlinux")/config
flags=()
grep -q '^CONFIG_KALLSYMS_ALL=y' "$config" && flags+=(--all-symbols)
grep -q '^CONFIG_KALLSYMS_ABSOLUTE_PERCPU=y' "$config" && flags+=(--absolute-percpu)
grep -q '^CONFIG_KALLSYMS_BASE_RELATIVE=y' "$config" && flags+=(--base-relative)

tar -xJf "$src" -C "$work" --wildcards '*/scripts/kallsyms.c' '*/scripts/mksysmap'
cc -O2 -o "$work/kallsyms" "$work"/linux-source-6.1/scripts/kallsyms.c
# scripts/mksysmap of 6.1 is `$NM -n $1 | grep -v ... > $2`; run it as link-vmlinux.sh does, with NM=nm.
cat >"$work/pipeline" <<EOF
#!/bin/sh
NM=nm sh $work/linux-source-6.1/scripts/mksysmap "\$1" $work/map
$work/kallsyms ${flags[*]} $work/map
EOF
cat >"$work/check" <<EOF
#!/bin/sh
NM=nm sh $work/linux-source-6.1/scripts/mksysmap "\$1" $work/System.map
cmp -s $work/System.map $work/map
EOF
chmod +x "$work/pipeline" "$work/check"

"$work/pipeline" "$vmlinux" >"$work/reference.S"
"$tool" "${flags[@]}" "$vmlinux" >"$work/elfsieve.S"
if ! cmp -s "$work/reference.S" "$work/elfsieve.S"; then
  echo "kallsyms_compare: elfsieve-kallsyms ${flags[*]} differs from the pipeline on $vmlinux" >&2
  exit 1
fi
"$tool" --verify "$vmlinux" >/dev/null

hyperfine -N --warmup 2 --runs "${RUNS:-15}" --export-json "$work/gen.json" \
  -n pipeline "$work/pipeline $vmlinux" -n elfsieve "$tool ${flags[*]} $vmlinux" >&2
hyperfine -N --warmup 2 --runs "${RUNS:-15}" --export-json "$work/verify.json" \
  -n cmp "$work/check $vmlinux" -n elfsieve "$tool --verify $vmlinux" >&2

python3 - "$work/gen.json" "$work/verify.json" "$vmlinux" "$(stat -c %s "$vmlinux")" "${flags[*]}" <<'EOF'
import json, statistics, sys
gen, ver, path, size, flags = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def medians(p):
    rs = json.load(open(p))["results"]
    # hyperfine records each run's wall time, but only the mean user and system times
    return [(r["command"], statistics.median(r["times"]), r["user"] + r["system"]) for r in rs]
print(f"vmlinux: {path} ({size / 1e6:.1f} MB), flags: {flags or '(none)'}\n")
print("| step | reference command | wall (median) | cpu (mean) | elfsieve-kallsyms wall | cpu | wall ratio | cpu ratio |")
print("|---|---|---|---|---|---|---|---|")
for step, p, ref in (("generate .S", gen, "`nm -n \\| mksysmap \\| scripts/kallsyms`"),
                     ("verify", ver, "`mksysmap` + `cmp` of two System.map")):
    (_, rw, rc), (_, ew, ec) = medians(p)
    print(f"| {step} | {ref} | {rw * 1e3:.1f} ms | {rc * 1e3:.1f} ms | {ew * 1e3:.1f} ms | {ec * 1e3:.1f} ms "
          f"| {ew / rw:.3f} ({rw / ew:.1f}x) | {ec / rc:.3f} ({rc / ec:.1f}x) |")
EOF
