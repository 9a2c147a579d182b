# Shared by the fault scenarios (tests/faults/*.sh, ctest label "faults"). Each scenario runs twice: with
# FAULTS_AS=root (the tools run as root, as in packaging) and FAULTS_AS=user (the tools run as an unprivileged
# user through setpriv, as in a developer's build). Set-up that needs privileges (chown, foreign owners) is done
# by the script itself as root; only the commands under test run as the caller.
#
# Environment (set by tests/CMakeLists.txt): ELFSIEVE_BIN_DIR (the built tools), ELFSIEVE_SOURCE_DIR, FAULTS_AS.
# A scenario sources this file, calls faults_setup, runs its checks with `check`, and ends with `faults_finish`.
# Exit status: 0 all checks passed, 1 a check failed, 77 skipped (ctest SKIP_RETURN_CODE).
set -uo pipefail

faults_failures=0
faults_user_uid=65534
faults_user_gid=65534

faults_skip() {
  echo "SKIP: $*"
  exit 77
}

# T: a fresh directory (0755) holding bin/ (copies of the tools and of GNU strip, runnable by anyone) and w/ (the
# caller's working directory, owned by the caller).
faults_setup() {
  : "${ELFSIEVE_BIN_DIR:?}" "${ELFSIEVE_SOURCE_DIR:?}" "${FAULTS_AS:?}"
  if [[ $(id -u) -ne 0 ]]; then
    [[ $FAULTS_AS == user ]] || faults_skip "the root variant needs root"
    # Not root: the tools run as ourselves; scenarios needing a foreign owner skip themselves (faults_need_root).
    faults_user_uid=$(id -u)
    faults_user_gid=$(id -g)
  fi
  T=$(mktemp -d /tmp/elfsieve-faults.XXXXXX)
  chmod 0755 "$T"
  trap 'rm -rf "$T"' EXIT
  mkdir "$T/bin" "$T/w"
  local tool
  for tool in nm strip undefs fill; do
    [[ -x $ELFSIEVE_BIN_DIR/elfsieve-$tool ]] && install -m 0755 "$ELFSIEVE_BIN_DIR/elfsieve-$tool" "$T/bin/"
  done
  if [[ $FAULTS_AS == user ]]; then chown "$faults_user_uid:$faults_user_gid" "$T/w"; fi
  W=$T/w
  cd "$W" || exit 1
}

# The uid/gid the commands under test run as.
caller_uid() { if [[ $FAULTS_AS == user ]]; then echo "$faults_user_uid"; else id -u; fi; }
caller_gid() { if [[ $FAULTS_AS == user ]]; then echo "$faults_user_gid"; else id -g; fi; }

# Scenarios that chown files to someone else need root for the set-up.
faults_need_root() { [[ $(id -u) -eq 0 ]] || faults_skip "set-up needs root: $*"; }

# as_caller CMD...: CMD as the caller under test (the unprivileged user in the user variant), with umask 022.
as_caller() {
  if [[ $FAULTS_AS == user && $(id -u) -eq 0 ]]; then
    setpriv --reuid="$faults_user_uid" --regid="$faults_user_gid" --clear-groups --inh-caps=-all \
      bash -c 'umask 022; exec "$@"' bash "$@"
  else
    (umask 022; exec "$@")
  fi
}

# run_caller OUT_PREFIX CMD...: as_caller, recording stdout, stderr and the exit status in OUT_PREFIX.{out,err,rc}.
# A status above 128 (a signal) is always a failure of the scenario.
run_caller() {
  local prefix=$1
  shift
  as_caller "$@" >"$prefix.out" 2>"$prefix.err"
  local rc=$?
  echo "$rc" >"$prefix.rc"
  if ((rc > 128)); then
    echo "FAIL: $* ended on signal $((rc - 128))"
    faults_failures=$((faults_failures + 1))
  fi
  return 0
}
rc_of() { cat "$1.rc"; }

# check DESCRIPTION COMMAND...: COMMAND must succeed.
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok: $what"
  else
    echo "FAIL: $what"
    faults_failures=$((faults_failures + 1))
  fi
}

# One line of the closing table: scenario | GNU strip | elfsieve.
outcome() { printf 'OUTCOME [%s] %s | GNU: %s | elfsieve: %s\n' "$FAULTS_AS" "$1" "$2" "$3"; }

# Inputs: an x86_64 kernel module of the corpus and a small executable built from tests/data.
corpus_module() {
  local dest=$1 src=$ELFSIEVE_SOURCE_DIR/corpus/x86_64/crc7.ko
  if [[ -f $src ]]; then cp "$src" "$dest"; else xz -dc "$src.xz" >"$dest"; fi
}
small_executable() {
  printf 'int main(void) { return 0; }\n' >"$T/exe.c"
  cc -g -O1 -o "$1" "$T/exe.c"
}

# mode_of / owner_of / links_of FILE
mode_of() { stat -c %a "$1"; }
owner_of() { stat -c %u:%g "$1"; }
links_of() { stat -c %h "$1"; }
inode_of() { stat -c %i "$1"; }

faults_finish() {
  if ((faults_failures > 0)); then
    echo "$faults_failures check(s) failed"
    exit 1
  fi
  echo "all checks passed"
  exit 0
}
