#!/bin/bash
# Output semantics (issue #10, deliverable 1): each scenario is set up twice, identically, once for GNU strip 2.40
# and once for elfsieve; both run as the caller under test, and the OUTCOME line shows what was observed on each
# (exit status, message, mode, owner, inode kept or new, link count, bytes, xattrs, symlinks). The checks assert
# that elfsieve's observation equals GNU's (the inode aside: elfsieve may rename where GNU copies) or that
# elfsieve refused with the file intact, plus what the issue asks beyond GNU (no planted link followed).
source "$(dirname "$0")/lib.sh"
faults_setup

ES=$T/bin/elfsieve-strip
GNU=/usr/bin/strip
as_root=0
[[ $(id -u) -eq 0 ]] && as_root=1

corpus_module "$T/module.ko"
small_executable "$T/exe"
chmod 0644 "$T/module.ko" "$T/exe"
victim=$T/victim # a file nobody should ever change (root-owned, outside W)
echo precious >"$victim"
chmod 0666 "$victim" # even writable by the caller: only a followed link could change it

# A fresh directory owned by the caller, for one run.
case_dir() {
  local d=$W/$1
  mkdir -p "$d"
  chown "$(caller_uid):$(caller_gid)" "$d"
  echo "$d"
}

# The message of a run: the reason at the end of the first line of stderr.
msg_of() {
  local line
  line=$(head -n 1 "$1.err")
  [[ -z $line ]] && return 0
  printf " '%s'" "${line##*: }"
}

# describe PREFIX FILE ORIGINAL INODE_BEFORE: what a run did to FILE.
describe() {
  local prefix=$1 file=$2 orig=$3 inode0=$4 bytes inode
  if [[ ! -e $file ]]; then
    printf 'rc=%s%s, file missing' "$(rc_of "$prefix")" "$(msg_of "$prefix")"
    return
  fi
  if cmp -s "$orig" "$file"; then bytes=unchanged; else bytes=changed; fi
  if [[ $(stat -L -c %i "$file") == "$inode0" ]]; then inode=kept; else inode=new; fi
  printf 'rc=%s%s, mode %s owner %s, inode %s, links %s, bytes %s' "$(rc_of "$prefix")" "$(msg_of "$prefix")" \
    "$(stat -L -c %a "$file")" "$(stat -L -c %u:%g "$file")" "$inode" "$(stat -L -c %h "$file")" "$bytes"
}

# The observation without the inode and the message, for comparing GNU and elfsieve.
essence() { sed -e "s/ '[^']*'//" -e 's/, inode [a-z]*//' <<<"$1"; }

# equal_or_refused GNU_DESC ES_DESC ES_PREFIX FILE ORIGINAL MODE_OWNER_BEFORE
equal_or_refused() {
  [[ $(essence "$1") == "$(essence "$2")" ]] && return 0
  [[ $(rc_of "$3") != 0 ]] && cmp -s "$4" "$5" && [[ "$(mode_of "$4") $(owner_of "$4")" == "$6" ]]
}

# in_place SCENARIO SETUP_FUNCTION [TOOL_ARGS...]: the file made by SETUP_FUNCTION DIR (which prints its path),
# stripped in place by GNU and by elfsieve.
in_place() {
  local scenario=$1 setup=$2
  shift 2
  local g e gf ef gi ei before gd ed
  g=$(case_dir "$scenario.gnu")
  e=$(case_dir "$scenario.es")
  gf=$($setup "$g")
  ef=$($setup "$e")
  cp -p "$ef" "$T/$scenario.orig"
  touch -r "$T/$scenario.orig" "$ef" # reading it for the copy moved its access time
  gi=$(stat -L -c %i "$gf")
  ei=$(stat -L -c %i "$ef")
  before="$(mode_of "$ef") $(owner_of "$ef")"
  run_caller "$T/$scenario.gnu" "$GNU" "$@" "$gf"
  run_caller "$T/$scenario.es" "$ES" "$@" "$ef"
  gd=$(describe "$T/$scenario.gnu" "$gf" "$T/$scenario.orig" "$gi")
  ed=$(describe "$T/$scenario.es" "$ef" "$T/$scenario.orig" "$ei")
  outcome "$scenario" "$gd" "$ed"
  check "$scenario: elfsieve as GNU, or refused with the file intact" \
    equal_or_refused "$gd" "$ed" "$T/$scenario.es" "$ef" "$T/$scenario.orig" "$before"
  check "$scenario: no temporary left" test "$(ls -A "$e" | wc -l)" -eq "$(ls -A "$g" | wc -l)"
  last_gnu=$gf last_es=$ef
}

# --- set-ups (print the path of the file to strip) ---
setuid_foreign() { cp "$T/exe" "$1/f" && chown 1234:5678 "$1/f" && chmod 6755 "$1/f" && echo "$1/f"; }
setuid_own() { cp "$T/exe" "$1/f" && chown "$(caller_uid):$(caller_gid)" "$1/f" && chmod 6755 "$1/f" && echo "$1/f"; }
read_only() { cp "$T/exe" "$1/f" && chown "$(caller_uid):$(caller_gid)" "$1/f" && chmod 0444 "$1/f" && echo "$1/f"; }
foreign_writable() { cp "$T/exe" "$1/f" && chown 1234:5678 "$1/f" && chmod 0666 "$1/f" && echo "$1/f"; }
hard_linked() {
  cp "$T/exe" "$1/f" && chown "$(caller_uid):$(caller_gid)" "$1/f" && ln "$1/f" "$1/g" && echo "$1/f"
}
with_xattrs() {
  cp "$T/exe" "$1/f" && chown "$(caller_uid):$(caller_gid)" "$1/f" && setfattr -n user.x -v 1 "$1/f"
  ((as_root)) && setfattr -n security.elfsieve -v 2 "$1/f"
  echo "$1/f"
}
through_symlink() {
  cp "$T/exe" "$1/t" && chown "$(caller_uid):$(caller_gid)" "$1/t" && ln -s t "$1/l" && echo "$1/l"
}
# Symlinks to the victim at every temporary name a tool could use: the fixed names earlier versions used
# (OUT.elfsieve-tmp) and names of the .NAME.XXXXXX pattern (mkstemp's are unpredictable; a sample is planted).
plant_links() {
  local dir=$1 name=$2 s
  for s in "$name.elfsieve-tmp" ".$name.elfsieve-tmp" ".$name.XXXXXX" ".$name.000000" ".$name.aaaaaa" \
    ".$name.zzzzzz" "$name.tmp" "$name~"; do
    ln -s "$victim" "$dir/$s"
  done
}
planted() { cp "$T/exe" "$1/f" && chown "$(caller_uid):$(caller_gid)" "$1/f" && plant_links "$1" f && echo "$1/f"; }

xattrs_of() { getfattr -d -m - --absolute-names "$1" 2>/dev/null | grep -v '^#' | grep -v '^$' | sort | tr '\n' ' '; }
links_intact() { # DIR NAME: every planted link is still a link to the victim, and the victim is unchanged
  local s
  for s in "$1/$2.elfsieve-tmp" "$1/.$2.elfsieve-tmp" "$1/.$2.XXXXXX" "$1/.$2.000000" "$1/.$2.aaaaaa" \
    "$1/.$2.zzzzzz" "$1/$2.tmp" "$1/$2~"; do
    [[ -L $s && $(readlink "$s") == "$victim" ]] || return 1
  done
  [[ $(cat "$victim") == precious ]]
}

# --- in place ---
if ((as_root)); then
  in_place setuid_in_place_foreign_owner setuid_foreign
  check "setuid_in_place_foreign_owner: setuid/setgid and owner kept, or refused" \
    bash -c '[[ $(stat -c "%a %u:%g" "$1") == "6755 1234:5678" ]]' _ "$last_es"
  in_place foreign_owner_writable foreign_writable
  check "foreign_owner_writable: the owner stays 1234:5678" test "$(owner_of "$last_es")" == 1234:5678
else
  echo "SKIP: foreign-owner scenarios need root for the set-up"
fi
in_place setuid_in_place_own setuid_own
in_place read_only_0444 read_only
# A file the caller may write in a directory the caller may not write (root's, 0755): no temporary can be made.
locked_dir() { mkdir "$1/locked" && cp "$T/exe" "$1/locked/f" && chmod 0666 "$1/locked/f" && echo "$1/locked/f"; }
in_place writable_file_locked_directory locked_dir
in_place hard_links hard_linked
gl=$(dirname "$last_gnu")/g
el=$(dirname "$last_es")/g
outcome hard_links_second_name "second link $(links_of "$gl") links, $(cmp -s "$last_gnu" "$gl" && echo sees the result || echo keeps the old bytes)" \
  "second link $(links_of "$el") links, $(cmp -s "$last_es" "$el" && echo sees the result || echo keeps the old bytes)"
check "hard_links: the second link sees the stripped bytes" cmp -s "$last_es" "$el"
check "hard_links: still 2 links" test "$(links_of "$last_es")" -eq 2

in_place xattrs with_xattrs
gx=$(xattrs_of "$last_gnu")
ex=$(xattrs_of "$last_es")
outcome xattrs_after "xattrs: ${gx:-none}" "xattrs: ${ex:-none}"
check "xattrs: kept as GNU keeps them" test "$gx" == "$ex"
check "xattrs: user.x still there" bash -c '[[ $(getfattr --only-values -n user.x "$1" 2>/dev/null) == 1 ]]' _ "$last_es"

# File capabilities (an xattr the kernel removes on every write).
with_capability() { cp "$T/exe" "$1/f" && chown "$(caller_uid):$(caller_gid)" "$1/f" && setcap cap_net_raw+ep "$1/f" && echo "$1/f"; }
if command -v setcap >/dev/null; then
  in_place file_capabilities with_capability
  caps_of() { local c; c=$(getcap "$1" | cut -d' ' -f2-); echo "capabilities: ${c:-none}"; }
  outcome file_capabilities_after "$(caps_of "$last_gnu")" "$(caps_of "$last_es")"
  if ((as_root)) && [[ $FAULTS_AS == root ]]; then
    check "file_capabilities: kept (root)" test "$(getcap "$last_es" | cut -d' ' -f2-)" == cap_net_raw=ep
  fi
fi

in_place symlink_in_place through_symlink
gt=$(dirname "$last_gnu")
et=$(dirname "$last_es")
outcome symlink_in_place_link "link $([[ -L $gt/l ]] && echo kept || echo replaced), target $(cmp -s "$T/exe" "$gt/t" && echo unchanged || echo stripped)" \
  "link $([[ -L $et/l ]] && echo kept || echo replaced), target $(cmp -s "$T/exe" "$et/t" && echo unchanged || echo stripped)"
check "symlink_in_place: the link stays a link" test -L "$et/l"
check "symlink_in_place: its target is stripped" bash -c '! cmp -s "$1" "$2"' _ "$T/exe" "$et/t"

in_place planted_links_in_place planted
check "planted_links_in_place: every planted link intact, victim unchanged" links_intact "$(dirname "$last_es")" f
outcome planted_links_in_place_victim "$(links_intact "$(dirname "$last_gnu")" f && echo victim unchanged || echo victim CHANGED)" \
  "$(links_intact "$(dirname "$last_es")" f && echo victim unchanged || echo victim CHANGED)"

# -p: dates kept.
dated() { cp "$T/exe" "$1/f" && chown "$(caller_uid):$(caller_gid)" "$1/f" && touch -d '2001-02-03 04:05:06' "$1/f" && echo "$1/f"; }
in_place preserve_dates dated -p
dates_of() { stat -c '%X %Y' "$1"; }
outcome preserve_dates_times "atime/mtime $(dates_of "$last_gnu")" "atime/mtime $(dates_of "$last_es")"
check "preserve_dates: atime and mtime as GNU's" test "$(dates_of "$last_gnu")" == "$(dates_of "$last_es")"

# --- -o ---
# to_new SCENARIO INPUT_SETUP OUTPUT_NAME: strip -o DIR/OUTPUT_NAME INPUT for both; describes the output.
to_output() {
  local scenario=$1 input=$2 out_setup=$3 g e gd ed
  g=$(case_dir "$scenario.gnu")
  e=$(case_dir "$scenario.es")
  $out_setup "$g"
  $out_setup "$e"
  local gi ei
  gi=$(stat -L -c %i "$g/out" 2>/dev/null || echo none)
  ei=$(stat -L -c %i "$e/out" 2>/dev/null || echo none)
  run_caller "$T/$scenario.gnu" "$GNU" -o "$g/out" "$input"
  run_caller "$T/$scenario.es" "$ES" -o "$e/out" "$input"
  gd=$(describe "$T/$scenario.gnu" "$g/out" "$input" "$gi")
  ed=$(describe "$T/$scenario.es" "$e/out" "$input" "$ei")
  outcome "$scenario" "$gd" "$ed"
  last_gnu=$g last_es=$e last_gd=$gd last_ed=$ed
}
no_output() { :; }
setuid_input() { # 6755, owned by someone else when we can set that up
  cp "$T/$1" "$T/$2"
  if ((as_root)); then chown 1234:5678 "$T/$2"; fi
  chmod 6755 "$T/$2"
}
setuid_input exe setuid-exe
setuid_input module.ko setuid-module.ko
to_output o_new_from_setuid_executable "$T/setuid-exe" no_output
check "o_new_from_setuid_executable: mode and owner as GNU's (umask, execute bits, caller)" \
  test "$(essence "$last_gd")" == "$(essence "$last_ed")"
check "o_new_from_setuid_executable: 755, owned by the caller" \
  test "$(stat -c '%a %u' "$last_es/out")" == "755 $(caller_uid)"
to_output o_new_from_setuid_module "$T/setuid-module.ko" no_output
check "o_new_from_setuid_module: 644, owned by the caller" \
  test "$(stat -c '%a %u' "$last_es/out")" == "644 $(caller_uid)"

existing_output() { # the old inode stays pinned by a link outside the case, so a reused inode number is not "kept"
  cp "$T/module.ko" "$1/out"
  chown "$(caller_uid):$(caller_gid)" "$1/out"
  chmod 0640 "$1/out"
  mkdir -p "$W/pins"
  ln "$1/out" "$W/pins/$(basename "$1")"
}
to_output o_existing_file "$T/exe" existing_output
check "o_existing_file: as GNU (a new file: umask mode with execute bits, the caller as owner)" \
  test "$(essence "$last_gd")" == "$(essence "$last_ed")"
check "o_existing_file: written, owned by the caller, no setuid/setgid" \
  bash -c '[[ $(cat "$1.rc") == 0 && $(stat -c "%u" "$2") == "$3" && $(( 0$(stat -c %a "$2") & 06000 )) == 0 ]]' \
  _ "$T/o_existing_file.es" "$last_es/out" "$(caller_uid)"

dangling_output() { ln -s target "$1/out"; }
to_output o_dangling_symlink "$T/exe" dangling_output
outcome o_dangling_symlink_result \
  "link $([[ -L $last_gnu/out ]] && echo kept || echo replaced), target $([[ -f $last_gnu/target ]] && stat -c 'created mode %a owner %u:%g' "$last_gnu/target" || echo absent)" \
  "link $([[ -L $last_es/out ]] && echo kept || echo replaced), target $([[ -f $last_es/target ]] && stat -c 'created mode %a owner %u:%g' "$last_es/target" || echo absent)"
check "o_dangling_symlink: the target is created as GNU creates it, the link stays" \
  bash -c '[[ -L $1/out && -f $1/target && $(stat -c %a "$1/target") == $(stat -c %a "$2/target") ]]' _ "$last_es" "$last_gnu"

# -o onto a symbolic link to an existing file (an attacker's link to a file of root's, say).
linked_output() { ln -s "$victim" "$1/out"; }
to_output o_symlink_to_existing_file "$T/exe" linked_output
link_state() { echo "out $([[ -L $1/out ]] && echo still a link || echo now a regular file), victim $([[ $(cat "$victim") == precious ]] && echo unchanged || echo CHANGED)"; }
outcome o_symlink_to_existing_file_result "$(link_state "$last_gnu")" "$(link_state "$last_es")"
check "o_symlink_to_existing_file: the link is replaced by the output, the file it named untouched" \
  bash -c '[[ ! -L $1/out && -f $1/out && $(cat "$2") == precious ]]' _ "$last_es" "$victim"

planted_output() { plant_links "$1" out; }
to_output o_planted_links "$T/exe" planted_output
check "o_planted_links: every planted link intact, victim unchanged" links_intact "$last_es" out
outcome o_planted_links_victim "$(links_intact "$last_gnu" out && echo victim unchanged || echo victim CHANGED)" \
  "$(links_intact "$last_es" out && echo victim unchanged || echo victim CHANGED)"

# --- elfsieve-undefs -o (no GNU counterpart) ---
UNDEFS=$T/bin/elfsieve-undefs
d=$(case_dir undefs)
plant_links "$d" autoksyms.h
run_caller "$T/undefs" "$UNDEFS" -o "$d/autoksyms.h" "$T/module.ko"
expected=$(as_caller "$UNDEFS" "$T/module.ko")
outcome undefs_o_planted_links "n/a" \
  "rc=$(rc_of "$T/undefs")$(msg_of "$T/undefs"), output $([[ -f $d/autoksyms.h && ! -L $d/autoksyms.h ]] && stat -c 'mode %a' "$d/autoksyms.h" || echo missing), $(links_intact "$d" autoksyms.h && echo victim unchanged || echo victim CHANGED)"
check "undefs -o: planted links intact, victim unchanged" links_intact "$d" autoksyms.h
check "undefs -o: the output holds the list" test "$(cat "$d/autoksyms.h" 2>/dev/null)" == "$expected"
check "undefs -o: a new file gets 0666 minus the umask" test "$(mode_of "$d/autoksyms.h")" == 644

# Two concurrent runs with different contents on one output (large, so that the writes overlap in time): each
# round's result is one run's whole output, both runs succeed, no temporary is left.
d=$(case_dir undefs_concurrent)
seq -f 'alpha_%06g' 1 150000 >"$T/white1"
seq -f 'beta_%06g' 1 150000 >"$T/white2"
chmod 0644 "$T/white1" "$T/white2"
as_caller "$UNDEFS" -w "$T/white1" "$T/module.ko" >"$T/one.expected"
as_caller "$UNDEFS" -w "$T/white2" "$T/module.ko" >"$T/two.expected"
ok_runs=0
for round in 1 2 3 4 5 6 7 8; do
  as_caller "$UNDEFS" -w "$T/white1" -o "$d/out" "$T/module.ko" 2>"$T/c1.err" &
  p1=$!
  as_caller "$UNDEFS" -w "$T/white2" -o "$d/out" "$T/module.ko" 2>"$T/c2.err" &
  p2=$!
  r1=0 r2=0
  wait $p1 || r1=$?
  wait $p2 || r2=$?
  if ((r1 == 0 && r2 == 0)) && { cmp -s "$d/out" "$T/one.expected" || cmp -s "$d/out" "$T/two.expected"; }; then
    ok_runs=$((ok_runs + 1))
  else
    echo "round $round: rc $r1/$r2, output $(wc -c <"$d/out" 2>/dev/null) bytes, not one run's whole output"
  fi
done
outcome undefs_o_two_concurrent_runs "n/a" \
  "$ok_runs of 8 rounds both rc=0 with one whole result, $(($(ls -A "$d" | wc -l) - 1)) temporaries left"
check "undefs -o concurrent: every round whole, both runs succeed" test "$ok_runs" -eq 8
check "undefs -o concurrent: no temporary left" test "$(ls -A "$d")" == out

# --- elfsieve-fill in place (GNU counterpart: objcopy --update-section in place) ---
FILL=$T/bin/elfsieve-fill
printf 'char reserved[64] __attribute__((section(".reserved"))) = {1};\nint main(void) { return reserved[0]; }\n' >"$T/fill.c"
cc -O1 -o "$T/fill-exe" "$T/fill.c"
head -c 16 /dev/urandom >"$T/data"
chmod 0644 "$T/data"
fill_case() {
  cp "$T/fill-exe" "$1/f" && chown "$(caller_uid):$(caller_gid)" "$1/f" && chmod 0750 "$1/f" && ln "$1/f" "$1/g"
  echo "$1/f"
}
g=$(case_dir fill.gnu)
e=$(case_dir fill.es)
gf=$(fill_case "$g")
ef=$(fill_case "$e")
gi=$(inode_of "$gf")
ei=$(inode_of "$ef")
run_caller "$T/fill.gnu" objcopy --update-section ".reserved=$T/data" "$gf"
run_caller "$T/fill.es" "$FILL" --section .reserved --data "$T/data" "$ef"
gd="$(describe "$T/fill.gnu" "$gf" "$T/fill-exe" "$gi"), second link $(cmp -s "$gf" "$g/g" && echo sees the result || echo keeps the old bytes)"
ed="$(describe "$T/fill.es" "$ef" "$T/fill-exe" "$ei"), second link $(cmp -s "$ef" "$e/g" && echo sees the result || echo keeps the old bytes)"
outcome fill_in_place_mode_and_links "(objcopy --update-section) $gd" "$ed"
check "fill in place: rc 0, mode 750, 2 links, the second link sees the result" \
  bash -c '[[ $(cat "$1.rc") == 0 && $(stat -c "%a %h" "$2") == "750 2" ]] && cmp -s "$2" "$3" && ! cmp -s "$2" "$4"' \
  _ "$T/fill.es" "$ef" "$e/g" "$T/fill-exe"
check "fill in place: the data is in the section" bash -c 'cmp -s <(objcopy -O binary --only-section=.reserved "$1" /dev/stdout | head -c 16) "$2"' _ "$ef" "$T/data"
cp "$T/fill-exe" "$T/setuid-fill-exe"
if ((as_root)); then chown 1234:5678 "$T/setuid-fill-exe"; fi
chmod 6755 "$T/setuid-fill-exe"
run_caller "$T/fill.o" "$FILL" --section .reserved --data "$T/data" -o "$e/new" "$T/setuid-fill-exe"
outcome fill_o_new_from_setuid_executable "n/a" "rc=$(rc_of "$T/fill.o")$(msg_of "$T/fill.o"), $([[ -f $e/new ]] && stat -c 'mode %a owner %u:%g' "$e/new" || echo missing)"
check "fill -o: a new file as GNU strip -o creates one (755, caller)" test "$(stat -c '%a %u' "$e/new" 2>/dev/null)" == "755 $(caller_uid)"

faults_finish
