#!/bin/bash
# Inputs (issue #10, deliverable 2): what every tool does with an input that is no ordinary file (/dev/zero, a FIFO
# without a writer, a directory) as its object or as any names/list/data file option, and with an input truncated
# while it is read, next to GNU strip/nm/objcopy on the same input. elfsieve must refuse at once with a clear message
# (never block, never read without bound) and report "file truncated" with exit status 1 (every tool since issue
# #11), never end on a signal, and write nothing.
#
# Every command runs under `timeout` (10 s for elfsieve, so a regression fails instead of hanging; 3 s for GNU,
# which is known to block on some of these) and, unless the tool is built with AddressSanitizer, an address-space
# limit of 1 GiB (so reading /dev/zero without end fails instead of filling memory).
# The truncation during the run is deterministic: truncate_shim.c (LD_PRELOAD, compiled here with cc) truncates the
# input right after the tool's first read-only mapping of it (GNU tools: after their first fread of it). A second,
# non-deterministic part truncates a large input from another process at a random moment, 20 times per tool.
. "$(dirname "$0")/lib.sh"
faults_setup

command -v cc >/dev/null || faults_skip "cc is needed to build the truncation shim"
BIN=$T/bin
ELF_TIMEOUT=10
GNU_TIMEOUT=3

# elfsieve tools built with ASan reserve terabytes of address space: no --as limit for them.
limit_for() {
  if grep -q __asan_init "$1" 2>/dev/null; then echo ""; else echo "prlimit --as=$((1 << 30)) --"; fi
}
# shellcheck disable=SC2207
ELF_LIMIT=($(limit_for "$BIN/elfsieve-strip"))
GNU_LIMIT=(prlimit --as=$((1 << 30)) --)

# el PREFIX TOOL ARGS...: elfsieve-TOOL as the caller, bounded. gnu PREFIX CMD ARGS...: a GNU tool, bounded.
el() {
  local prefix=$1 tool=$2
  shift 2
  run_caller "$prefix" timeout "$ELF_TIMEOUT" "${ELF_LIMIT[@]}" "$BIN/elfsieve-$tool" "$@"
}
gnu() {
  local prefix=$1
  shift
  run_caller "$prefix" timeout "$GNU_TIMEOUT" "${GNU_LIMIT[@]}" "$@"
}

# What a run did, for OUTCOME lines: "exit N: first message line" (paths shortened), or how it was stopped.
observed() {
  local prefix=$1 limit=${2:-$ELF_TIMEOUT} rc msg
  rc=$(rc_of "$prefix")
  msg=$(grep -v -e '^truncate_shim:' -e '^bfd plugin' -e '^$' "$prefix.err" | head -n 1 |
    sed -e "s#$BIN/##g" -e "s#$W/##g" -e "s#$T/##g" -e 's#/usr/bin/##g')
  case $rc in
    124) echo "still running after $limit s (stopped by timeout)" ;;
    *)
      if ((rc > 128)); then echo "killed by signal $((rc - 128))"
      else echo "exit $rc${msg:+: $msg}"; fi
      ;;
  esac
}
gnu_observed() { observed "$1" "$GNU_TIMEOUT"; }

# A file the caller may write (the truncation shim truncates as the caller).
give() { if [[ $FAULTS_AS == user ]]; then chown "$(caller_uid):$(caller_gid)" "$@"; fi; }

corpus_module "$W/obj.ko"
give "$W/obj.ko"
printf 'crc7_be\n' >"$W/names"
head -c 64 /dev/urandom >"$W/data"
give "$W/names" "$W/data"
# The kinds of non-ordinary input: a character device that never ends, a FIFO nobody writes, a directory.
mkfifo "$W/fifo"
mkdir "$W/dir"
give "$W/fifo" "$W/dir"
chmod 0666 "$W/fifo"

# ---------------------------------------------------------------------------------------------------------------
# 1. Non-ordinary inputs.
# refused PREFIX KIND: elfsieve refused the input at once with a clear message (a directory says so).
refused() {
  local prefix=$1 kind=$2 rc want='is not an ordinary file'
  rc=$(rc_of "$prefix")
  [[ $kind == dir ]] && want='[Ii]s a directory'
  [[ $rc == 1 || $rc == 2 ]] && grep -q "$want" "$prefix.err"
}
no_file() { [[ ! -e $1 ]]; }
same_kind() { [[ $(stat -c %F "$1") == "$2" ]]; }

for kind in zero fifo dir; do
  case $kind in
    zero) K=/dev/zero L=/dev/zero ;;
    fifo) K=$W/fifo L="fifo (no writer)" ;;
    dir) K=$W/dir L="dir (a directory)" ;;
  esac
  k_type=$(stat -c %F "$K")
  P=$W/$kind

  # The object itself.
  rm -f "$W/out"
  el "$P.strip-o" strip -o "$W/out" "$K"
  check "$kind: elfsieve-strip -o refuses it" refused "$P.strip-o" "$kind"
  check "$kind: elfsieve-strip -o writes no output" no_file "$W/out"
  rm -f "$W/out"
  gnu "$P.gnu-strip-o" strip -o "$W/out" "$K"
  outcome "input $L: strip -o out ${L%% *}" "$(gnu_observed "$P.gnu-strip-o")" "$(observed "$P.strip-o")"
  rm -f "$W/out"

  el "$P.strip" strip "$K"
  check "$kind: elfsieve-strip in place refuses it" refused "$P.strip" "$kind"
  check "$kind: elfsieve-strip in place leaves it as it was" same_kind "$K" "$k_type"
  gnu "$P.gnu-strip" strip "$K"
  outcome "input $L: strip ${L%% *} (in place)" "$(gnu_observed "$P.gnu-strip")" "$(observed "$P.strip")"

  el "$P.nm" nm "$K"
  check "$kind: elfsieve-nm refuses it" refused "$P.nm" "$kind"
  gnu "$P.gnu-nm" nm "$K"
  outcome "input $L: nm ${L%% *}" "$(gnu_observed "$P.gnu-nm")" "$(observed "$P.nm")"

  el "$P.undefs" undefs "$K"
  check "$kind: elfsieve-undefs refuses it" refused "$P.undefs" "$kind"
  outcome "input $L: undefs ${L%% *} (GNU: nm, as gen_autoksyms.sh)" "$(gnu_observed "$P.gnu-nm")" \
    "$(observed "$P.undefs")"

  rm -f "$W/out"
  el "$P.fill-obj" fill -s .BTF -d "$W/data" -o "$W/out" "$K"
  check "$kind: elfsieve-fill refuses it as OBJECT" refused "$P.fill-obj" "$kind"
  check "$kind: elfsieve-fill (OBJECT) writes no output" no_file "$W/out"
  rm -f "$W/out"
  gnu "$P.gnu-fill-obj" objcopy --update-section .BTF="$W/data" "$K" "$W/out"
  outcome "input $L: fill -d data -o out ${L%% *} (GNU: objcopy --update-section)" \
    "$(gnu_observed "$P.gnu-fill-obj")" "$(observed "$P.fill-obj")"

  # Every option that reads a file.
  rm -f "$W/out"
  el "$P.fill-data" fill -s .BTF -d "$K" -o "$W/out" "$W/obj.ko"
  check "$kind: elfsieve-fill --data refuses it" refused "$P.fill-data" "$kind"
  check "$kind: elfsieve-fill --data writes no output" no_file "$W/out"
  rm -f "$W/out"
  gnu "$P.gnu-fill-data" objcopy --update-section .BTF="$K" "$W/obj.ko" "$W/out"
  outcome "input $L: fill --data ${L%% *} (GNU: objcopy --update-section .BTF=${L%% *})" \
    "$(gnu_observed "$P.gnu-fill-data")" "$(observed "$P.fill-data")"

  for option in strip-symbols keep-symbols; do
    rm -f "$W/out"
    el "$P.$option" strip --"$option"="$K" -o "$W/out" "$W/obj.ko"
    check "$kind: elfsieve-strip --$option refuses it" refused "$P.$option" "$kind"
    check "$kind: elfsieve-strip --$option writes no output" no_file "$W/out"
    rm -f "$W/out"
    gnu "$P.gnu-$option" objcopy --"$option"="$K" "$W/obj.ko" "$W/out"
    outcome "input $L: strip --$option=${L%% *} (GNU: objcopy, strip has no such option)" \
      "$(gnu_observed "$P.gnu-$option")" "$(observed "$P.$option")"
  done
  rm -f "$W/out"

  # elfsieve's own options (no GNU counterpart).
  el "$P.strip-policy" strip --policy="names:$K" -o "$W/out" "$W/obj.ko"
  check "$kind: elfsieve-strip --policy=names: refuses it" refused "$P.strip-policy" "$kind"
  check "$kind: elfsieve-strip --policy=names: writes no output" no_file "$W/out"
  outcome "input $L: strip --policy=names:${L%% *}" "no such option" "$(observed "$P.strip-policy")"
  el "$P.nm-policy" nm --policy="names:$K" "$W/obj.ko"
  check "$kind: elfsieve-nm --policy=names: refuses it" refused "$P.nm-policy" "$kind"
  outcome "input $L: nm --policy=names:${L%% *}" "no such option" "$(observed "$P.nm-policy")"
  for option in -w -c -T; do
    el "$P.undefs$option" undefs "$option" "$K" "$W/obj.ko"
    check "$kind: elfsieve-undefs $option refuses it" refused "$P.undefs$option" "$kind"
    outcome "input $L: undefs $option ${L%% *}" "no such option" "$(observed "$P.undefs$option")"
  done
done
check "the FIFO is still a FIFO" same_kind "$W/fifo" fifo
check "/dev/zero is still a character device" same_kind /dev/zero "character special file"

# '-' (standard input) stays accepted where elfsieve-undefs documents it, within the size limit.
expect_undefs_stdin() { [[ $(rc_of "$W/stdin") == 0 ]] && grep -q . "$W/stdin.out"; }
printf '%s\n' "$W/obj.ko" >"$W/list"
give "$W/list"
run_caller "$W/stdin" bash -c 'exec "$0" -T - <"$1"' "$BIN/elfsieve-undefs" "$W/list"
check "elfsieve-undefs -T - reads the list from standard input" expect_undefs_stdin
run_caller "$W/stdin-zero" timeout "$ELF_TIMEOUT" "${ELF_LIMIT[@]}" bash -c 'exec "$0" -T - </dev/zero' \
  "$BIN/elfsieve-undefs"
expect_stdin_capped() { [[ $(rc_of "$W/stdin-zero") == 2 ]] && grep -q 'File too large' "$W/stdin-zero.err"; }
check "elfsieve-undefs -T - </dev/zero stops at the size limit" expect_stdin_capped
outcome "input /dev/zero: undefs -T - </dev/zero (standard input)" "no such option" "$(observed "$W/stdin-zero")"

# ---------------------------------------------------------------------------------------------------------------
# 2. Truncated while the tool reads it (deterministic, LD_PRELOAD shim).
cc -shared -fPIC -O1 -o "$T/truncate_shim.so" "$ELFSIEVE_SOURCE_DIR/tests/faults/truncate_shim.c" -ldl ||
  faults_skip "cannot build the truncation shim"
chmod 0755 "$T/truncate_shim.so"
cp "$W/obj.ko" "$T/original.ko"
cp "$W/data" "$T/data.orig"
obj_size=$(stat -c %s "$T/original.ko")
cut_to=$((obj_size / 2)) # the ELF header stays, the section headers (at the end) go

# shimmed PREFIX TARGET SIZE CMD...: CMD as the caller with the shim truncating TARGET to SIZE bytes.
shimmed() {
  local prefix=$1 target=$2 size=$3
  shift 3
  run_caller "$prefix" env LD_PRELOAD="$T/truncate_shim.so" TRUNCATE_SHIM_FILE="$target" TRUNCATE_SHIM_SIZE="$size" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}
fresh_object() {
  rm -f "$W/t.ko" "$W/out"
  cp "$T/original.ko" "$W/t.ko"
  cp "$T/data.orig" "$W/data"
  give "$W/t.ko" "$W/data"
}
shim_acted() { grep -q '^truncate_shim: truncated' "$1.err"; }
reported_truncation() { [[ $(rc_of "$1") == "$2" ]] && grep -q 'file truncated' "$1.err"; }
# The file is as the truncation left it: nothing was written over it (same inode, the first SIZE bytes).
left_as_truncated() {
  [[ $(stat -c %s "$1") == "$2" ]] && cmp -s -n "$2" "$1" "$T/original.ko" && [[ $(inode_of "$1") == "$3" ]]
}

truncation_case() { # NAME STATUS TARGET SIZE MODE(-o|inplace|none) ELFSIEVE_ARGS... -- GNU_ARGS...
  local name=$1 status=$2 target=$3 size=$4 mode=$5 P=$W/trunc-$1 inode full
  shift 5
  local el_args=() gnu_args=()
  while [[ $1 != -- ]]; do el_args+=("$1"); shift; done
  shift
  gnu_args=("$@")
  fresh_object
  inode=$(inode_of "$target")
  full=$(stat -c %s "$target")
  shimmed "$P" "$target" "$size" timeout "$ELF_TIMEOUT" "${el_args[@]}"
  check "truncated $name: the shim truncated the input during the run" shim_acted "$P"
  check "truncated $name: 'file truncated', exit $status" reported_truncation "$P" "$status"
  [[ $mode == -o ]] && check "truncated $name: no output written" no_file "$W/out"
  [[ $mode == inplace ]] && check "truncated $name: the file is left as the truncation left it" \
    left_as_truncated "$target" "$size" "$inode"
  local el_text
  el_text="$(observed "$P")"
  if [[ $mode == -o ]]; then if [[ -e $W/out ]]; then el_text="$el_text, output written"; else el_text="$el_text, no output"; fi; fi
  if [[ $mode == inplace ]]; then
    if left_as_truncated "$target" "$size" "$inode"; then el_text="$el_text, file left as truncated"
    else el_text="$el_text, file now $(stat -c %s "$target") bytes"; fi
  fi
  local gnu_text="no counterpart"
  if ((${#gnu_args[@]} > 0)); then
    fresh_object
    shimmed "$P.gnu" "$target" "$size" timeout "$GNU_TIMEOUT" "${gnu_args[@]}"
    gnu_text="$(gnu_observed "$P.gnu")"
    shim_acted "$P.gnu" || gnu_text="$gnu_text (the shim did not act)"
    if [[ $mode == -o ]]; then if [[ -e $W/out ]]; then gnu_text="$gnu_text, output written"; else gnu_text="$gnu_text, no output"; fi; fi
    if [[ $mode == inplace && $(stat -c %s "$target") != "$size" ]]; then
      gnu_text="$gnu_text, file now $(stat -c %s "$target") bytes"
    fi
  fi
  outcome "truncated to $size of $full bytes during the run: $name" "$gnu_text" "$el_text"
}

truncation_case "nm" 1 "$W/t.ko" "$cut_to" none "$BIN/elfsieve-nm" "$W/t.ko" -- nm "$W/t.ko"
truncation_case "nm (to 0 bytes)" 1 "$W/t.ko" 0 none "$BIN/elfsieve-nm" "$W/t.ko" -- nm "$W/t.ko"
truncation_case "strip -o" 1 "$W/t.ko" "$cut_to" -o "$BIN/elfsieve-strip" -o "$W/out" "$W/t.ko" -- \
  strip -o "$W/out" "$W/t.ko"
truncation_case "strip in place" 1 "$W/t.ko" "$cut_to" inplace "$BIN/elfsieve-strip" "$W/t.ko" -- strip "$W/t.ko"
truncation_case "strip -g in place (to 0 bytes)" 1 "$W/t.ko" 0 inplace "$BIN/elfsieve-strip" -g "$W/t.ko" -- \
  strip -g "$W/t.ko"
truncation_case "undefs" 1 "$W/t.ko" "$cut_to" none "$BIN/elfsieve-undefs" "$W/t.ko" -- nm "$W/t.ko"
truncation_case "fill -o (object truncated)" 1 "$W/t.ko" "$cut_to" -o \
  "$BIN/elfsieve-fill" -s .BTF -d "$W/data" -o "$W/out" "$W/t.ko" -- \
  objcopy --update-section .BTF="$W/data" "$W/t.ko" "$W/out"
truncation_case "fill in place (object truncated)" 1 "$W/t.ko" "$cut_to" inplace \
  "$BIN/elfsieve-fill" -s .BTF -d "$W/data" "$W/t.ko" -- objcopy --update-section .BTF="$W/data" "$W/t.ko"
truncation_case "fill -o (--data truncated)" 1 "$W/data" 16 -o \
  "$BIN/elfsieve-fill" -s .BTF -d "$W/data" -o "$W/out" "$W/obj.ko" -- \
  objcopy --update-section .BTF="$W/data" "$W/obj.ko" "$W/out"

# ---------------------------------------------------------------------------------------------------------------
# 3. Truncated by another process at a random moment (non-deterministic): 20 runs per tool, never a signal.
big=$T/big.o
src=$ELFSIEVE_SOURCE_DIR/corpus/x86_64-tiny/vmlinux
if [[ -f $src ]]; then cp "$src" "$big"; else xz -dc "$src.xz" >"$big"; fi
big_size=$(stat -c %s "$big")

# stress NAME STATUS GNU|EL CMD...: 20 runs of CMD on $W/s.o, each truncated to a random size at a random moment
# within the run's usual duration. Prints "signals truncated completed other".
stress() {
  local kind=$1 status=$2
  shift 2
  local signals=0 truncated=0 completed=0 other=0 rc start took pid
  cp "$big" "$W/s.o"
  give "$W/s.o"
  start=$(date +%s%N)
  as_caller "$@" >/dev/null 2>&1
  took=$((($(date +%s%N) - start) / 1000)) # microseconds
  ((took < 1000)) && took=1000
  for _ in $(seq 1 20); do
    rm -f "$W/out"
    cp "$big" "$W/s.o"
    give "$W/s.o"
    as_caller timeout "$ELF_TIMEOUT" "$@" >"$W/stress.out" 2>"$W/stress.err" &
    pid=$!
    sleep "$(awk -v us=$(((RANDOM * 32768 + RANDOM) % took)) 'BEGIN { printf "%.6f", us / 1e6 }')"
    truncate -s $(((RANDOM * 32768 + RANDOM) % big_size)) "$W/s.o"
    wait "$pid"
    rc=$?
    if ((rc > 128)); then signals=$((signals + 1))
    elif ((rc == 0)); then completed=$((completed + 1))
    elif ((rc == status)) && grep -q 'file truncated' "$W/stress.err"; then truncated=$((truncated + 1))
    else other=$((other + 1)); fi
    # elfsieve: a run that did not complete wrote nothing.
    if [[ $kind == EL && $rc != 0 && -e $W/out ]]; then other=$((other + 1000)); fi
  done
  echo "$signals $truncated $completed $other"
}
describe_stress() { echo "20 runs: $2 'file truncated', $3 completed before the cut, $4 other exits, $1 signals"; }
no_signals() { [[ $1 == 0 && $4 -lt 1000 ]]; }

read -r s t c o < <(stress EL 1 "$BIN/elfsieve-nm" -n "$W/s.o")
check "stress: elfsieve-nm never ends on a signal ($s signals)" no_signals "$s" "$t" "$c" "$o"
el_nm="$(describe_stress "$s" "$t" "$c" "$o")"
read -r s t c o < <(stress GNU 1 nm -n "$W/s.o")
outcome "truncated at a random moment (vmlinux, 20 runs): nm -n" "$(describe_stress "$s" "$t" "$c" "$o")" "$el_nm"

read -r s t c o < <(stress EL 1 "$BIN/elfsieve-strip" -o "$W/out" "$W/s.o")
check "stress: elfsieve-strip -o never ends on a signal and writes nothing when it fails ($s signals)" \
  no_signals "$s" "$t" "$c" "$o"
el_strip="$(describe_stress "$s" "$t" "$c" "$o")"
read -r s t c o < <(stress GNU 1 strip -o "$W/out" "$W/s.o")
outcome "truncated at a random moment (vmlinux, 20 runs): strip -o" "$(describe_stress "$s" "$t" "$c" "$o")" \
  "$el_strip"

faults_finish
