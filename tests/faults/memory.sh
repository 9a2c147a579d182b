#!/bin/bash
# Output built in memory (issue #10): an ET_REL object whose N non-allocated sections all cover one blob gets a copy
# of the blob per section, so a small input makes a large output. elfsieve used to build the whole output in memory
# (2,000 sections over 1 MiB: 2 GB of memory; 4,000: an uncaught std::bad_alloc, status 134). Now:
#  - 2,000 sections over 64 KiB (a 128 MiB output) under `ulimit -v` of 64 MiB, less address space than the output:
#    it must succeed, give GNU strip's output (same headers and section contents), and peak below 64 MiB of RSS;
#  - 4,000 sections, in place, under every address-space limit from the smallest at which the tool starts at all
#    (measured here; even bounded memory cannot fit) up to the first that suffices: a "memory exhausted"-style error,
#    exit 1, no signal, input intact, nothing left in the directory; then GNU's output.
# GNU strip runs on the same set-ups (the second from its own start-up minimum).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
faults_setup
command -v python3 >/dev/null || faults_skip "python3 is needed to build the overlap objects"
[[ -x /usr/bin/time ]] || faults_skip "/usr/bin/time is needed to measure peak memory"

STRIP=$T/bin/elfsieve-strip
GNU_STRIP=/usr/bin/strip
# AddressSanitizer reserves terabytes of address space and keeps shadow memory: address-space limits and peak RSS
# say nothing about such a build (the g++ build runs this scenario).
if grep -q __asan_init "$STRIP"; then faults_skip "elfsieve-strip is built with AddressSanitizer"; fi

# overlap_object SECTIONS BLOB_BYTES FILE: ELF64 LSB x86_64 ET_REL: the blob after the file header, SECTIONS
# PROGBITS sections .blob.N all covering it, .shstrtab last (where GNU strip puts it).
overlap_object() {
  python3 - "$@" <<'EOF'
import struct, sys
n, blob, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
names = b"\0.shstrtab\0" + b"".join(b".blob.%d\0" % i for i in range(n))
name_off = [names.index(b".blob.%d\0" % i) for i in range(n)]
blob_off = 64
names_off = blob_off + blob
shoff = (names_off + len(names) + 7) & ~7
shnum = n + 2
data = bytearray(shoff + shnum * 64)
data[blob_off:blob_off + blob] = (bytes((i * 7 + 3) & 0xff for i in range(256)) * (blob // 256 + 1))[:blob]
data[names_off:names_off + len(names)] = names
ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
data[0:64] = ident + struct.pack("<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, shnum, n + 1)
def sh(i, name, type_, off, size):
    struct.pack_into("<IIQQQQIIQQ", data, shoff + i * 64, name, type_, 0, 0, off, size, 0, 0, 1, 0)
for i in range(n):
    sh(i + 1, name_off[i], 1, blob_off, blob)
sh(n + 1, 1, 3, names_off, len(names))
open(out, "wb").write(data)
EOF
}

# object_digest FILE: the file header's fields and, per section, its header and contents (SHA-256; for string
# tables the set of strings, whose order is the writer's choice). Equal digests: the same object.
object_digest() {
  python3 - "$1" <<'EOF'
import hashlib, struct, sys
d = open(sys.argv[1], "rb").read()
(e_type, e_machine, e_version, e_entry, e_phoff, e_shoff, e_flags, e_ehsize, e_phentsize, e_phnum, e_shentsize,
 e_shnum, e_shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", d, 16)
print("ehdr", d[:16].hex(), e_type, e_machine, e_version, e_entry, e_phnum, e_flags, e_shnum)
sh = [struct.unpack_from("<IIQQQQIIQQ", d, e_shoff + i * 64) for i in range(e_shnum)]
strtab = sh[e_shstrndx]
def name(off):
    base = strtab[4] + off
    return d[base:d.index(b"\0", base)].decode()
for i, (nm, typ, flags, addr, off, size, link, info, align, entsize) in enumerate(sh):
    body = d[off:off + size] if typ != 8 else b""
    if typ == 3:
        digest = repr(sorted(set(body.split(b"\0")) - {b""}))
    else:
        digest = hashlib.sha256(body).hexdigest()
    print(i, name(nm), typ, flags, addr, size, link, info, align, entsize,
          hashlib.sha256(digest.encode()).hexdigest()[:16])
EOF
}

# min_start_limit PROGRAM: the smallest `ulimit -v` (KiB, in 64 KiB steps) at which PROGRAM --version exits 0.
min_start_limit() {
  local limit
  for ((limit = 4096; limit <= 65536; limit += 64)); do
    if as_caller bash -c 'ulimit -v "$1"; exec "$2" --version' bash "$limit" "$1" >/dev/null 2>&1; then
      echo "$limit"
      return 0
    fi
  done
  echo 0
}

# peak_kib PREFIX: "Maximum resident set size" from /usr/bin/time -v's report in PREFIX.err.
peak_kib() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1.err" | tail -n 1; }

describe_run() {  # PREFIX: "rc N, \"first stderr line\"" (rc only when stderr is empty)
  local line
  line=$(grep -v -e '^[[:space:]]' -e '^Command' "$1.err" | head -n 1)
  if [[ -n $line ]]; then printf 'rc %s, "%s"' "$(rc_of "$1")" "${line//$T\/bin\//}"; else printf 'rc %s' "$(rc_of "$1")"; fi
}

inputs=$T/inputs
mkdir "$inputs"
overlap_object 2000 65536 "$inputs/overlap2000.o"
overlap_object 4000 65536 "$inputs/overlap4000.o"

# ---- 2,000 sections, 128 MiB output, 64 MiB of address space ----
limit=65536
cp "$inputs/overlap2000.o" "$W/in.o" && chmod 0644 "$W/in.o"
[[ $FAULTS_AS == user ]] && chown "$(caller_uid):$(caller_gid)" "$W/in.o"
run_caller "$T/el" bash -c 'ulimit -v "$1"; shift; exec "$@"' bash "$limit" "$STRIP" -g -o out in.o
run_caller "$T/gnu" bash -c 'ulimit -v "$1"; shift; exec "$@"' bash "$limit" "$GNU_STRIP" -g -o gnu.out in.o
out_bytes=$(stat -c %s out 2>/dev/null || echo 0)
gnu_bytes=$(stat -c %s gnu.out 2>/dev/null || echo 0)
echo "output: elfsieve $out_bytes bytes, GNU $gnu_bytes bytes; address-space limit $((limit * 1024)) bytes"
check "2000 sections under ulimit -v ${limit}: elfsieve exits 0" test "$(rc_of "$T/el")" -eq 0
check "the output is larger than the address space (it cannot have been built in memory)" \
  test "$gnu_bytes" -gt $((limit * 1024))
same="differs from GNU's"
if [[ -f out && -f gnu.out ]] && cmp -s out gnu.out; then
  same="byte-identical to GNU's"
elif [[ -f out && -f gnu.out ]]; then
  el_digest=$(object_digest out) && gnu_digest=$(object_digest gnu.out) && [[ -n $el_digest ]] &&
    [[ $el_digest == "$gnu_digest" ]] && same="same headers and section contents as GNU's (string table order differs)"
fi
check "the output equals GNU strip's" test "$same" != "differs from GNU's"
outcome "2,000-section overlap object (128 MiB output), ulimit -v 64 MiB, -g -o" \
  "$(describe_run "$T/gnu"), $gnu_bytes bytes" "$(describe_run "$T/el"), $out_bytes bytes, $same"
rm -f out gnu.out

# Peak memory of the same run, unlimited (the issue's goal: at most 64 MB).
run_caller "$T/el_time" /usr/bin/time -v "$STRIP" -g -o out in.o
run_caller "$T/gnu_time" /usr/bin/time -v "$GNU_STRIP" -g -o gnu.out in.o
el_peak=$(peak_kib "$T/el_time")
gnu_peak=$(peak_kib "$T/gnu_time")
check "peak RSS of elfsieve-strip ≤ 64 MiB (was ${el_peak:-?} KiB)" test "${el_peak:-999999999}" -le 65536
outcome "2,000-section overlap object (128 MiB output), peak RSS" "${gnu_peak:-?} KiB" "${el_peak:-?} KiB"
rm -f out gnu.out in.o

# ---- 4,000 sections in place, from the tool's start-up minimum up ----
# Every limit from the smallest at which the tool starts (even its bounded memory cannot fit there) up, in 64 KiB
# steps, to the first that suffices: each run must end in exit 0 or a clear out-of-memory error with exit 1, never a
# signal, with the input intact and nothing else left in its directory; the first success must give GNU's output.
reference=$T/reference4000.o
"$GNU_STRIP" -g -o "$reference" "$inputs/overlap4000.o" || echo "GNU strip failed on the 4000-section object"
reference_digest=$(object_digest "$reference")
rm -f "$reference"
original=$(sha256sum <"$inputs/overlap4000.o")

# sweep NAME PROGRAM: sets sweep_summary and sweep_failures (runs that broke a rule above).
sweep() {
  local name=$1 program=$2 limit start rc msg dir runs=0 success=none left_behind=0 changed=0 other_status=0 differs=0
  local -A messages=()
  local -a problems=()
  start=$(min_start_limit "$program")
  for ((limit = start; start > 0 && limit < start + 16384; limit += 64)); do
    dir=$W/$name.$limit
    mkdir "$dir" && cp "$inputs/overlap4000.o" "$dir/in.o" && chmod 0644 "$dir/in.o"
    [[ $FAULTS_AS == user ]] && chown -R "$(caller_uid):$(caller_gid)" "$dir"
    cd "$dir" || exit 1
    run_caller "$T/$name.$limit" bash -c 'ulimit -v "$1"; shift; exec "$@"' bash "$limit" "$program" -g in.o
    cd "$W" || exit 1
    runs=$((runs + 1))
    rc=$(rc_of "$T/$name.$limit")
    local left
    left=$(find "$dir" -mindepth 1 ! -name in.o | wc -l)
    ((left == 0)) || { problems+=("$limit KiB: $left files left"); left_behind=$((left_behind + 1)); }
    if ((rc == 0)); then
      [[ "$(object_digest "$dir/in.o")" == "$reference_digest" ]] ||
        { problems+=("$limit KiB: output differs from GNU's"); differs=1; }
      success=$limit
      rm -rf "$dir"
      break
    fi
    ((rc == 1)) || { problems+=("$limit KiB: exit status $rc"); other_status=$((other_status + 1)); }
    [[ "$(sha256sum <"$dir/in.o")" == "$original" ]] || { problems+=("$limit KiB: input changed"); changed=$((changed + 1)); }
    msg=$(head -n 1 "$T/$name.$limit.err" | sed -E -e 's|^[^:]*: ||' -e 's|^in\.o: ||' -e 's|st[[:alnum:]]{6}|stXXXXXX|g')
    messages[$msg]=$((${messages[$msg]:-0} + 1))
    rm -rf "$dir"
  done
  local counts="" m
  for m in "${!messages[@]}"; do counts+="${counts:+, }${messages[$m]}x \"$m\""; done
  sweep_summary="start-up minimum $start KiB; $runs limits: exit 1 with ${counts:-nothing}; first success at $success KiB"
  [[ $success != none && $differs -eq 0 ]] && sweep_summary+=" (GNU's output)"
  ((other_status == 0)) || sweep_summary+="; $other_status runs with another exit status"
  ((changed == 0)) && sweep_summary+="; input intact in every failed run" || sweep_summary+="; input changed in $changed runs"
  ((left_behind == 0)) && sweep_summary+=", nothing left" || sweep_summary+=", files left in the directory after $left_behind runs"
  sweep_failures=("${problems[@]}")
  [[ $success != none ]] || sweep_failures+=("no limit up to start + 16 MiB sufficed")
  sweep_messages=("${!messages[@]}")
}

sweep gnu "$GNU_STRIP"
gnu_summary=$sweep_summary
sweep el "$STRIP"
el_summary=$sweep_summary
echo "elfsieve: $el_summary"
printf 'problem: %s\n' "${sweep_failures[@]}"
check "4000 sections under tight limits: every run ends in exit 0 or 1, input intact, nothing left, GNU's output" \
  test "${#sweep_failures[@]}" -eq 0
bad_messages=0
for m in "${sweep_messages[@]}"; do [[ $m =~ memory\ exhausted|Cannot\ allocate\ memory ]] || bad_messages=1; done
check "4000 sections: every failure says memory ran out" test "$bad_messages" -eq 0 -a "${#sweep_messages[@]}" -gt 0
outcome "4,000-section overlap object (256 MiB output) in place, -g, ulimit -v from the start-up minimum up in 64 KiB steps" \
  "$gnu_summary" "$el_summary"

faults_finish
