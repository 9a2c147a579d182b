#!/usr/bin/env bash
# Issue #10, deliverables 4 and 5: refuse what cannot be trusted, accept what GNU accepts. Each scenario runs GNU's
# tool and elfsieve's on the same input (as the caller under test) and prints what both did:
#   - a corrupt e_shstrndx (e_shnum 1, e_shstrndx 39), stripped in place: exit 1, file intact;
#   - elfsieve-fill on a section whose range overlaps the section headers, the program headers, the file header or
#     another section: exit 1, file intact (GNU's nearest tool, objcopy --update-section, rewrites the whole file);
#   - a separate debug file (eu-strip -f, else objcopy --only-keep-debug), strip -g: accepted, nm -a as GNU's;
#   - --strip-unneeded on an object with an unreferenced weak undefined and an unreferenced STB_GNU_UNIQUE symbol;
#   - strip -g on an executable with section symbols (the corpus ppc32 vmlinux);
#   - nm on a core file: exit status as GNU nm's.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
faults_setup

BIN=$T/bin
GNU_STRIP=/usr/bin/strip
# GNU nm without clang's LLVM gold plugin (with it, BFD hands unreadable files to the plugin: "no symbols", exit 0).
GNU_NM=(nm)
[[ -f /usr/lib/bfd-plugins/liblto_plugin.so ]] && GNU_NM=(nm --plugin /usr/lib/bfd-plugins/liblto_plugin.so)
command -v python3 >/dev/null || faults_skip "python3 is needed to build the malformed inputs"

# Files the caller works on belong to the caller.
give() { chown "$(caller_uid):$(caller_gid)" "$@"; }

# First line of a run's stderr without the program's path, for the outcome lines.
message_of() { head -n 1 "$1.err" | sed -e "s|$W/||g" -e 's|^[^ :]*/||' -e 's/^\(strip\|elfsieve-[a-z]*\|nm\): //'; }
# "intact" or "changed (A -> B bytes)" comparing FILE with its saved copy ORIG.
state_of() {
  if cmp -s "$1" "$2"; then
    echo "file intact"
  elif [[ $(stat -c %s "$1") == "$(stat -c %s "$2")" ]]; then
    echo "file changed ($(cmp -l "$1" "$2" | wc -l) bytes differ)"
  else
    echo "file changed ($(stat -c %s "$2") -> $(stat -c %s "$1") bytes)"
  fi
}
summary() { echo "exit $(rc_of "$1"), $2${3:+, ${3:-}}"; }

# put_u16 FILE OFFSET VALUE: little-endian 16-bit field.
put_u16() { python3 -c 'import sys,struct; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])); f.write(struct.pack("<H",int(sys.argv[3])))' "$@"; }

# --- 1. corrupt e_shstrndx, stripped in place --------------------------------------------------------------------
small_executable "$W/orig.exe"
put_u16 "$W/orig.exe" 60 1   # e_shnum
put_u16 "$W/orig.exe" 62 39  # e_shstrndx
cp "$W/orig.exe" "$W/gnu.exe"
cp "$W/orig.exe" "$W/es.exe"
give "$W/gnu.exe" "$W/es.exe"
run_caller "$W/g1" "$GNU_STRIP" "$W/gnu.exe"
run_caller "$W/e1" "$BIN/elfsieve-strip" "$W/es.exe"
check "corrupt e_shstrndx: GNU strip refuses (exit 1)" test "$(rc_of "$W/g1")" -eq 1
check "corrupt e_shstrndx: elfsieve-strip exits 1" test "$(rc_of "$W/e1")" -eq 1
check "corrupt e_shstrndx: file intact" cmp -s "$W/es.exe" "$W/orig.exe"
check "corrupt e_shstrndx: the error names e_shstrndx" grep -q "e_shstrndx" "$W/e1.err"
outcome "corrupt e_shstrndx (e_shnum 1, e_shstrndx 39), strip in place" \
  "$(summary "$W/g1" "$(state_of "$W/gnu.exe" "$W/orig.exe")" "$(message_of "$W/g1")")" \
  "$(summary "$W/e1" "$(state_of "$W/es.exe" "$W/orig.exe")" "$(message_of "$W/e1")")"
run_caller "$W/gn1" "${GNU_NM[@]}" "$W/orig.exe"
run_caller "$W/en1" "$BIN/elfsieve-nm" "$W/orig.exe"
check "corrupt e_shstrndx: elfsieve-nm exits as GNU nm" test "$(rc_of "$W/en1")" -eq "$(rc_of "$W/gn1")"
# Every stderr line, joined: "warning: ... corrupt string table index; ...: no symbols".
all_messages() { sed -e "s|$W/||g" -e 's|^[^ :]*/||' -e 's/^\(elfsieve-nm\|nm\): //' "$1.err" | paste -sd ';' | sed 's/;/; /g'; }
outcome "corrupt e_shstrndx, nm" "$(summary "$W/gn1" "$(all_messages "$W/gn1")")" \
  "$(summary "$W/en1" "$(all_messages "$W/en1")")"

# --- 2. elfsieve-fill over headers or another section ------------------------------------------------------------
# set_range FILE SECTION WHERE: point SECTION's sh_offset/sh_size at the section headers, the program headers, the
# file header or the symbol table's bytes.
set_range() {
  python3 - "$@" <<'EOF'
import struct, sys
path, wanted, where = sys.argv[1:4]
b = bytearray(open(path, "rb").read())
phoff, shoff = struct.unpack_from("<QQ", b, 0x20)
shnum, shstrndx = struct.unpack_from("<HH", b, 0x3c)
def header(i): return shoff + 64 * i
names = struct.unpack_from("<Q", b, header(shstrndx) + 0x18)[0]
def name(i):
    n = names + struct.unpack_from("<I", b, header(i))[0]
    return b[n:b.index(0, n)].decode()
index = {name(i): i for i in range(shnum)}
if where == "section-headers": offset, size = shoff + 64, 64
elif where == "program-headers": offset, size = phoff + 8, 16
elif where == "file-header": offset, size = 0, 16
else: offset, size = struct.unpack_from("<Q", b, header(index[".symtab"]) + 0x18)[0] + 8, 16
struct.pack_into("<QQ", b, header(index[wanted]) + 0x18, offset, size)
open(path, "wb").write(b)
EOF
}
printf 'payload' >"$W/data"
for where in section-headers program-headers file-header another-section; do
  small_executable "$W/fill.orig"
  set_range "$W/fill.orig" .comment "$where"
  cp "$W/fill.orig" "$W/fill.es"
  cp "$W/fill.orig" "$W/fill.gnu"
  give "$W/fill.es" "$W/fill.gnu"
  run_caller "$W/ef" "$BIN/elfsieve-fill" --section .comment --data "$W/data" "$W/fill.es"
  run_caller "$W/gf" objcopy --update-section ".comment=$W/data" "$W/fill.gnu"
  check "fill over $where: exit 1" test "$(rc_of "$W/ef")" -eq 1
  check "fill over $where: file intact" cmp -s "$W/fill.es" "$W/fill.orig"
  readable="section headers readable"
  readelf -SW "$W/fill.gnu" >/dev/null 2>&1 || readable="section headers unreadable"
  label="the ${where//-/ }"
  [[ $where == another-section ]] && label="another section's bytes"
  outcome "elfsieve-fill on .comment whose range overlaps $label" \
    "objcopy --update-section: $(summary "$W/gf" "$(state_of "$W/fill.gnu" "$W/fill.orig")" "$readable")" \
    "$(summary "$W/ef" "$(state_of "$W/fill.es" "$W/fill.orig")" "$(message_of "$W/ef")")"
done

# --- 3. a separate debug file -------------------------------------------------------------------------------------
small_executable "$W/split.exe"
if command -v eu-strip >/dev/null; then
  how="eu-strip -f"
  eu-strip -f "$W/split.debug" "$W/split.exe"
else
  how="objcopy --only-keep-debug"
  objcopy --only-keep-debug "$W/split.exe" "$W/split.debug"
fi
cp "$W/split.debug" "$W/split.orig"
run_caller "$W/gd" "$GNU_STRIP" -g -o "$W/split.gnu" "$W/split.debug"
run_caller "$W/ed" "$BIN/elfsieve-strip" -g -o "$W/split.es" "$W/split.debug"
check "separate debug file: elfsieve-strip -g accepts it" test "$(rc_of "$W/ed")" -eq 0
check "separate debug file: input intact" cmp -s "$W/split.debug" "$W/split.orig"
nm_lines() { if [[ -f $1 ]]; then nm -a "$1" 2>/dev/null | wc -l; else echo "no"; fi; }
check "separate debug file: nm -a as GNU's output" \
  cmp -s <(nm -a "$W/split.gnu" 2>&1 | sed 's|split.gnu|X|') <(nm -a "$W/split.es" 2>&1 | sed 's|split.es|X|')
# stderr: GNU warns per moved note section ("lma ... adjusted"); elfsieve says nothing or why it refused.
stderr_of() {
  local n
  n=$(grep -c . "$1.err")
  if ((n == 0)); then echo "nothing on stderr"; else echo "$n stderr line(s), first: $(message_of "$1")"; fi
}
outcome "separate debug file ($how), strip -g -o" \
  "exit $(rc_of "$W/gd"), $(stderr_of "$W/gd"), output nm -a $(nm_lines "$W/split.gnu") lines" \
  "exit $(rc_of "$W/ed"), $(stderr_of "$W/ed"), output nm -a $(nm_lines "$W/split.es") lines$(
    cmp -s <(nm -a "$W/split.gnu" 2>/dev/null) <(nm -a "$W/split.es" 2>/dev/null) && echo " (same as GNU)")"

# --- 4. --strip-unneeded: weak undefined and STB_GNU_UNIQUE --------------------------------------------------------
cat >"$W/t.s" <<'EOF'
	.weak wu_removed
	.weak wu_used
	.section .refs,"a"
	.quad wu_removed
	.data
	.globl uniq_unused
	.type uniq_unused, @gnu_unique_object
uniq_unused: .long 2
	.globl uniq_used
	.type uniq_used, @gnu_unique_object
uniq_used: .long 1
	.text
	.globl g
g:	movq wu_used@GOTPCREL(%rip), %rax
	movl uniq_used(%rip), %eax
	ret
EOF
as -o "$W/t.o" "$W/t.s"
run_caller "$W/gu" "$GNU_STRIP" --strip-unneeded -R .refs -o "$W/t.gnu" "$W/t.o"
run_caller "$W/eu" "$BIN/elfsieve-strip" --strip-unneeded -R .refs -o "$W/t.es" "$W/t.o"
verdict() {  # what happened to the two symbols in FILE
  local w u
  if nm -a "$1" 2>/dev/null | grep -q ' w wu_removed$'; then w="weak undefined kept"; else w="weak undefined removed"; fi
  if nm -a "$1" 2>/dev/null | grep -q ' uniq_unused$'; then u="GNU_UNIQUE kept"; else u="GNU_UNIQUE removed"; fi
  echo "$w, $u"
}
check "--strip-unneeded: exit 0" test "$(rc_of "$W/eu")" -eq 0
check "--strip-unneeded: nm -a as GNU's" cmp -s <(nm -a "$W/t.gnu" 2>&1) <(nm -a "$W/t.es" 2>&1)
check "--strip-unneeded: readelf -s as GNU's" \
  cmp -s <(readelf -sW "$W/t.gnu" | sed 1,3d) <(readelf -sW "$W/t.es" | sed 1,3d)
outcome "--strip-unneeded -R .refs: unreferenced weak undefined / STB_GNU_UNIQUE symbols" \
  "exit $(rc_of "$W/gu"), $(verdict "$W/t.gnu")" "exit $(rc_of "$W/eu"), $(verdict "$W/t.es")"

# --- 5. strip -g on an executable with section symbols -------------------------------------------------------------
vmlinux=$ELFSIEVE_SOURCE_DIR/corpus/ppc32/vmlinux
if [[ -f $vmlinux.xz || -f $vmlinux ]]; then
  if [[ -f $vmlinux ]]; then cp "$vmlinux" "$W/vmlinux"; else xz -dc "$vmlinux.xz" >"$W/vmlinux"; fi
  run_caller "$W/gv" "$GNU_STRIP" -g -o "$W/vmlinux.gnu" "$W/vmlinux"
  run_caller "$W/ev" "$BIN/elfsieve-strip" -g -o "$W/vmlinux.es" "$W/vmlinux"
  section_symbols() { readelf -sW "$1" 2>/dev/null | awk '$4 == "SECTION"' | wc -l; }
  differing=$(diff <(nm -a "$W/vmlinux.gnu" 2>/dev/null) <(nm -a "$W/vmlinux.es" 2>/dev/null) | grep -c '^[<>]')
  check "strip -g vmlinux: nm -a as GNU's" test "$differing" -eq 0
  outcome "strip -g on the ppc32 vmlinux (section symbols)" \
    "exit $(rc_of "$W/gv"), $(section_symbols "$W/vmlinux.gnu") of $(section_symbols "$W/vmlinux") section symbols kept" \
    "exit $(rc_of "$W/ev"), $(section_symbols "$W/vmlinux.es") section symbols kept, nm -a differs in $differing lines"
  rm -f "$W/vmlinux" "$W/vmlinux.gnu" "$W/vmlinux.es"
fi

# --- 6. nm on a core file -------------------------------------------------------------------------------------------
python3 - "$W/core" <<'EOF'
import struct, sys
note = struct.pack("<III", 5, 8, 1) + b"CORE\0\0\0\0" + b"\0" * 8
ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8 + struct.pack(
    "<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56, 2, 64, 0, 0)
phdrs = struct.pack("<IIQQQQQQ", 4, 0, 0x100, 0, 0, len(note), len(note), 4) + struct.pack(
    "<IIQQQQQQ", 1, 5, 0x180, 0x400000, 0, 64, 64, 0x1000)
b = bytearray(ehdr + phdrs)
b += b"\0" * (0x100 - len(b)) + note
b += b"\0" * (0x180 - len(b)) + b"\x90" * 64
open(sys.argv[1], "wb").write(b)
EOF
run_caller "$W/gc" "${GNU_NM[@]}" "$W/core"
run_caller "$W/ec" "$BIN/elfsieve-nm" "$W/core"
check "core file: elfsieve-nm exits as GNU nm" test "$(rc_of "$W/ec")" -eq "$(rc_of "$W/gc")"
outcome "nm on a core file (ET_CORE)" "$(summary "$W/gc" "$(message_of "$W/gc")")" \
  "$(summary "$W/ec" "$(message_of "$W/ec")")"

faults_finish
