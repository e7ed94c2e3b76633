#!/bin/sh
# mezz-task-wrapper: the whole per-task executor. A few milliseconds of /bin/sh
# instead of ~120 ms of Node.js per task.
#
# usage: mezz-task-wrapper.sh SANDBOX PROGRAM [ARG...]
#
# The agent spawns this script as the leader of a new process group, cwd =
# SANDBOX, stdout/stderr already opened on SANDBOX/stdout and SANDBOX/stderr.
# The script runs PROGRAM with stdin from /dev/null, forwards SIGTERM to it,
# waits for it, and records how it ended in SANDBOX/exit_status ("exit N" or
# "signal NAME"), then exits with the program's status. The record is written
# in place, with no temporary file and `mv` (an exec, a third of this
# script's cost): the agent, or a restarted one, reads it only once this
# script is gone, and a script killed while writing it leaves an empty or
# missing record, read as none. The agent kills the whole process group; SIGTERM
# forwarding only matters when someone signals this script alone.
#
# With cgroup isolation the agent passes, in MEZZ_CGROUP_PROCS, the
# colon-separated `cgroup.procs` files of the task's cgroups: the script
# writes its own pid to each before it starts PROGRAM, so PROGRAM and all its
# descendants are inside from their first instruction. A failed join fails
# the task (status 125, message on stderr) rather than run it unconfined.
#
# fd 3 is the launch gate (below): PROGRAM starts only after the agent has
# checkpointed the launch and says `go`.
#
# When the agent switches users it passes `UID:GID` in MEZZ_RUN_AS: the
# script stays root (it joins cgroups) and starts PROGRAM through `setpriv`
# as that user, with the user's groups. It then writes exit_status as the
# user too: the sandbox is the user's, and root writing there could be led
# by a planted symlink to any file on the host.
sandbox=$1
shift
run_as=$MEZZ_RUN_AS
unset MEZZ_RUN_AS

# record STATUS: writes the task's end to exit_status, as the task's user when switching.
record() {
  if [ -n "$run_as" ]; then
    setpriv --reuid="${run_as%%:*}" --regid="${run_as#*:}" --init-groups -- /bin/sh -c 'printf "%s\n" "$1" >"$2"' sh "$1" "$sandbox/exit_status"
  else
    printf '%s\n' "$1" >"$sandbox/exit_status"
  fi
}

if [ -n "$MEZZ_CGROUP_PROCS" ]; then
  old_ifs=$IFS
  IFS=:
  for procs in $MEZZ_CGROUP_PROCS; do
    if ! echo $$ 2>/dev/null >"$procs"; then
      echo "mezz-task-wrapper: cannot join cgroup ${procs%/*}; the task did not start" >&2
      record 'exit 125'
      exit 125
    fi
  done
  IFS=$old_ifs
fi
unset MEZZ_CGROUP_PROCS

# The launch gate: the agent writes `go` on fd 3 once the task's launch
# checkpoint is on disk. EOF instead means the agent died (or gave up on the
# launch) first: nobody could find or report this task, so it never starts.
# No exit_status is written: the task did not run.
if ! read -r gate <&3 || [ "$gate" != go ]; then
  echo "mezz-task-wrapper: the agent did not confirm the launch (no checkpoint); the command did not start" >&2
  exit 125
fi
exec 3<&-

child=
interrupted=
on_term() {
  interrupted=1
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null
}
trap on_term TERM

# A simple command put in the background is forked and exec'd directly (setpriv
# then execs PROGRAM): $! is PROGRAM's own pid, which SIGTERM is forwarded to.
if [ -n "$run_as" ]; then
  setpriv --reuid="${run_as%%:*}" --regid="${run_as#*:}" --init-groups -- "$@" </dev/null &
else
  "$@" </dev/null &
fi
child=$!

# `wait` returns early (status > 128) when a trapped signal arrives while the
# program still runs; wait again until it returns because the program ended.
while :; do
  interrupted=
  wait "$child"
  status=$?
  [ -z "$interrupted" ] && break
done

if [ "$status" -gt 128 ] && sig=$(kill -l "$status" 2>/dev/null); then
  result="signal $sig"
else
  result="exit $status"
fi
record "$result"
exit "$status"
