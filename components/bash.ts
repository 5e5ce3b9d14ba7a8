/**
 * Small bash functions that probes and hooks share. They read only what every image here shows
 * (/proc, sockets) with bash builtins and coreutils, so they need nothing installed. Each script
 * that uses one includes its definition; exec probes and hooks run `/bin/bash -c <script>`.
 */

/**
 * Quotes a regex for the processes' command lines: bracketing the first character keeps the
 * pattern from matching the very command that searches for it. Dots are escaped.
 */
export function cmdlinePattern(processName: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(processName)) {
        throw new Error(`process name "${processName}" must be letters, digits, '_', '.' or '-'`);
    }
    return `[${processName[0]}]${processName.slice(1).replace(/\./g, "\\.")}`;
}

/** `pids_of REGEX`: the PIDs whose command line matches, one per line. */
export const PIDS_OF = [
    "pids_of() {",
    "  local f",
    '  for f in $(grep -las -- "$1" /proc/[0-9]*/cmdline); do',
    '    f=${f#/proc/}; echo "${f%/cmdline}"',
    "  done",
    "}",
].join("\n");

/**
 * `age_of PID`: hundredths of a second since the process started, from field 22 of
 * /proc/PID/stat (clock ticks since boot) and /proc/uptime (seconds with two decimals). Fails
 * when the process is gone.
 */
export const AGE_OF = [
    "age_of() {",
    "  local stat up hz",
    '  read -r stat < "/proc/$1/stat" 2>/dev/null || return 1',
    "  # The command name (field 2) may hold spaces: count fields after its closing parenthesis.",
    "  set -- ${stat##*) }",
    "  read -r up _ < /proc/uptime",
    "  hz=$(getconf CLK_TCK 2>/dev/null || echo 100)",
    "  echo $(( 10#${up/./} - ${20} * 100 / hz ))",
    "}",
].join("\n");

/**
 * `established_on PORT`: the number of established TCP connections whose local port is PORT,
 * from /proc/net/tcp and tcp6 (the pod's network namespace, or the node's on the host network).
 */
export const ESTABLISHED_ON = [
    "established_on() {",
    "  local n=0 f sl local remote st rest",
    "  for f in /proc/net/tcp /proc/net/tcp6; do",
    '    [ -r "$f" ] || continue',
    "    while read -r sl local remote st rest; do",
    "      # st 01 is ESTABLISHED; the header line fails this test before its fields are parsed.",
    '      [ "$st" = 01 ] && [ "$((16#${local##*:}))" = "$1" ] && n=$((n + 1))',
    '    done < "$f"',
    "  done",
    '  echo "$n"',
    "}",
].join("\n");

/**
 * `udp_bound_in MIN MAX`: the number of UDP sockets bound to a local port in MIN..MAX, from
 * /proc/net/udp and udp6 (on the host network, the node's: a media pool's range is its own).
 */
export const UDP_BOUND_IN = [
    "udp_bound_in() {",
    "  local n=0 f sl local rest port",
    "  for f in /proc/net/udp /proc/net/udp6; do",
    '    [ -r "$f" ] || continue',
    "    while read -r sl local rest; do",
    '      [ "$sl" = sl ] && continue',
    "      port=$((16#${local##*:}))",
    '      [ "$port" -ge "$1" ] && [ "$port" -le "$2" ] && n=$((n + 1))',
    '    done < "$f"',
    "  done",
    '  echo "$n"',
    "}",
].join("\n");

/**
 * `stop_and_wait REGEX`: sends SIGTERM to the matching processes and returns once they are gone.
 * The kubelet's grace period bounds the wait.
 */
export const STOP_AND_WAIT = [
    PIDS_OF,
    "stop_and_wait() {",
    "  local pids",
    '  pids=$(pids_of "$1")',
    '  [ -n "$pids" ] || return 0',
    "  kill -TERM $pids 2>/dev/null",
    "  while kill -0 $pids 2>/dev/null; do sleep 0.5; done",
    "}",
].join("\n");

/** Joins function definitions and statements into one script. */
export function script(...parts: readonly string[]): string {
    return parts.join("\n");
}

/** Quotes a word for bash: single quotes, with each embedded quote closed, escaped and reopened. */
export function shellQuote(word: string): string {
    return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs a command as PID 1's child and passes SIGTERM and SIGINT on to it, then exits with its
 * status. A process that installs no handler of its own ignores those signals as PID 1 (the
 * kernel drops them), so run directly it would only stop at the kubelet's SIGKILL.
 */
export function forwardSignalsScript(command: readonly string[]): string {
    return script(
        `${command.map(shellQuote).join(" ")} &`,
        "child=$!",
        `trap 'kill -TERM "$child" 2>/dev/null' TERM INT`,
        // wait returns early when a trapped signal arrives; wait again until the child is gone.
        'while :; do wait "$child"; status=$?; kill -0 "$child" 2>/dev/null || break; done',
        'exit "$status"',
    );
}
