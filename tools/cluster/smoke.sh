#!/usr/bin/env bash
# Smoke test of a running local cluster (tools/cluster/cluster.sh up): applies a Deployment,
# Services (ClusterIP + LoadBalancer), a hostNetwork DaemonSet on the media nodes, a StatefulSet
# whose claim binds a static PV, a static PV in the default class, a dynamically provisioned PVC,
# a Job and an Ingress; checks they all become Ready/Complete/Bound/have LB status; deletes them
# and the namespace and checks the deletion finishes. Exits non-zero on the first failure.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NS="${1:-licode-smoke}"
k() { "$DIR/cluster.sh" kubectl "$@"; }
pass=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
fail() { echo "FAIL $*" >&2; k -n "$NS" get all,pvc,pv,ingress -o wide >&2 || true; exit 1; }
waitfor() { # waitfor DESCRIPTION SECONDS COMMAND...
  local what="$1" t="$2"; shift 2
  local deadline=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what (after ${t}s)"
    sleep 0.5
  done
  ok "$what"
}
jp() { k -n "$NS" get "$1" -o jsonpath="$2"; }
eq() { [ "$("${@:2}")" = "$1" ]; }

"$DIR/cluster.sh" status >/dev/null || fail "cluster is not up (tools/cluster/cluster.sh up)"
k get nodes --no-headers | awk '$2 != "Ready" {bad=1} END {exit bad}' || fail "not all nodes Ready"
ok "all $(k get nodes --no-headers | wc -l) nodes Ready"

k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $NS}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $NS}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {licode.io/signalling: "true"}
      containers: [{name: web, image: nginx:1.27, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $NS}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb, namespace: $NS}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 443, targetPort: 80}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: media-agent, namespace: $NS}
spec:
  selector: {matchLabels: {app: media-agent}}
  template:
    metadata: {labels: {app: media-agent}}
    spec:
      hostNetwork: true
      dnsPolicy: ClusterFirstWithHostNet
      nodeSelector: {licode.io/media: "true"}
      containers: [{name: agent, image: lynckia/licode:latest}]
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: $NS-static-db}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: licode-static
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: /var/lib/licode/db}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: $NS-static-nfs}
spec:
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteMany]
  storageClassName: standard
  persistentVolumeReclaimPolicy: Retain
  nfs: {server: nfs.example.invalid, path: /exports/recordings}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: recordings, namespace: $NS}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: standard
  volumeName: $NS-static-nfs
  resources: {requests: {storage: 2Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: scratch, namespace: $NS}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: $NS}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 27017}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: $NS}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: mongo
        image: mongo:7
        volumeMounts: [{name: data, mountPath: /data/db}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: licode-static
      resources: {requests: {storage: 1Gi}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: init, namespace: $NS}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: init, image: busybox:1.36, command: ["true"]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: $NS}
spec:
  rules:
  - host: licode.local
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
EOF
ok "applied"

waitfor "default ServiceAccount in new namespace" 30 k -n "$NS" get sa default
waitfor "Deployment web available (2/2)" 60 eq 2 jp deploy/web '{.status.availableReplicas}'
waitfor "Service web has 2 ready endpoints" 60 eq 2 \
  bash -c "$(printf '%q ' "$DIR/cluster.sh") kubectl -n $NS get endpointslices -l kubernetes.io/service-name=web -o json | jq '[.items[].endpoints[]? | select(.conditions.ready)] | length'"
waitfor "Service web-lb has LoadBalancer ingress IP" 60 bash -c "[ -n \"\$($(printf '%q ' "$DIR/cluster.sh") kubectl -n $NS get svc web-lb -o jsonpath='{.status.loadBalancer.ingress[0].ip}')\" ]"
media="$(k get nodes -l licode.io/media=true --no-headers | wc -l)"
waitfor "DaemonSet media-agent ready on $media media nodes" 60 eq "$media" jp ds/media-agent '{.status.numberReady}'
[ "$(jp ds/media-agent '{.status.desiredNumberScheduled}')" = "$media" ] || fail "DaemonSet scheduled on non-media nodes"
while read -r pod podip hostip node; do
  [ "$podip" = "$hostip" ] && [ -n "$podip" ] || fail "hostNetwork pod $pod has podIP '$podip' != hostIP '$hostip'"
  nodeip="$(k get node "$node" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}')"
  [ "$podip" = "$nodeip" ] || fail "hostNetwork pod $pod podIP $podip != node $node InternalIP $nodeip"
done < <(k -n "$NS" get pods -l app=media-agent -o jsonpath='{range .items[*]}{.metadata.name} {.status.podIP} {.status.hostIP} {.spec.nodeName}{"\n"}{end}')
ok "hostNetwork pods have podIP == node InternalIP"
waitfor "StatefulSet db ready (1/1)" 60 eq 1 jp sts/db '{.status.readyReplicas}'
waitfor "PVC data-db-0 Bound to static hostPath PV" 60 eq "$NS-static-db" jp pvc/data-db-0 '{.spec.volumeName}'
waitfor "PVC data-db-0 phase Bound" 30 eq Bound jp pvc/data-db-0 '{.status.phase}'
waitfor "PVC recordings Bound to static nfs PV (default class)" 60 eq "Bound $NS-static-nfs" jp pvc/recordings '{.status.phase} {.spec.volumeName}'
waitfor "PVC scratch dynamically provisioned + Bound (default class)" 60 eq Bound jp pvc/scratch '{.status.phase}'
[ "$(jp pvc/scratch '{.spec.storageClassName}')" = standard ] || fail "default StorageClass not applied to PVC scratch"
waitfor "Job init Complete" 60 eq True jp job/init '{.status.conditions[?(@.type=="Complete")].status}'
waitfor "Ingress web has LoadBalancer ingress IP" 60 bash -c "[ -n \"\$($(printf '%q ' "$DIR/cluster.sh") kubectl -n $NS get ingress web -o jsonpath='{.status.loadBalancer.ingress[0].ip}')\" ]"

k -n "$NS" delete deploy/web ds/media-agent sts/db job/init svc/web svc/web-lb ingress/web --wait --timeout=60s >/dev/null ||
  fail "deleting workloads"
ok "deleted workloads"
waitfor "all pods gone" 60 eq 0 bash -c "$(printf '%q ' "$DIR/cluster.sh") kubectl -n $NS get pods --no-headers 2>/dev/null | wc -l"
k delete namespace "$NS" --wait --timeout=120s >/dev/null || fail "namespace $NS deletion did not finish"
ok "namespace $NS deleted"
waitfor "dynamic PV of PVC scratch deleted" 60 eq 0 bash -c "$(printf '%q ' "$DIR/cluster.sh") kubectl get pv --no-headers | grep -c '$NS/scratch' || true"
k delete pv "$NS-static-db" "$NS-static-nfs" --wait --timeout=60s >/dev/null || fail "deleting static PVs"
ok "static PVs deleted"
echo "$pass passed, 0 failed"
