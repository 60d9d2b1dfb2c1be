# Sourced by dev-up.sh, dev-down.sh and _dev-distributed.sh: is a process of ours still running?
# `kill -0` alone also succeeds for a process that has exited but that its parent has not
# collected yet (a zombie): under a parent that never waits for adopted processes (a child
# subreaper, PID 1 of some containers) a stopped `up` looked alive until dev-down killed it.
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  case "$(ps -o stat= -p "$1" 2>/dev/null)" in
    Z*) return 1 ;;
  esac
  return 0
}
