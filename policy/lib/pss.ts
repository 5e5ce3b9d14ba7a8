// The Pod Security Standards' lists (kubernetes.io/docs/concepts/security/pod-security-standards,
// as the pod-security-admission checks implement them for Kubernetes 1.32+).

/** Capabilities the baseline profile lets a container add (Docker's default set). */
export const BASELINE_CAPABILITIES: readonly string[] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/** Capabilities the restricted profile lets a container add. */
export const RESTRICTED_CAPABILITIES: readonly string[] = ["NET_BIND_SERVICE"];

/** The safe sysctls (namespaced and isolated per pod), 1.32 list. */
export const SAFE_SYSCTLS: readonly string[] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/** SELinux types a container may ask for (container_engine_t since 1.31). */
export const SELINUX_TYPES: readonly string[] = [
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/** Seccomp profile types the restricted profile requires (baseline only forbids Unconfined). */
export const SECCOMP_TYPES: readonly string[] = ["RuntimeDefault", "Localhost"];

/** AppArmor profile types (the appArmorProfile field) the baseline profile accepts. */
export const APPARMOR_TYPES: readonly string[] = ["RuntimeDefault", "Localhost"];

/** The per-container AppArmor annotation (deprecated since 1.30 in favour of the field). */
export const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

/** Whether an AppArmor annotation value is accepted: runtime/default or localhost/<profile>. */
export function appArmorAnnotationAllowed(value: string): boolean {
    return value === "runtime/default" || /^localhost\/.+/.test(value);
}

/** Volume sources the restricted profile allows (inline sources outside this list are not). */
export const RESTRICTED_VOLUME_TYPES: readonly string[] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];
