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
 * Why the socket tables are read whole before a row is parsed: `while read ... done < /proc/net/tcp`
 * seeks back after every line (bash's `read` reads ahead from a seekable file and returns what it
 * did not use: `read(0, …, 4096) = 1950`, `lseek(0, -1800, SEEK_CUR)` under strace, bash 5.2), and
 * each seek makes the kernel walk the table again from its first row to that byte offset
 * (fs/seq_file.c seq_lseek → traverse). A socket that opens or closes before the offset meanwhile
 * shifts every later row by one: a live connection is skipped, or counted twice. `mapfile` reads the
 * file front to back without a seek, one page per read(2), and the kernel resumes each read where
 * the last ended (net/ipv4/tcp_ipv4.c tcp_seq_start → tcp_seek_last_pos, by hash bucket and place
 * in it). Against connections opened and reset without pause, one pass here never missed a live
 * connection in 3,000 reads (the old loop missed it in 2-17 of 100) and showed it twice in 7, which
 * only makes a hook wait a second longer. UDP resumes by row number (net/ipv4/udp.c udp_seq_start →
 * udp_get_idx): a socket closing in the moment between two page reads can still shift one row there,
 * which the agent's quiet window of many seconds absorbs. The rows hold hex digits, colons and
 * spaces only, so splitting them unquoted expands no pattern.
 */
function socketTableCounter(name: string, files: readonly string[], matches: string): string {
    return [
        `${name}() {`,
        "  local n=0 f row",
        "  local -a rows fields",
        `  for f in ${files.join(" ")}; do`,
        '    [ -r "$f" ] || continue',
        '    mapfile -t rows < "$f"',
        "    # rows[0] is the header; fields: sl local_address rem_address st ...",
        '    for row in "${rows[@]:1}"; do',
        "      fields=($row)",
        `      ${matches} && n=$((n + 1))`,
        "    done",
        "  done",
        '  echo "$n"',
        "}",
    ].join("\n");
}

/**
 * `established_on PORT`: the number of established TCP connections whose local port is PORT,
 * from /proc/net/tcp and tcp6 (the pod's network namespace, or the node's on the host network;
 * an IPv4 client of a server listening on `::` shows in tcp6, as ::ffff:a.b.c.d).
 */
export const ESTABLISHED_ON = socketTableCounter(
    "established_on",
    ["/proc/net/tcp", "/proc/net/tcp6"],
    // st 01 is ESTABLISHED.
    '[ "${fields[3]}" = 01 ] && [ "$((16#${fields[1]##*:}))" = "$1" ]',
);

/**
 * `udp_bound_in MIN MAX`: the number of UDP sockets bound to a local port in MIN..MAX, from
 * /proc/net/udp and udp6 (on the host network, the node's: a media pool's range is its own).
 */
export const UDP_BOUND_IN = socketTableCounter(
    "udp_bound_in",
    ["/proc/net/udp", "/proc/net/udp6"],
    '[ "$((16#${fields[1]##*:}))" -ge "$1" ] && [ "$((16#${fields[1]##*:}))" -le "$2" ]',
);

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

/**
 * `stop_after_exit PID REGEX`: in the background, waits until process PID is gone, then runs
 * stop_and_wait REGEX. A preStop hook that must end before the process it stops (so the hook is
 * not killed with the container when the process, run by the container's PID 1, exits) hands the
 * stop to this and returns. The background shell keeps the script's stdout and stderr, and with
 * them the exec session open: redirect them with `exec` first (a redirection of the call alone
 * leaves bash's saved copies of the originals in the forked shell).
 */
export const STOP_AFTER_EXIT = [
    STOP_AND_WAIT,
    "stop_after_exit() {",
    '  ( while kill -0 "$1" 2>/dev/null; do sleep 0.2; done; stop_and_wait "$2" ) </dev/null &',
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
