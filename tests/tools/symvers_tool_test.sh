#!/usr/bin/env bash
# elfsieve-symvers against each cross build's own Module.symvers (written by that build's modpost):
#  - the tool's output over the build's vmlinux and modules, the modules laid out under --root as the build tree
#    had them (symlinks named after modpost's module column), equals the committed file's lines for those files,
#    byte for byte and in order; the same through --files-from and with -j 2;
#  - --check-versions=Module.symvers passes (exit 0, no output) for every module of the build, and for a copy whose
#    __versions CRC of one symbol has one bit flipped, fails (exit 1) with the loader's words naming that symbol;
#    --against the build's vmlinux and modules instead of the file gives the same;
#  - exit statuses and messages: --help, usage errors (2), a missing file, a directory, /dev/null (1).
# Usage: symvers_tool_test.sh ELFSIEVE_SYMVERS SOURCE_DIR WORK_DIR
# Exit status: 0 pass, 1 a failure (each printed), 77 (SKIP_RETURN_CODE) without xz or readelf.
set -uo pipefail
tool=$1
source_dir=$2
work=$3
export LC_ALL=C
for p in xz readelf python3; do
  command -v "$p" > /dev/null || { echo "SKIP: $p not installed"; exit 77; }
done
rm -rf "$work"
mkdir -p "$work"
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect STATUS CMD...: runs CMD, stdout to $work/out, stderr to $work/err; fails unless it exits STATUS.
expect() {
  local want=$1
  shift
  "$@" > "$work/out" 2> "$work/err"
  local got=$?
  [[ $got == "$want" ]] || fail "exit $got (want $want): $* [stderr: $(head -c 300 "$work/err")]"
}

# Flips bit 0 of the CRC of __versions entry $3 (or the last) of module $1 into copy $2; prints that entry's name.
flip_crc() {
  python3 - "$1" "$2" "$3" << 'EOF'
import subprocess, sys
src, dst, entry = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = bytearray(open(src, 'rb').read())
is64 = data[4] == 2
big = data[5] == 2
offset = None
for line in subprocess.run(['readelf', '-SW', src], capture_output=True, text=True, check=True).stdout.splitlines():
    t = line.replace('[ ', '[').split()
    if len(t) > 5 and t[1] == '__versions':
        offset = int(t[4], 16)
word = 8 if is64 else 4
size = None
for line in subprocess.run(['readelf', '-SW', src], capture_output=True, text=True, check=True).stdout.splitlines():
    t = line.replace('[ ', '[').split()
    if len(t) > 5 and t[1] == '__versions':
        size = int(t[5], 16)
entry = min(entry, size // 64 - 1)
at = offset + 64 * entry
data[at + (word - 1 if big else 0)] ^= 1
name = bytes(data[at + word:at + 64]).split(b'\0')[0].decode()
open(dst, 'wb').write(data)
print(name)
EOF
}

builds=(ppc32 ppc64 x86_64-tiny)
for build in "${builds[@]}"; do
  dir=$source_dir/corpus/$build
  symvers=$dir/Module.symvers
  [[ -f $symvers ]] || { fail "$symvers missing"; continue; }
  tree=$work/$build/tree
  mkdir -p "$tree"
  xz -dc "$dir/vmlinux.xz" > "$work/$build/vmlinux"
  # The build's modules (deps/ too when present), each under its modpost module column inside $tree.
  modules=()
  for m in "$dir"/*.ko "$dir"/*.ko.xz "$dir"/deps/*.ko "$dir"/deps/*.ko.xz; do
    [[ -e $m ]] || continue
    base=$(basename "$m")
    base=${base%.xz}
    base=${base%.ko}
    column=$(awk -F'\t' -v b="$base" '{n = split($3, p, "/"); if (p[n] == b) {print $3; exit}}' "$symvers")
    if [[ -z $column ]]; then
      # A module exporting nothing has no line; it still gets checked below.
      column=unlisted/$base
    fi
    suffix=.ko
    [[ $m == *.xz ]] && suffix=.ko.xz
    mkdir -p "$(dirname "$tree/$column")"
    ln -sf "$m" "$tree/$column$suffix"
    modules+=("$tree/$column$suffix")
  done
  ((${#modules[@]} >= 12)) || fail "$build: only ${#modules[@]} modules"

  # Modules in the order modpost wrote them (its modules.order), the committed lines of those files.
  order=$work/$build/order
  awk -F'\t' '$3 != "vmlinux" && !seen[$3]++ {print $3}' "$symvers" > "$order"
  echo "$work/$build/vmlinux" > "$work/$build/files"
  echo vmlinux > "$work/$build/columns"
  while read -r column; do
    for suffix in .ko .ko.xz; do
      if [[ -e $tree/$column$suffix ]]; then
        echo "$tree/$column$suffix" >> "$work/$build/files"
        echo "$column" >> "$work/$build/columns"
      fi
    done
  done < "$order"
  awk -F'\t' 'NR == FNR {have[$0]; next} $3 in have' "$work/$build/columns" "$symvers" > "$work/$build/expected"
  lines=$(wc -l < "$work/$build/expected")
  ((lines >= 2000)) || fail "$build: only $lines committed lines for the corpus files"

  mapfile -t files < "$work/$build/files"
  expect 0 "$tool" --root="$tree" "${files[@]}"
  cmp -s "$work/out" "$work/$build/expected" ||
    fail "$build: output differs from Module.symvers: $(diff "$work/$build/expected" "$work/out" | head -5)"
  expect 0 "$tool" --root "$tree" -j 2 --files-from="$work/$build/files" -o "$work/$build/out-j2"
  cmp -s "$work/$build/out-j2" "$work/$build/expected" || fail "$build: --files-from -j 2 -o output differs"
  # --unsorted: the same lines as a set.
  expect 0 "$tool" --unsorted --root="$tree" "${files[@]}"
  cmp -s <(sort "$work/out") <(sort "$work/$build/expected") || fail "$build: --unsorted gives other lines"

  # Every module passes against its own build's Module.symvers, and against the build's binaries.
  expect 0 "$tool" --check-versions="$symvers" "${modules[@]}"
  [[ ! -s $work/out ]] || fail "$build: --check-versions printed: $(head -3 "$work/out")"
  # --against the build's binaries is --check-versions against their lines of Module.symvers (a module whose
  # exporters are not all in the corpus gets the same "Unknown symbol" lines either way).
  against=(--against="$work/$build/vmlinux")
  for m in "${modules[@]}"; do against+=(--against="$m"); done
  # The corpus holds each build's whole module set (deps/): every module links, silently.
  expect 0 "$tool" --check-versions="$work/$build/expected" "${modules[@]}"
  [[ ! -s $work/out ]] || fail "$build: --check-versions printed: $(head -3 "$work/out")"
  mv "$work/out" "$work/$build/check-expected"
  expect 0 "$tool" --check-versions "${against[@]}" "${modules[@]}"
  cmp -s "$work/out" "$work/$build/check-expected" ||
    fail "$build: --against differs: $(diff "$work/$build/check-expected" "$work/out" | head -5)"
  grep -q "disagrees\|no symbol version" "$work/out" && fail "$build: --against: $(grep -m1 disagrees "$work/out")"

  # One bit of one CRC: exit 1, the loader's two lines for that symbol, nothing else.
  for m in "$dir/crc7.ko" "$dir/libcrc32c.ko" "$dir/fat.ko"; do
    [[ -f $m ]] || continue
    copy=$work/$build/flipped-$(basename "$m")
    symbol=$(flip_crc "$m" "$copy" 1) || { fail "cannot flip a CRC in $m"; continue; }
    [[ $build == ppc64 ]] && symbol=${symbol#.}
    name=$(basename "$m" .ko)
    name=${name//-/_}
    expect 1 "$tool" --check-versions="$symvers" "$copy"
    want="$copy: $name: disagrees about version of symbol $symbol"
    grep -qxF "$want" "$work/out" || fail "$build: no line '$want' in: $(cat "$work/out")"
    [[ $symbol == module_layout ]] ||
      grep -qxF "$copy: $name: Unknown symbol $symbol (err -22)" "$work/out" || fail "$build: no Unknown symbol line"
    n=$(wc -l < "$work/out")
    ((n <= 2)) || fail "$build: $n lines for one flipped CRC: $(cat "$work/out")"
    # A good module next to it: still exit 1, still only the flipped one's lines.
    expect 1 "$tool" --check-versions="$symvers" "$m" "$copy"
    ! grep -q "^$m:" "$work/out" || fail "$build: the unchanged module is reported too"
    # With --against: when the symbol's exporter is one of the corpus files (libcrc32c needs crypto_hash).
    if awk -F'\t' -v s="$symbol" '$2 == s {found = 1} END {exit !found}' "$work/$build/expected"; then
      expect 1 "$tool" --check-versions "${against[@]}" "$copy"
      grep -qxF "$want" "$work/out" || fail "$build: --against: no line '$want'"
    fi
  done
done

# Without --root the module column is the path as given, without .ko (or .ko.xz).
some_module=$source_dir/corpus/x86_64-tiny/crc7.ko
symvers=$source_dir/corpus/x86_64-tiny/Module.symvers
(cd "$source_dir/corpus" && expect 0 "$tool" x86_64-tiny/crc7.ko x86_64-tiny/btrfs.ko.xz)
awk -F'\t' '$3 != "x86_64-tiny/crc7" && $3 != "x86_64-tiny/btrfs" {bad = 1} END {exit bad || NR < 2}' "$work/out" ||
  fail "module column without --root: $(cut -f3 "$work/out" | sort -u | head -3)"
grep -q $'\tcrc7_be\tx86_64-tiny/crc7\tEXPORT_SYMBOL\t$' "$work/out" || fail "no crc7_be line: $(head -2 "$work/out")"

# Exit statuses and messages.
expect 0 "$tool" --help
grep -q "Usage:" "$work/out" || fail "--help prints no usage"
grep -q -- "--check-versions" "$work/out" || fail "--help does not mention --check-versions"
expect 2 "$tool"
expect 2 "$tool" --no-such-option "$some_module"
expect 2 "$tool" -j 0 "$some_module"
expect 2 "$tool" --check-versions
expect 2 "$tool" --check-versions="$symvers"
expect 2 "$tool" --against="$some_module" "$some_module"
expect 2 "$tool" --check-versions="$work/no-such-symvers" "$some_module"
printf '0x1\tsym\tmod\tEXPORT_SYMBOL\n' > "$work/bad.symvers"
expect 2 "$tool" --check-versions="$work/bad.symvers" "$some_module"
grep -q "line 1" "$work/err" || fail "a bad SYMVERS does not name its line: $(cat "$work/err")"
expect 2 "$tool" --files-from="$work/no-such-list"
for bad in "$work/no-such-file.ko" "$work" /dev/null; do
  expect 1 "$tool" "$bad"
  [[ ! -s $work/out ]] || fail "output written for unreadable $bad"
  grep -qF "$bad" "$work/err" || fail "the error does not name $bad: $(cat "$work/err")"
  expect 1 "$tool" --check-versions="$symvers" "$bad"
  grep -qF "$bad" "$work/err" || fail "--check-versions: the error does not name $bad"
  # The readable file next to it is still checked; nothing is written in symvers mode.
  expect 1 "$tool" "$some_module" "$bad"
  [[ ! -s $work/out ]] || fail "output written although $bad is unreadable"
done
: > "$work/empty"
expect 1 "$tool" "$work/empty"
if [[ $(id -u) != 0 ]]; then
  cp "$some_module" "$work/unreadable.ko"
  chmod 000 "$work/unreadable.ko"
  expect 1 "$tool" "$work/unreadable.ko"
fi

if ((failures)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "all passed"
